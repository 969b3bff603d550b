"""SQL for info requests as the merchant API sees them: list, read, status, delete, export."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import asyncpg

from widget_server.queries.merchant_filters import TimeKey, TimeWindow, Where

REQUEST_COLUMNS = """request_id, status, spam_reason, fields, email, marketing_opt_in, visitor_id,
    policy_version, language, page_origin, page_path, created_at, updated_at"""
ORDER = "ORDER BY created_at DESC, request_id DESC"


@dataclass(frozen=True)
class RequestFilter:
    """What the list and the export select. Without a status, spam is left out unless asked for."""

    status: str | None = None
    window: TimeWindow = field(default_factory=TimeWindow)
    email: str | None = None
    include_spam: bool = False

    def where(self, site_id: uuid.UUID) -> Where:
        # The literal `status <> 'spam'` matches the partial index info_requests_inbox.
        where = Where()
        where.add("site_id = {}", site_id)
        if self.status is not None:
            where.add("status = {}", self.status)
        elif not self.include_spam:
            where.conditions.append("status <> 'spam'")
        if self.email is not None:
            where.add("email = {}", self.email.lower())
        self.window.apply(where)
        return where


async def list_requests(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    filt: RequestFilter,
    *,
    after: TimeKey | None,
    limit: int,
) -> list[asyncpg.Record]:
    where = filt.where(site_id)
    if after is not None:
        where.add("(created_at, request_id) < ({}, {})", *after)
    return list(
        await conn.fetch(
            f"SELECT {REQUEST_COLUMNS} FROM info_requests WHERE {where.sql()} {ORDER} LIMIT {where.param(limit)}",
            *where.args,
        )
    )


async def get_request(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {REQUEST_COLUMNS} FROM info_requests WHERE site_id = $1 AND request_id = $2",
        site_id,
        request_id,
    )


async def set_status(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID, status: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""UPDATE info_requests SET status = $3, updated_at = now()
            WHERE site_id = $1 AND request_id = $2 RETURNING {REQUEST_COLUMNS}""",
        site_id,
        request_id,
        status,
    )


async def delete_request(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID
) -> bool:
    """Delete one request; its consent record stays, being the proof of what was agreed."""
    row = await conn.fetchrow(
        "DELETE FROM info_requests WHERE site_id = $1 AND request_id = $2 RETURNING request_id",
        site_id,
        request_id,
    )
    return row is not None


async def field_names_found(
    conn: asyncpg.Connection, site_id: uuid.UUID, filt: RequestFilter
) -> list[str]:
    """Every `fields` key among the matching rows: the CSV header must be known before the first row."""
    where = filt.where(site_id)
    rows = await conn.fetch(
        f"""SELECT DISTINCT k FROM info_requests, jsonb_object_keys(fields) AS k
            WHERE {where.sql()} ORDER BY k""",
        *where.args,
    )
    return [r["k"] for r in rows]


async def open_export(
    conn: asyncpg.Connection, site_id: uuid.UUID, filt: RequestFilter
) -> asyncpg.cursor.Cursor:
    """A server-side cursor over every matching request, newest first; needs a transaction."""
    where = filt.where(site_id)
    return await conn.cursor(
        f"SELECT {REQUEST_COLUMNS} FROM info_requests WHERE {where.sql()} {ORDER}", *where.args
    )
