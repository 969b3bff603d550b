"""The widget API: what visitors' browsers call, with per-site CORS and rate limits."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from widget_server.domain.defaults import default_form
from widget_server.keys import DB, SETTINGS
from widget_server.runtime.limits import RateLimiter
from widget_server.runtime.saltcache import SaltCache
from widget_server.runtime.sitecache import SiteCache, listen
from widget_server.schemas.config import ConsentAnswerSchema, RequestAnswerSchema, SiteConfigSchema
from widget_server.schemas.widget import BeaconSchema, ConsentEventSchema, request_schema_of
from widget_server.web.routes import JSON, Route
from widget_server.web.widget import config, consents, cors, events, requests
from widget_server.web.widget.state import CONSENTS, LIMITER, SALTS, SITE_CACHE, VIEWS

PREFIX = "/v1/widget/{site_key}"
TAG = "Widget API"
BODY_MEDIA = (JSON, "text/plain")
WRITE_ERRORS = frozenset({403, 409, 429})
FIRST_ANSWER = "The same event_id again: the first answer, unchanged."


def setup(app: web.Application) -> None:
    """The widget API's per-process state: site cache and its listener, limits, writers."""
    settings = app[SETTINGS]
    app[SITE_CACHE] = SiteCache(settings.config_cache_seconds)
    app[LIMITER] = RateLimiter(
        settings.secret_key.reveal(),
        writes_per_minute=settings.rate_limit_per_minute,
        requests_per_site_per_hour=settings.requests_per_site_per_hour,
    )
    app[SALTS] = SaltCache()
    app.cleanup_ctx.append(_listen_for_changes)
    app.cleanup_ctx.append(_writers)
    app.on_response_prepare.append(cors.add_headers)


async def _writers(app: web.Application) -> AsyncIterator[None]:
    """The group-commit writers, drained before the database pool closes (cleanup runs in reverse)."""
    db = app[DB]

    app[VIEWS] = events.beacon_writer(db)
    app[CONSENTS] = consents.consent_writer(db, app[SETTINGS].secret_key.reveal())
    yield
    await app[VIEWS].drain()
    await app[CONSENTS].drain()


async def _listen_for_changes(app: web.Application) -> AsyncIterator[None]:
    """Start the site-change listener and wait (briefly) for its first connection."""
    settings = app[SETTINGS]
    if settings.database_url is None:
        yield
        return
    ready = asyncio.Event()
    task = asyncio.create_task(listen(settings.database_url.reveal(), app[SITE_CACHE], ready))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ready.wait(), settings.db_acquire_timeout)
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _stored_write(
    name: str, handler: Any, summary: str, body: Any, answer: type, description: str
) -> Route:
    """A write stored once per event_id: 201 when stored, 200 with the first answer again."""
    return Route(
        "POST",
        f"{PREFIX}/{name}",
        handler,
        summary,
        TAG,
        access="widget",
        status=201,
        body=body,
        body_media=BODY_MEDIA,
        response=answer,
        responses={200: {"description": FIRST_ANSWER, "content": {JSON: {"schema": answer}}}},
        errors=WRITE_ERRORS,
        description=description + " Also accepts `text/plain` carrying JSON (for sendBeacon).",
    )


def _preflight(name: str) -> Route:
    return Route(
        "OPTIONS",
        f"{PREFIX}/{name}",
        cors.preflight,
        "CORS preflight",
        TAG,
        access="widget",
        status=204,
        operation_name=f"preflight_{name}",
        description="Grants the site's own origins GET and POST with Content-Type; anyone else "
        "gets no grant.",
    )


ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        f"{PREFIX}/config",
        config.get_config,
        "A site's widget configuration",
        TAG,
        access="widget",
        response=SiteConfigSchema,
        responses={304: {"description": "Not modified (If-None-Match)."}},
        description="Everything the widget shows, in the language asked for with `lang` (else the "
        "site's default). 404 for an unknown or disabled site.",
    ),
    _stored_write(
        "consents",
        consents.post_consent,
        "Record a consent decision",
        ConsentEventSchema,
        ConsentAnswerSchema,
        "The server decides each purpose; 409 when policy_version is not current.",
    ),
    _stored_write(
        "requests",
        requests.post_request,
        "Send an info request",
        request_schema_of(default_form()["fields"]),
        RequestAnswerSchema,
        "`fields` follow the site's form (shown: the default form).",
    ),
    Route(
        "POST",
        f"{PREFIX}/events",
        events.post_event,
        "Send a page-view or engagement beacon",
        TAG,
        access="widget",
        status=202,
        body=BeaconSchema,
        body_media=BODY_MEDIA,
        errors=frozenset({403, 429}),
        description="Anonymous statistics: answered at once and written in batches; nothing "
        "that identifies a visitor is stored (no IP address, no hash beside the page, no time "
        "finer than an hour). Beacons of bots, of sites with `stats_mode` off and engagement "
        "without time are accepted and dropped. Also accepts `text/plain` carrying JSON "
        "(for sendBeacon).",
    ),
    *(_preflight(name) for name in ("config", "consents", "requests", "events")),
)
