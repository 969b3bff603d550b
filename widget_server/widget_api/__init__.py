"""The widget API: what visitors' browsers call, with per-site CORS and rate limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from widget_server.keys import SETTINGS
from widget_server.limits import RateLimiter
from widget_server.widget_api import config, consents, cors, events, requests
from widget_server.widget_api.batch import GroupWriter
from widget_server.widget_api.sitecache import SiteCache, listen_for_changes
from widget_server.widget_api.state import CONSENTS, LIMITER, SALTS, SITE_CACHE, VIEWS

PREFIX = "/v1/widget/{site_key}"


async def _drain_writers(app: web.Application) -> AsyncIterator[None]:
    yield
    # Cleanup runs in reverse order: this finishes before the database pool closes.
    await app[VIEWS].drain()
    await app[CONSENTS].drain()


def setup(app: web.Application) -> None:
    """Register this package's routes, state and the site-change listener on the app."""
    settings = app[SETTINGS]
    app[SITE_CACHE] = SiteCache(settings.config_cache_seconds)
    app[LIMITER] = RateLimiter(
        settings.secret_key.reveal(),
        writes_per_minute=settings.rate_limit_per_minute,
        requests_per_site_per_hour=settings.requests_per_site_per_hour,
    )
    app[SALTS] = events.SaltCache()
    app[VIEWS] = GroupWriter(events.view_writer(app))
    app[CONSENTS] = consents.consent_writer(app)
    app.cleanup_ctx.append(listen_for_changes)
    app.cleanup_ctx.append(_drain_writers)
    app.on_response_prepare.append(cors.add_headers)
    router = app.router
    router.add_get(f"{PREFIX}/config", config.get_config)
    router.add_post(f"{PREFIX}/consents", consents.post_consent)
    router.add_post(f"{PREFIX}/requests", requests.post_request)
    router.add_post(f"{PREFIX}/events", events.post_event)
    for name in ("config", "consents", "requests", "events"):
        router.add_route("OPTIONS", f"{PREFIX}/{name}", cors.preflight)
