"""Per-site CORS for the widget API: exact origins from each site's cached allowlist."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from aiohttp import web

from widget_server.domain.errors import DomainError
from widget_server.domain.origins import normalize_origin
from widget_server.keys import DB
from widget_server.services.widget_sites import Site
from widget_server.web.problems import ProblemError, from_domain, from_error
from widget_server.web.widget.state import SITE_CACHE

ALLOW_METHODS = "GET, POST, OPTIONS"
ALLOW_HEADERS = ("Content-Type", "X-Widget-Version")
MAX_AGE = "7200"
# Retry-After is not a CORS-safelisted response header: without this the widget cannot read it.
EXPOSE_HEADERS = "Retry-After"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SiteHandler = Callable[[web.Request, Site], Awaitable[web.StreamResponse]]
# Set on every widget API request once its site is looked up (None: unknown, or not yet known).
SITE: web.RequestKey[Site | None] = web.RequestKey("widget_site")


def allowed_origin(request: web.Request, site: Site | None) -> str | None:
    """The request's Origin, exactly as sent, when the site allows it; else None."""
    values = request.headers.getall("Origin", [])
    if site is None or len(values) != 1 or values[0] == "null":
        return None
    try:
        normal = normalize_origin(values[0])
    except ValueError:
        return None
    # Browsers send the canonical form; any other spelling did not come from one.
    return values[0] if values[0] == normal and normal in site.allowed_origins else None


def require_origin(request: web.Request, site: Site) -> str:
    """Writes come only from the site's own pages: a CORS refusal alone would not stop them."""
    origin = allowed_origin(request, site)
    if origin is None:
        sent = request.headers.get("Origin")
        why = "no Origin header" if sent is None else f"Origin {sent[:100]!r} is not allowed"
        raise ProblemError(403, f"This site does not accept writes from here ({why}).")
    return origin


def _add_vary(response: web.StreamResponse, name: str) -> None:
    existing = response.headers.get("Vary")
    if existing is None:
        response.headers["Vary"] = name
    elif name.lower() not in (v.strip().lower() for v in existing.split(",")):
        response.headers["Vary"] = f"{existing}, {name}"


def grant(request: web.Request, site: Site | None, response: web.StreamResponse) -> None:
    _add_vary(response, "Origin")
    origin = allowed_origin(request, site)
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS


async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: the CORS headers of every widget API answer, also of those the
    error middleware makes (a 503 must be readable by the widget, Retry-After and all)."""
    if SITE in request:
        grant(request, request[SITE], response)


def widget_endpoint(handler: SiteHandler) -> Handler:
    """Resolve the site (404), run the handler, answer errors as problems; the CORS headers
    are added by `add_headers` when the answer goes out."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        request[SITE] = None
        cache = request.app[SITE_CACHE]
        site = request[SITE] = await cache.get(request.app[DB], request.match_info["site_key"])
        try:
            if site is None:
                raise ProblemError(404, "There is no such site, or it is disabled.")
            return await handler(request, site)
        except ProblemError as exc:
            return from_error(exc)
        except DomainError as exc:
            return from_error(from_domain(exc))

    return wrapped


async def preflight(request: web.Request, site: Site) -> web.StreamResponse:
    """OPTIONS: the grant for an allowed origin asking for what we allow; else no grant at all."""
    response = web.Response(status=204)
    method = request.headers.get("Access-Control-Request-Method", "")
    asked = request.headers.get("Access-Control-Request-Headers", "")
    allowed = {h.lower() for h in ALLOW_HEADERS}
    headers_ok = all(h.strip().lower() in allowed for h in asked.split(",") if h.strip())
    if allowed_origin(request, site) is not None and method in ("GET", "POST") and headers_ok:
        response.headers["Access-Control-Allow-Methods"] = ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = ", ".join(ALLOW_HEADERS)
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response
