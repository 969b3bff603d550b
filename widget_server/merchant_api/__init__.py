"""The merchant API: keyed routes for sites, policies, requests, the consent log, exports and keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp_cors
from aiohttp import web

from widget_server.keys import SETTINGS
from widget_server.merchant_api import consents, docs, exports, keys, policies, requests, sites
from widget_server.merchant_api.auth import require_key
from widget_server.merchant_api.operations import Operation

# Exports come before requests, and the request id's pattern refuses `export` (operations.py).
OPERATIONS: tuple[Operation, ...] = (
    *sites.OPERATIONS,
    *policies.OPERATIONS,
    *exports.OPERATIONS,
    *requests.OPERATIONS,
    *consents.OPERATIONS,
    *keys.OPERATIONS,
    *docs.OPERATIONS,
)
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "X-Request-Id")
CORS_EXPOSE_HEADERS = ("Content-Disposition", "Retry-After", "X-Request-Id", "WWW-Authenticate")


def setup(app: web.Application) -> None:
    """Register every operation (keyed ones behind require_key), the docs, and CORS if configured."""
    keyed: list[web.AbstractRoute] = []
    for op in OPERATIONS:
        handler = op.handler if op.public else require_key(op.handler, write=op.writes)
        if op.method == "GET":  # and HEAD, as HTTP asks of every GET
            route = app.router.add_get(op.route_path, handler)
        else:
            route = app.router.add_route(op.method, op.route_path, handler)
        if not op.public:
            keyed.append(route)
    docs.setup(app, OPERATIONS)
    origins = app[SETTINGS].merchant_cors_origins
    if origins:
        _cors(app, keyed, origins)


def _cors(app: web.Application, routes: list[web.AbstractRoute], origins: tuple[str, ...]) -> None:
    # Its own CorsConfig, never the app's shared one: other routes' defaults must not reach these.
    cors = aiohttp_cors.CorsConfig(app, defaults={})
    resource_options: Callable[..., Any] = aiohttp_cors.ResourceOptions  # unannotated upstream
    options = {
        origin: resource_options(
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            allow_methods=("GET", "POST", "PATCH", "DELETE"),
            max_age=7200,
        )
        for origin in origins
    }
    resources = {id(r.resource): r.resource for r in routes if r.resource is not None}
    for resource in resources.values():
        cors.add(resource, options)
    paths = {r.canonical for r in resources.values()}

    async def vary_on_origin(request: web.Request, response: web.StreamResponse) -> None:
        # aiohttp-cors echoes the origin without `Vary: Origin`; shared caches need it.
        route = request.match_info.route.resource
        if (
            route is not None
            and route.canonical in paths
            and "Origin" not in response.headers.get("Vary", "")
        ):
            response.headers.add("Vary", "Origin")

    app.on_response_prepare.append(vary_on_origin)
