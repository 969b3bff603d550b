"""SQL for storing info requests sent through the widget form."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg

from widget_server.ids import uuid7

REQUEST_COLUMNS = """site_id, request_id, event_id, visitor_id, fields, email, marketing_opt_in,
    status, spam_reason, policy_version, language, page_origin, page_path, created_at, updated_at"""


async def insert_request(
    conn: asyncpg.Connection,
    *,
    site_id: uuid.UUID,
    event_id: uuid.UUID,
    visitor_id: str,
    fields: dict[str, Any],
    email: str | None,
    marketing_opt_in: bool,
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
            RETURNING {REQUEST_COLUMNS}""",
        site_id,
        uuid7(),
        event_id,
        visitor_id,
        fields,
        email,
        marketing_opt_in,
        "spam" if spam_reason else "new",
        spam_reason,
        policy_version,
        language,
        page_origin,
        page_path,
        created_at,
    )


async def find_by_event(
    conn: asyncpg.Connection, site_id: uuid.UUID, event_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {REQUEST_COLUMNS} FROM info_requests WHERE site_id = $1 AND event_id = $2",
        site_id,
        event_id,
    )
