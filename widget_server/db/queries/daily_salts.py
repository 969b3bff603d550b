"""SQL for the visitor-hash salts: one per time zone and local day, gone when that day is over."""

from __future__ import annotations

import datetime as dt

import asyncpg


async def ensure(conn: asyncpg.Connection, zone: str, day: dt.date, salt: bytes) -> bytes:
    """The salt of (zone, day): `salt` if this call creates it, else the one made first."""
    await conn.execute(
        """INSERT INTO daily_salts (time_zone, day, salt) VALUES ($1, $2, $3)
           ON CONFLICT (time_zone, day) DO NOTHING""",
        zone,
        day,
        salt,
    )
    # A separate statement: its snapshot sees a row a concurrent process inserted first.
    value = await conn.fetchval(
        "SELECT salt FROM daily_salts WHERE time_zone = $1 AND day = $2", zone, day
    )
    assert isinstance(value, bytes)
    return value


async def delete_ended(
    conn: asyncpg.Connection, now: dt.datetime, margin: dt.timedelta, lifetime: dt.timedelta
) -> int:
    """Delete the salts of days over in their zone by `margin`, and any older than `lifetime`."""
    status = await conn.execute(
        """DELETE FROM daily_salts
           WHERE day < (($1::timestamptz - $2::interval) AT TIME ZONE time_zone)::date
              OR day > (($1::timestamptz + $2::interval) AT TIME ZONE time_zone)::date
              OR created_at < $1::timestamptz - $3::interval""",
        now,
        margin,
        lifetime,
    )
    return int(status.split()[-1])
