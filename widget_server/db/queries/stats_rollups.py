"""SQL for stats_rollups: each site's last final day of statistics."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg


async def sites(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every site with its time zone, creation time and last final day (None: never rolled up)."""
    return list(
        await conn.fetch(
            """SELECT s.site_id, s.time_zone, s.created_at, r.final_through
               FROM sites s LEFT JOIN stats_rollups r ON r.site_id = s.site_id
               ORDER BY s.site_id"""
        )
    )


async def final_through(conn: asyncpg.Connection, site_id: uuid.UUID) -> dt.date | None:
    value = await conn.fetchval(
        "SELECT final_through FROM stats_rollups WHERE site_id = $1", site_id
    )
    return value if isinstance(value, dt.date) else None


async def lock(conn: asyncpg.Connection, site_id: uuid.UUID, before: dt.date) -> dt.date:
    """The site's last final day, locked until the transaction ends (created as `before`)."""
    await conn.execute(
        """INSERT INTO stats_rollups (site_id, final_through) VALUES ($1, $2)
           ON CONFLICT (site_id) DO NOTHING""",
        site_id,
        before,
    )
    value = await conn.fetchval(
        "SELECT final_through FROM stats_rollups WHERE site_id = $1 FOR UPDATE", site_id
    )
    assert isinstance(value, dt.date)
    return value


async def advance(conn: asyncpg.Connection, site_id: uuid.UUID, day: dt.date) -> None:
    await conn.execute(
        "UPDATE stats_rollups SET final_through = $2 WHERE site_id = $1", site_id, day
    )
