"""SQL for the daily salts of the visitor hash: one per day, deleted after 48 hours."""

from __future__ import annotations

import datetime as dt

import asyncpg


async def ensure(conn: asyncpg.Connection, day: dt.date, salt: bytes) -> bytes:
    """The day's salt: `salt` if this call creates it, else the one a process created first."""
    await conn.execute(
        "INSERT INTO daily_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        day,
        salt,
    )
    # A separate statement: its snapshot sees a row a concurrent process inserted first.
    value = await conn.fetchval("SELECT salt FROM daily_salts WHERE day = $1", day)
    assert isinstance(value, bytes)
    return value


async def delete_through(conn: asyncpg.Connection, day: dt.date) -> int:
    """Delete the salts of `day` and every earlier day."""
    status = await conn.execute("DELETE FROM daily_salts WHERE day <= $1", day)
    return int(status.split()[-1])


async def delete_created_before(conn: asyncpg.Connection, age: dt.timedelta) -> int:
    """Delete the salts created more than `age` ago."""
    status = await conn.execute(
        "DELETE FROM daily_salts WHERE created_at < now() - $1::interval", age
    )
    return int(status.split()[-1])
