"""SQL for sites."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from widget_server.defaults import DEFAULT_THEME, default_form, default_purposes
from widget_server.ids import new_site_key

SITE_KEY_FORMAT = re.compile(r"[A-Za-z0-9_-]{1,64}")
SITE_COLUMNS = """merchant_id, site_id, site_key, name, allowed_origins, default_locale, time_zone,
    form, purposes, texts, theme, consent_expiry_days, retention_days, store_user_agent,
    disabled_at, created_at, updated_at"""


async def create_site(
    conn: asyncpg.Connection,
    merchant_id: uuid.UUID,
    *,
    name: str,
    allowed_origins: Sequence[str],
    default_locale: str = "en",
    time_zone: str = "UTC",
    form: dict[str, Any] | None = None,
    purposes: list[dict[str, Any]] | None = None,
    texts: dict[str, Any] | None = None,
    theme: dict[str, Any] | None = None,
    consent_expiry_days: int = 365,
    retention_days: int = 1095,
    store_user_agent: bool = True,
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO sites (merchant_id, site_id, site_key, name, allowed_origins, default_locale,
                time_zone, form, purposes, texts, theme, consent_expiry_days, retention_days,
                store_user_agent)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
            RETURNING {SITE_COLUMNS}""",
        merchant_id,
        uuid.uuid4(),
        new_site_key(),
        name,
        list(allowed_origins),
        default_locale,
        time_zone,
        form if form is not None else default_form(),
        purposes if purposes is not None else default_purposes(),
        texts or {},
        {**DEFAULT_THEME, **(theme or {})},
        consent_expiry_days,
        retention_days,
        store_user_agent,
    )
    assert row is not None
    return row


async def get_site_by_key(conn: asyncpg.Connection, site_key: str) -> asyncpg.Record | None:
    if not SITE_KEY_FORMAT.fullmatch(site_key):
        return None  # also keeps NUL and other bytes Postgres refuses out of the query
    return await conn.fetchrow(f"SELECT {SITE_COLUMNS} FROM sites WHERE site_key = $1", site_key)


async def find_site(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, name: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""SELECT {SITE_COLUMNS} FROM sites
            WHERE merchant_id = $1 AND name = $2 AND disabled_at IS NULL
            ORDER BY created_at LIMIT 1""",
        merchant_id,
        name,
    )
