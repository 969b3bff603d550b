"""`widget-server worker`: the background jobs alone, without serving HTTP, until SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from widget_server.db.pool import Database, create_pool
from widget_server.jobs.runtime import JobRunner
from widget_server.jobs.schedule import CONSUMERS, PERIODIC
from widget_server.settings import Settings

log = logging.getLogger("widget_server.jobs")


@contextlib.asynccontextmanager
async def running_jobs(db: Database, settings: Settings) -> AsyncIterator[JobRunner]:
    """Every job of the service, started, and stopped cleanly when the block ends."""
    dsn = settings.database_url.reveal() if settings.database_url else None
    runner = JobRunner(db, PERIODIC, CONSUMERS, dsn=dsn)
    await runner.start()
    try:
        yield runner
    finally:
        await runner.stop(settings.shutdown_timeout)


async def run_worker(settings: Settings) -> None:
    assert settings.database_url is not None
    pool = await create_pool(
        settings.database_url.reveal(),
        size=settings.db_pool_size,
        command_timeout=settings.db_command_timeout,
        connect_timeout=settings.db_acquire_timeout,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with running_jobs(Database(pool, settings.db_acquire_timeout), settings):
            log.info("worker running")
            await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await pool.close()
