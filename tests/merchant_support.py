"""Helpers for the merchant API tests: rows written straight to the database, and key makers."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from tests.conftest import TEST_SECRET, Tenant
from widget_server.domain import receipts
from widget_server.domain.ids import uuid7
from widget_server.services import api_keys

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def read_only_key(db: asyncpg.Connection, tenant: Tenant) -> str:
    _, key = await api_keys.create_key(db, tenant.merchant_id, {"name": "ro", "scopes": ["read"]})
    return key


async def insert_request(
    db: asyncpg.Connection,
    tenant: Tenant,
    *,
    fields: dict[str, Any] | None = None,
    email: str | None = "ada@example.com",
    status: str = "new",
    created_at: dt.datetime | None = None,
    marketing_opt_in: bool = False,
) -> uuid.UUID:
    """One info request as the widget API would store it (email lower-cased)."""
    request_id = uuid7()
    when = created_at or dt.datetime.now(dt.UTC)
    values = (
        fields if fields is not None else {"name": "Ada", "email": email or "", "message": "Hello"}
    )
    await db.execute(
        """INSERT INTO info_requests (site_id, request_id, event_id, visitor_id, fields, email,
               marketing_opt_in, status, spam_reason, policy_version, language, page_origin, page_path,
               created_at, updated_at)
           VALUES ($1, $2, $3, 'visitor_0001', $4, $5, $6, $7, $8, $9, 'en', 'https://shop.example',
                   '/contact', $10, $10)""",
        tenant.site_id,
        request_id,
        uuid.uuid4(),
        values,
        email.lower() if email else None,
        marketing_opt_in,
        status,
        "honeypot" if status == "spam" else None,
        tenant.policy_version,
        when,
    )
    return request_id


async def insert_requests(
    db: asyncpg.Connection, tenant: Tenant, count: int, start: dt.datetime = T0
) -> None:
    """Many requests, one second apart from `start` on."""
    rows = [
        (
            tenant.site_id,
            uuid7(),
            uuid.uuid4(),
            f"visitor_{i:06d}",
            {"name": f"Person {i}", "email": f"p{i}@example.com", "message": f"Message {i}"},
            f"p{i}@example.com",
            False,
            "new",
            tenant.policy_version,
            "en",
            "https://shop.example",
            "/contact",
            start + dt.timedelta(seconds=i),
            start + dt.timedelta(seconds=i),
        )
        for i in range(count)
    ]
    # executemany, not COPY: the test connection's jsonb codec is text-only.
    await db.executemany(
        """INSERT INTO info_requests (site_id, request_id, event_id, visitor_id, fields, email,
               marketing_opt_in, status, policy_version, language, page_origin, page_path, created_at,
               updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        rows,
    )


async def consent_record(
    db: asyncpg.Connection,
    tenant: Tenant,
    *,
    visitor_id: str = "visitor_0001",
    action: str = "accept_all",
    purposes: dict[str, bool] | None = None,
    created_at: dt.datetime | None = None,
    user_agent: str | None = "Mozilla/5.0 (test)",
    receipt: str | None = None,
) -> dict[str, Any]:
    """A signed consent record (or one with the given, possibly wrong, receipt), stored."""
    policy = await db.fetchrow(
        "SELECT version, sha256 FROM policies WHERE site_id = $1 ORDER BY version DESC LIMIT 1",
        tenant.site_id,
    )
    assert policy is not None
    when = created_at or dt.datetime.now(dt.UTC)
    record: dict[str, Any] = {
        "site_id": tenant.site_id,
        "record_id": uuid7(),
        "event_id": uuid.uuid4(),
        "visitor_id": visitor_id,
        "action": action,
        "surface": "banner",
        "purposes": purposes
        if purposes is not None
        else {"necessary": True, "analytics": True, "marketing": True},
        "policy_version": policy["version"],
        "policy_sha256": policy["sha256"],
        "language": "en",
        "page_origin": "https://shop.example",
        "page_path": "/pricing",
        "gpc": False,
        "user_agent": user_agent,
        "widget_version": "1.0.0",
        "request_id": None,
        "created_at": when,
        "valid_until": when + dt.timedelta(days=365),
    }
    record["receipt"] = receipt if receipt is not None else receipts.sign(TEST_SECRET, record)
    columns = list(record)
    await db.execute(
        f"INSERT INTO consent_records ({', '.join(columns)}) "
        f"VALUES ({', '.join(f'${i}' for i in range(1, len(columns) + 1))})",
        *record.values(),
    )
    return record


async def snapshot(db: asyncpg.Connection) -> list[Any]:
    """Everything a write could change, to show that a refused one changed nothing.

    A key's last_used_at is left out: using a key (even for a refused call) is what it records.
    """
    keys = "merchant_id, key_id, lookup, secret_sha256, name, scopes, created_at, revoked_at"
    return [
        [tuple(r) for r in await db.fetch(f"SELECT {columns} FROM {table} ORDER BY 1, 2")]
        for table, columns in (
            ("sites", "*"),
            ("policies", "*"),
            ("api_keys", keys),
            ("info_requests", "*"),
            ("consent_records", "*"),
        )
    ]


def ids(items: Sequence[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]
