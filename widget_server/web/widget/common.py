"""Steps every widget write shares: origin, rate limit, body, schema, page URL, client facts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from marshmallow import Schema

from widget_server.domain.errors import Invalid
from widget_server.domain.origins import PageLocation
from widget_server.domain.records import ClientFacts
from widget_server.keys import SETTINGS
from widget_server.schemas.loading import load
from widget_server.services.widget_sites import Site
from widget_server.web.clientip import client_ip
from widget_server.web.http import WIDGET_BODY_LIMIT, read_json
from widget_server.web.problems import ProblemError
from widget_server.web.widget.cors import require_origin
from widget_server.web.widget.state import LIMITER

USER_AGENT_LIMIT = 512
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


async def read_write(request: web.Request, site: Site, schema: Schema) -> dict[str, Any]:
    """A declared size over the limit (413), origin (403), client rate limit (429), body
    (415/413/400) and schema (422), in that order."""
    if request.content_length is not None and request.content_length > WIDGET_BODY_LIMIT:
        raise ProblemError(413, f"The body is larger than {WIDGET_BODY_LIMIT} bytes.")
    require_origin(request, site)
    settings = request.app[SETTINGS]
    wait = request.app[LIMITER].write(client_ip(request, settings.trusted_proxies), site.site_id)
    if wait is not None:
        raise ProblemError(
            429,
            "Too many requests from this client; try again later.",
            headers={"Retry-After": str(wait)},
        )
    data = await read_json(request, limit=WIDGET_BODY_LIMIT, allow_text_plain=True)
    # The widget's schemas refuse NUL and lone surrogates themselves, field by field.
    return load(schema, data, screen=False)


def check_page(site: Site, location: PageLocation, field: str = "page_url") -> PageLocation:
    """The reported page must be on one of the site's own origins."""
    if location.origin not in site.allowed_origins:
        raise Invalid({field: ["This page is not on an origin the site allows."]})
    return location


def header_text(request: web.Request, name: str, limit: int) -> str | None:
    """A header value fit for storage: undecodable bytes and controls replaced, truncated."""
    value = request.headers.get(name)
    if not value:
        return None
    return _UNPRINTABLE.sub("\ufffd", value)[:limit]


def client_facts(request: web.Request, site: Site, body: Mapping[str, Any]) -> ClientFacts:
    return ClientFacts(
        gpc=request.headers.get("Sec-GPC", "").strip() == "1" or body.get("gpc") is True,
        user_agent=header_text(request, "User-Agent", USER_AGENT_LIMIT)
        if site.store_user_agent
        else None,
        widget_version=body.get("widget_version") or header_text(request, "X-Widget-Version", 64),
    )
