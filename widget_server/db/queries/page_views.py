"""SQL for the page_views table: anonymous page views and engagement, written by COPY."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import asyncpg

from widget_server.db.queries.batches import purge_past_retention

COLUMNS = (
    "site_id",
    "kind",
    "visitor_hash",
    "path",
    "referrer_host",
    "engaged_ms",
    "created_at",
)
ViewRow = tuple[uuid.UUID, str, bytes, str, str | None, int | None, dt.datetime]


async def insert_many(conn: asyncpg.Connection, rows: Sequence[ViewRow]) -> None:
    """Many page views in one COPY (columns in COLUMNS order)."""
    await conn.copy_records_to_table("page_views", records=rows, columns=COLUMNS)


async def purge_expired(conn: asyncpg.Connection) -> int:
    """Delete what is past each site's retention, in batches; returns how many rows went."""
    return await purge_past_retention(conn, "page_views")
