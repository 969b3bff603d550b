"""SQL for the consent log as the merchant API sees it: list and export (it is never changed here)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg

from widget_server.queries.merchant_filters import TimeKey, TimeWindow, Where

# Every canonical field of a receipt, so each row can be verified again.
CONSENT_COLUMNS = """site_id, record_id, event_id, visitor_id, action, surface, purposes, policy_version,
    policy_sha256, language, page_origin, page_path, gpc, user_agent, widget_version, request_id,
    created_at, valid_until, receipt"""
ORDER = "ORDER BY created_at DESC, record_id DESC"


@dataclass(frozen=True)
class ConsentFilter:
    visitor_id: str | None = None
    action: str | None = None
    policy_version: int | None = None
    window: TimeWindow = field(default_factory=TimeWindow)

    def where(self, site_id: uuid.UUID) -> Where:
        where = Where()
        where.add("site_id = {}", site_id)
        if self.visitor_id is not None:
            where.add("visitor_id = {}", self.visitor_id)
        if self.action is not None:
            where.add("action = {}", self.action)
        if self.policy_version is not None:
            where.add("policy_version = {}", self.policy_version)
        self.window.apply(where)
        return where


async def list_consents(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    filt: ConsentFilter,
    *,
    after: TimeKey | None,
    limit: int,
) -> list[asyncpg.Record]:
    where = filt.where(site_id)
    if after is not None:
        where.add("(created_at, record_id) < ({}, {})", *after)
    return list(
        await conn.fetch(
            f"SELECT {CONSENT_COLUMNS} FROM consent_records WHERE {where.sql()} {ORDER} LIMIT {where.param(limit)}",
            *where.args,
        )
    )


async def purpose_keys_found(
    conn: asyncpg.Connection, site_id: uuid.UUID, filt: ConsentFilter
) -> list[str]:
    """Every purpose key among the matching rows, for the CSV header."""
    where = filt.where(site_id)
    rows = await conn.fetch(
        f"""SELECT DISTINCT k FROM consent_records, jsonb_object_keys(purposes) AS k
            WHERE {where.sql()} ORDER BY k""",
        *where.args,
    )
    return [r["k"] for r in rows]


async def open_export(
    conn: asyncpg.Connection, site_id: uuid.UUID, filt: ConsentFilter
) -> asyncpg.cursor.Cursor:
    """A server-side cursor over every matching record, newest first; needs a transaction."""
    where = filt.where(site_id)
    return await conn.cursor(
        f"SELECT {CONSENT_COLUMNS} FROM consent_records WHERE {where.sql()} {ORDER}", *where.args
    )
