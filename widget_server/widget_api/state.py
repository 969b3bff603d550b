"""Typed keys for the widget API's application state."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from ..limits import RateLimiter
    from ..queries.pageviews import ViewRow
    from .batch import GroupCommit, GroupWriter
    from .events import SaltCache
    from .records import ConsentDraft, Stored
    from .sitecache import SiteCache

SITE_CACHE: web.AppKey[SiteCache] = web.AppKey("widget_site_cache")
LIMITER: web.AppKey[RateLimiter] = web.AppKey("widget_rate_limiter")
SALTS: web.AppKey[SaltCache] = web.AppKey("widget_salts")
VIEWS: web.AppKey[GroupWriter[ViewRow]] = web.AppKey("widget_page_view_writer")
CONSENTS: web.AppKey[GroupCommit[ConsentDraft, Stored]] = web.AppKey("widget_consent_writer")
