"""Typed keys for the widget API's application state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from widget_server.domain.records import ConsentDraft
    from widget_server.runtime.groupcommit import GroupCommit
    from widget_server.runtime.limits import RateLimiter
    from widget_server.runtime.saltcache import SaltCache
    from widget_server.runtime.sitecache import SiteCache
    from widget_server.services.consents import Stored
    from widget_server.services.stats import Beacon

SITE_CACHE: web.AppKey[SiteCache] = web.AppKey("widget_site_cache")
LIMITER: web.AppKey[RateLimiter] = web.AppKey("widget_rate_limiter")
SALTS: web.AppKey[SaltCache] = web.AppKey("widget_salts")
VIEWS: web.AppKey[GroupCommit[Beacon, None]] = web.AppKey("widget_beacon_writer")
CONSENTS: web.AppKey[GroupCommit[ConsentDraft, Stored]] = web.AppKey("widget_consent_writer")
