"""GET /healthz (the process is alive) and GET /readyz (the database is reachable, its schema current)."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from widget_server.db.pool import TRANSIENT_ERRORS
from widget_server.keys import DB
from widget_server.schemas.config import StatusSchema
from widget_server.services import health
from widget_server.web.http import json_response
from widget_server.web.problems import ProblemError
from widget_server.web.routes import Route


async def healthz(request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    try:
        async with request.app[DB].connection() as conn:
            current = await health.schema_current(conn)
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


TAG = "Operations"
ROUTES = (
    Route(
        "GET",
        "/healthz",
        healthz,
        "The process is alive",
        TAG,
        access="public",
        response=StatusSchema,
    ),
    Route(
        "GET",
        "/readyz",
        readyz,
        "The database is reachable and its schema current",
        TAG,
        access="public",
        response=StatusSchema,
    ),
)
