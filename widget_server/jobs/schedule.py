"""Which background jobs there are, and how often each runs."""

from __future__ import annotations

import datetime as dt
import logging

from widget_server.db.pool import Database
from widget_server.domain.clock import now
from widget_server.jobs.runtime import Consumer, Periodic
from widget_server.services import retention, salts

log = logging.getLogger("widget_server.jobs")


async def purge(db: Database) -> None:
    async with db.connection() as conn:
        counts = await retention.purge(conn)
    if any(counts.values()):
        log.info("retention purge", extra={"fields": {"deleted": counts}})


async def rotate_salts(db: Database) -> None:
    async with db.connection() as conn:
        await salts.rotate(conn, now().date())


PERIODIC = (
    Periodic("retention_purge", dt.timedelta(hours=1), purge),
    Periodic("salt_rotation", dt.timedelta(hours=1), rotate_salts),
)
CONSUMERS: tuple[Consumer, ...] = ()
