"""Steps every widget write shares: origin, rate limit, body, schema, page URL, clock."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import web
from marshmallow import Schema, ValidationError

from widget_server.clientip import client_ip
from widget_server.http import WIDGET_BODY_LIMIT, read_json
from widget_server.keys import SETTINGS
from widget_server.problems import ProblemError, validation_error
from widget_server.schemas.widget import PageLocation
from widget_server.widget_api.cors import require_origin
from widget_server.widget_api.sitecache import Site
from widget_server.widget_api.state import LIMITER

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
    return load(schema, data)


def load(schema: Schema, data: Any) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ValidationError as exc:
        raise validation_error(messages_of(exc)) from None
    return loaded


def messages_of(exc: ValidationError) -> Mapping[str, Any]:
    return exc.messages if isinstance(exc.messages, Mapping) else {"_schema": exc.messages}


def check_page(site: Site, location: PageLocation, field: str = "page_url") -> PageLocation:
    """The reported page must be on one of the site's own origins."""
    if location.origin not in site.allowed_origins:
        raise validation_error({field: ["This page is not on an origin the site allows."]})
    return location


def check_policy(policy: asyncpg.Record | None, version: int) -> asyncpg.Record:
    """Consent is to the current text only: anything else makes the widget ask again."""
    if policy is None:
        raise ProblemError(409, "This site has no published policy yet.", type_slug="no-policy")
    if policy["version"] != version:
        raise ProblemError(
            409,
            f"Policy version {version} is not current; the current version is {policy['version']}.",
            type_slug="stale-policy",
            extra={"current_version": policy["version"]},
        )
    return policy


def header_text(request: web.Request, name: str, limit: int) -> str | None:
    """A header value fit for storage: undecodable bytes and controls replaced, truncated."""
    value = request.headers.get(name)
    if not value:
        return None
    return _UNPRINTABLE.sub("\ufffd", value)[:limit]


@dataclass(frozen=True)
class ClientFacts:
    """What a consent record keeps about the browser besides the body: never its address."""

    gpc: bool
    user_agent: str | None
    widget_version: str | None


def client_facts(request: web.Request, site: Site, body: Mapping[str, Any]) -> ClientFacts:
    return ClientFacts(
        gpc=request.headers.get("Sec-GPC", "").strip() == "1" or body.get("gpc") is True,
        user_agent=header_text(request, "User-Agent", USER_AGENT_LIMIT)
        if site.store_user_agent
        else None,
        widget_version=body.get("widget_version") or header_text(request, "X-Widget-Version", 64),
    )


def now() -> dt.datetime:
    """The server's clock, to the microsecond Postgres keeps, so receipts survive a round trip."""
    return dt.datetime.now(dt.UTC)


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
