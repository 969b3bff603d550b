"""The application factory: middlewares, the route table, and the database pools' lifecycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web

from widget_server.db.pool import TRANSIENT_ERRORS, Database, create_pool
from widget_server.keys import DB, EXPORT_DB, JOBS, SETTINGS
from widget_server.services import health
from widget_server.settings import Settings
from widget_server.web.http import MERCHANT_BODY_LIMIT
from widget_server.web.middleware import errors, request_context

log = logging.getLogger("widget_server.app")


async def _close(pool: asyncpg.Pool) -> None:
    try:
        await asyncio.wait_for(pool.close(), timeout=10)
    except TimeoutError:
        pool.terminate()


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.database_url is None:
        raise RuntimeError(
            "create_app needs settings.database_url (the CLI fills in the embedded one)"
        )
    dsn = settings.database_url.reveal()
    pools = [
        await create_pool(
            dsn,
            size=size,
            command_timeout=settings.db_command_timeout,
            connect_timeout=settings.db_acquire_timeout,
        )
        for size in (settings.db_pool_size, settings.export_pool_size)
    ]
    app[DB] = Database(pools[0], settings.db_acquire_timeout)
    app[EXPORT_DB] = Database(pools[1], settings.db_acquire_timeout)
    try:
        async with app[DB].connection() as conn:
            await health.ping(conn)
    except (*TRANSIENT_ERRORS, asyncpg.PostgresError) as exc:  # type: ignore[misc]
        log.warning("database not reachable at start (%s); answering 503 until it is", exc)
    yield
    for pool in pools:
        await _close(pool)


async def _jobs(app: web.Application) -> AsyncIterator[None]:
    """The background jobs, in this process too (each unit of work is claimed, so several
    processes never do it twice); stopped before the pools close."""
    from widget_server.jobs.worker import running_jobs

    async with running_jobs(app[DB], app[SETTINGS]) as runner:
        app[JOBS] = runner
        yield


def create_app(settings: Settings) -> web.Application:
    """Build the application; nothing touches the network until it starts."""
    # Imported here so that importing widget_server.app stays cheap and side-effect free.
    from widget_server.web import merchant, table, widget
    from widget_server.web.docs import DOCUMENT, DocumentCache
    from widget_server.web.widget import asset

    app = web.Application(
        middlewares=[request_context, errors],
        client_max_size=MERCHANT_BODY_LIMIT,
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_database)
    if settings.run_jobs:
        app.cleanup_ctx.append(_jobs)
    routes = table.all_routes()
    added = table.register(app, routes)
    app[DOCUMENT] = DocumentCache(routes)
    asset.setup(app)
    widget.setup(app)
    keyed = [r for r, route in zip(added, routes, strict=True) if route.access == "key"]
    merchant.setup_cors(app, keyed)
    return app
