"""The application factory: middlewares, routes and the database pool's lifecycle."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
from aiohttp import web

from widget_server import logs
from widget_server.db import TRANSIENT_ERRORS, Database, create_pool, schema_is_current
from widget_server.http import MERCHANT_BODY_LIMIT, json_response
from widget_server.keys import DB, REQUEST_ID, SETTINGS
from widget_server.problems import ProblemError, from_error, problem_response
from widget_server.settings import Settings

log = logging.getLogger("widget_server.app")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REQUEST_ID_FORMAT = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Request id in and out, and one access-log line, whatever happens below."""
    incoming = request.headers.get("X-Request-Id", "")
    request_id = incoming if REQUEST_ID_FORMAT.match(incoming) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        route = request.match_info.route.resource
        template = route.canonical if route is not None else "(unmatched)"
        logs.access(
            request.method, template, status, (time.perf_counter() - started) * 1000, request_id
        )


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as problem+json; nothing internal reaches the client."""
    try:
        return await handler(request)
    except ProblemError as exc:
        return from_error(exc)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        detail = _http_detail(exc)
        return problem_response(exc.status, detail, headers=headers)
    except asyncpg.exceptions.QueryCanceledError:
        log.warning("database query timed out on %s", request.path)
        return problem_response(
            503, "The database did not answer in time.", headers={"Retry-After": "5"}
        )
    except TRANSIENT_ERRORS:
        log.warning("database unreachable on %s", request.path, exc_info=True)
        return problem_response(503, "The database is unreachable.", headers={"Retry-After": "5"})
    except asyncpg.exceptions.PostgresConnectionError:
        return problem_response(503, "The database is unreachable.", headers={"Retry-After": "5"})
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(500, "An internal error occurred; it has been logged.")


def _http_detail(exc: web.HTTPException) -> str:
    if exc.status == 404:
        return "There is nothing at this address."
    if exc.status == 405:
        return f"This address does not accept {exc.method if isinstance(exc, web.HTTPMethodNotAllowed) else 'this method'}."
    if exc.status == 413:
        return "The body is too large."
    text = exc.text or exc.reason
    # aiohttp's own texts are like "404: Not Found"; they carry no internals.
    return text.split(": ", 1)[-1][:300]


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].connection() as conn:
            current = await schema_is_current(conn)
    except (*TRANSIENT_ERRORS, asyncpg.PostgresError):  # type: ignore[misc]
        raise ProblemError(
            503, "The database is unreachable.", headers={"Retry-After": "5"}
        ) from None
    if not current:
        raise ProblemError(
            503,
            "The database schema is not current; run `widget-server migrate`.",
            headers={"Retry-After": "30"},
        )
    return json_response({"status": "ready"})


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.database_url is None:
        raise RuntimeError(
            "create_app needs settings.database_url (the CLI fills in the embedded one)"
        )
    pool = await create_pool(
        settings.database_url.reveal(),
        size=settings.db_pool_size,
        command_timeout=settings.db_command_timeout,
        connect_timeout=settings.db_acquire_timeout,
    )
    app[DB] = Database(pool, settings.db_acquire_timeout)
    try:
        async with app[DB].connection() as conn:
            await conn.execute("SELECT 1")
    except (*TRANSIENT_ERRORS, asyncpg.PostgresError) as exc:  # type: ignore[misc]
        log.warning("database not reachable at start (%s); answering 503 until it is", exc)
    yield
    try:
        await asyncio.wait_for(pool.close(), timeout=10)
    except TimeoutError:
        pool.terminate()


def create_app(settings: Settings) -> web.Application:
    """Build the application; nothing touches the network until it starts."""
    app = web.Application(
        middlewares=[request_context, errors],
        client_max_size=MERCHANT_BODY_LIMIT,
    )
    app[SETTINGS] = settings
    app.cleanup_ctx.append(_database)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    _setup_features(app)
    return app


def _setup_features(app: web.Application) -> None:
    # Imported here so that importing widget_server.app stays cheap and side-effect free.
    from widget_server import merchant_api, pages, widget_api
    from widget_server.assets import add_widget_routes

    add_widget_routes(app)
    widget_api.setup(app)
    merchant_api.setup(app)
    pages.setup(app)
