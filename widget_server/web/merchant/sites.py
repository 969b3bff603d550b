"""GET/POST /v1/sites and GET/PATCH/DELETE /v1/sites/SITE_KEY: a merchant's sites."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from widget_server.domain.snippet import policy_url, snippet
from widget_server.keys import DB
from widget_server.schemas.merchant import ListQuery, page_of
from widget_server.schemas.site import SiteInputSchema, SiteSchema
from widget_server.services import sites
from widget_server.web.http import json_response
from widget_server.web.merchant.auth import principal
from widget_server.web.merchant.common import ListRequest, owned_site, public_url, read_body
from widget_server.web.merchant.ownership import site_key_in
from widget_server.web.routes import Route

SitePage = page_of(SiteSchema, "SitePage")


def shown(base_url: str, row: Any) -> dict[str, Any]:
    """The stored site plus what a merchant pastes or links to."""
    key = row["site_key"]
    return {**dict(row), "snippet": snippet(base_url, key), "policy_url": policy_url(base_url, key)}


def _answer(request: web.Request, row: Any, status: int = 200) -> web.Response:
    return json_response(SiteSchema().dump(shown(public_url(request), row)), status=status)


async def list_sites(request: web.Request) -> web.Response:
    merchant_id = principal(request).merchant_id
    page = ListRequest.read(request, sites.KEYSET, f"sites:{merchant_id}", ListQuery())
    async with request.app[DB].connection() as conn:
        rows = await sites.list_sites(conn, merchant_id, after=page.after, limit=page.limit)
    base = public_url(request)

    def dump(rows: Sequence[Any]) -> list[Any]:
        return list(SiteSchema(many=True).dump([shown(base, r) for r in rows]))

    return page.answer(rows, dump)


async def create_site(request: web.Request) -> web.Response:
    data = await read_body(request)
    async with request.app[DB].connection() as conn:
        row = await sites.create_site(conn, principal(request).merchant_id, data)
    return _answer(request, row, 201)


async def get_site(request: web.Request) -> web.Response:
    return _answer(request, await owned_site(request))


async def update_site(request: web.Request) -> web.Response:
    patch = await read_body(request)
    async with request.app[DB].connection() as conn:
        row = await sites.update_site(
            conn, principal(request).merchant_id, site_key_in(request.match_info), patch
        )
    return _answer(request, row)


async def disable_site(request: web.Request) -> web.Response:
    async with request.app[DB].connection() as conn:
        await sites.disable_site(
            conn, principal(request).merchant_id, site_key_in(request.match_info)
        )
    return web.Response(status=204)


TAG = "Sites"
ROUTES = (
    Route("GET", "/v1/sites", list_sites, "List sites", TAG, query=ListQuery, response=SitePage),
    Route(
        "POST",
        "/v1/sites",
        create_site,
        "Create a site",
        TAG,
        status=201,
        body=SiteInputSchema,
        response=SiteSchema,
        description="Without `form` the site gets name, email, phone and message fields and a marketing "
        "opt-in; without `purposes`, necessary, analytics and marketing. Publish a policy next: until "
        "then the widget's writes answer 409.",
    ),
    Route("GET", "/v1/sites/{site_key}", get_site, "Read a site", TAG, response=SiteSchema),
    Route(
        "PATCH",
        "/v1/sites/{site_key}",
        update_site,
        "Change a site",
        TAG,
        body=SiteInputSchema(partial=True),
        response=SiteSchema,
        description="Send only what changes; top-level members replace the current ones and the result "
        "is validated as a whole.",
    ),
    Route(
        "DELETE",
        "/v1/sites/{site_key}",
        disable_site,
        "Disable a site",
        TAG,
        status=204,
        description="The widget API then answers 404 for it; its data stays until retention or erasure, "
        "and the site stays readable here with `disabled_at` set. Disabling it again also answers 204.",
    ),
)
