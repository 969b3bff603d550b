"""Which background jobs there are, and how often each runs."""

from __future__ import annotations

import datetime as dt
import logging

from widget_server.db.pool import Database
from widget_server.domain.clock import now
from widget_server.jobs.runtime import Consumer, Periodic
from widget_server.services import retention, rollups, salts

log = logging.getLogger("widget_server.jobs")


async def purge(db: Database) -> None:
    async with db.connection() as conn:
        counts = await retention.purge(conn)
    if any(counts.values()):
        log.info("retention purge", extra={"fields": {"deleted": counts}})


async def rotate_salts(db: Database) -> None:
    """Salts and visitor-hash sets of days that are over are deleted within minutes."""
    async with db.connection() as conn:
        await salts.forget(conn, now())


async def roll_up_stats(db: Database) -> None:
    async with db.connection() as conn:
        counts = await rollups.run(conn, now())
    if any(counts.values()):
        log.info("statistics rollup", extra={"fields": counts})


PERIODIC = (
    Periodic("retention_purge", dt.timedelta(hours=1), purge),
    Periodic("salt_rotation", dt.timedelta(minutes=5), rotate_salts),
    Periodic("stats_rollup", dt.timedelta(minutes=5), roll_up_stats),
)
CONSUMERS: tuple[Consumer, ...] = ()
