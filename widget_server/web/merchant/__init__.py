"""The merchant API: keyed routes for sites, policies, requests, the consent log, exports, keys, stats."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import aiohttp_cors
from aiohttp import web

from widget_server.keys import SETTINGS
from widget_server.web.merchant import consents, exports, keys, policies, requests, sites, stats
from widget_server.web.routes import Route

# Exports come before requests, and the request id's pattern refuses `export` (routes.py).
ROUTES: tuple[Route, ...] = (
    *sites.ROUTES,
    *policies.ROUTES,
    *exports.ROUTES,
    *requests.ROUTES,
    *consents.ROUTES,
    *keys.ROUTES,
    *stats.ROUTES,
)
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "X-Request-Id")
CORS_EXPOSE_HEADERS = ("Content-Disposition", "Retry-After", "X-Request-Id", "WWW-Authenticate")


def setup_cors(app: web.Application, routes: Iterable[web.AbstractRoute]) -> None:
    """Browser access to the keyed routes from WIDGET_MERCHANT_CORS_ORIGINS, if any are set."""
    origins = app[SETTINGS].merchant_cors_origins
    if not origins:
        return
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
