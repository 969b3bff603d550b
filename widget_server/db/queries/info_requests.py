"""SQL for info requests sent through the widget form: store, look up, list, change, export."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from widget_server.db.queries.batches import purge_past_retention
from widget_server.db.queries.keyset import (
    BY_TIME,
    Keyset,
    TimeWindow,
    Where,
    fetch_page,
    jsonb_keys,
    open_cursor,
)

COLUMNS = """site_id, request_id, event_id, visitor_id, fields, email, marketing_opt_in,
    status, spam_reason, policy_version, language, page_origin, page_path, created_at, updated_at"""
SELECT = f"SELECT {COLUMNS} FROM info_requests"
# Indexes info_requests_inbox (no status), info_requests_by_status.
KEYSET = Keyset(("created_at", "request_id"), BY_TIME)


async def insert(
    conn: asyncpg.Connection,
    *,
    site_id: uuid.UUID,
    request_id: uuid.UUID,
    event_id: uuid.UUID,
    visitor_id: str,
    fields: dict[str, Any],
    email: str | None,
    marketing_opt_in: bool,
    status: str,
    spam_reason: str | None,
    policy_version: int,
    language: str,
    page_origin: str,
    page_path: str,
    created_at: dt.datetime,
) -> asyncpg.Record | None:
    """The new row, or None when this event_id is already stored for the site."""
    return await conn.fetchrow(
        f"""INSERT INTO info_requests (site_id, request_id, event_id, visitor_id, fields, email,
                marketing_opt_in, status, spam_reason, policy_version, language, page_origin,
                page_path, created_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
            ON CONFLICT (site_id, event_id) DO NOTHING
            RETURNING {COLUMNS}""",
        site_id,
        request_id,
        event_id,
        visitor_id,
        fields,
        email,
        marketing_opt_in,
        status,
        spam_reason,
        policy_version,
        language,
        page_origin,
        page_path,
        created_at,
    )


async def by_event(
    conn: asyncpg.Connection, site_id: uuid.UUID, event_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM info_requests WHERE site_id = $1 AND event_id = $2",
        site_id,
        event_id,
    )


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


async def list_page(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    filt: RequestFilter,
    *,
    after: Sequence[Any] | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await fetch_page(conn, SELECT, filt.where(site_id), KEYSET, after=after, limit=limit)


async def get(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM info_requests WHERE site_id = $1 AND request_id = $2",
        site_id,
        request_id,
    )


async def set_status(
    conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID, status: str
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"""UPDATE info_requests SET status = $3, updated_at = now()
            WHERE site_id = $1 AND request_id = $2 RETURNING {COLUMNS}""",
        site_id,
        request_id,
        status,
    )


async def delete(conn: asyncpg.Connection, site_id: uuid.UUID, request_id: uuid.UUID) -> bool:
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
    return await jsonb_keys(conn, "info_requests", "fields", filt.where(site_id))


async def open_export(
    conn: asyncpg.Connection, site_id: uuid.UUID, filt: RequestFilter
) -> asyncpg.cursor.Cursor:
    """A server-side cursor over every matching request, newest first; needs a transaction."""
    return await open_cursor(conn, SELECT, filt.where(site_id), KEYSET)


async def purge_expired(conn: asyncpg.Connection) -> int:
    """Delete what is past each site's retention, in batches; returns how many rows went."""
    return await purge_past_retention(conn, "info_requests")
