"""The one route table: every route of the service, registered from here and documented from here."""

from __future__ import annotations

from collections.abc import Iterable

from aiohttp import web

from widget_server.web import docs, health, merchant, pages, widget
from widget_server.web.merchant.auth import require_key
from widget_server.web.routes import Handler, Route
from widget_server.web.widget import asset
from widget_server.web.widget.cors import widget_endpoint


def all_routes() -> tuple[Route, ...]:
    return (
        *health.ROUTES,
        *asset.ROUTES,
        *widget.ROUTES,
        *pages.ROUTES,
        *merchant.ROUTES,
        *docs.ROUTES,
    )


def _guarded(route: Route) -> Handler:
    if route.access == "key":
        return require_key(route.handler, write=route.writes)
    if route.access == "widget":
        return widget_endpoint(route.handler)
    return route.handler


def register(app: web.Application, routes: Iterable[Route]) -> list[web.AbstractRoute]:
    """Add each route to the router behind the guard its access names; GET brings HEAD along."""
    added = []
    for route in routes:
        handler = _guarded(route)
        if route.method == "GET":
            added.append(app.router.add_get(route.route_path, handler))
        else:
            added.append(app.router.add_route(route.method, route.route_path, handler))
    return added
