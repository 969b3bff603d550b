"""Daily salts of the visitor hash: one per day, shared by every process, gone after 48 hours."""

from __future__ import annotations

import datetime as dt
import secrets

import asyncpg

from widget_server.db.queries import daily_salts

SALT_LIFETIME = dt.timedelta(hours=48)
SALT_DAYS_KEPT = 2  # today's and yesterday's


async def salt_for(conn: asyncpg.Connection, day: dt.date) -> bytes:
    """The day's salt, created by whichever process asks first; older days' salts are deleted."""
    salt = await daily_salts.ensure(conn, day, secrets.token_bytes(32))
    await daily_salts.delete_through(conn, day - dt.timedelta(days=SALT_DAYS_KEPT))
    return salt


async def rotate(conn: asyncpg.Connection, today: dt.date) -> None:
    """Today's salt exists before the first visitor needs it, and none lives past 48 hours."""
    await salt_for(conn, today)
    await daily_salts.delete_created_before(conn, SALT_LIFETIME)
