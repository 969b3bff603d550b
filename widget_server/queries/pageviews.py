"""SQL for anonymous statistics: the daily salts and the page-view rows."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Awaitable, Callable, Sequence

import asyncpg

SALT_DAYS_KEPT = 2  # today's and yesterday's: a salt lives about 48 hours, then is gone


async def salt_for(conn: asyncpg.Connection, day: dt.date) -> bytes:
    """The day's salt, created by whichever process asks first; older salts are deleted."""
    await conn.execute(
        "INSERT INTO daily_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        day,
        secrets.token_bytes(32),
    )
    await conn.execute(
        "DELETE FROM daily_salts WHERE day <= $1", day - dt.timedelta(days=SALT_DAYS_KEPT)
    )
    # A separate statement: its snapshot sees a row a concurrent process inserted first.
    salt = await conn.fetchval("SELECT salt FROM daily_salts WHERE day = $1", day)
    assert isinstance(salt, bytes)
    return salt


VIEW_COLUMNS = (
    "site_id",
    "kind",
    "visitor_hash",
    "path",
    "referrer_host",
    "engaged_ms",
    "created_at",
)
ViewRow = tuple[uuid.UUID, str, bytes, str, str | None, int | None, dt.datetime]
Writer = Callable[[Sequence[ViewRow]], Awaitable[None]]


async def insert_views(conn: asyncpg.Connection, rows: Sequence[ViewRow]) -> None:
    """Many page views in one COPY (columns in VIEW_COLUMNS order)."""
    await conn.copy_records_to_table("page_views", records=rows, columns=VIEW_COLUMNS)
