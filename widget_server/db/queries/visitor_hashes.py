"""SQL for the day's set of visitor hashes: (site, day, hash) and nothing else."""

from __future__ import annotations

import datetime as dt

import asyncpg


async def delete_ended(conn: asyncpg.Connection, now: dt.datetime, margin: dt.timedelta) -> int:
    """Delete each site's sets of days that are over in its time zone by `margin` (and of days
    still to come there, which only a change of time zone leaves behind)."""
    status = await conn.execute(
        """DELETE FROM stats_visitor_hashes h USING sites s
           WHERE s.site_id = h.site_id
             AND (h.day < (($1::timestamptz - $2::interval) AT TIME ZONE s.time_zone)::date
                  OR h.day > (($1::timestamptz + $2::interval) AT TIME ZONE s.time_zone)::date)""",
        now,
        margin,
    )
    return int(status.split()[-1])


async def days_held(conn: asyncpg.Connection) -> list[dt.date]:
    """The days that have a set (for checks and tests)."""
    return [r["day"] for r in await conn.fetch("SELECT DISTINCT day FROM stats_visitor_hashes")]
