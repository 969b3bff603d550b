"""Salts of the visitor hash: one per time zone and local day, forgotten when that day is over."""

from __future__ import annotations

import datetime as dt
import secrets

import asyncpg

from widget_server.db.queries import daily_salts, visitor_hashes
from widget_server.domain.calendar import FINAL_AFTER

SALT_LIFETIME = dt.timedelta(hours=48)


async def salt_for(conn: asyncpg.Connection, zone: str, day: dt.date, now: dt.datetime) -> bytes:
    """The salt of a zone's local day, created by whichever process asks first. Asking also
    sweeps away the salts of days already over, so that none outlives its day for long even
    when no job runs."""
    salt = await daily_salts.ensure(conn, zone, day, secrets.token_bytes(32))
    await daily_salts.delete_ended(conn, now, FINAL_AFTER, SALT_LIFETIME)
    return salt


async def forget(conn: asyncpg.Connection, now: dt.datetime) -> dict[str, int]:
    """Delete everything that could recognise a visitor once the day is over: the salts of ended
    days (and any older than 48 hours), and each site's set of visitor hashes of ended days."""
    return {
        "daily_salts": await daily_salts.delete_ended(conn, now, FINAL_AFTER, SALT_LIFETIME),
        "visitor_hashes": await visitor_hashes.delete_ended(conn, now, FINAL_AFTER),
    }
