"""GET/POST /v1/sites and GET/PATCH/DELETE /v1/sites/SITE_KEY: a merchant's sites."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from widget_server.http import json_response
from widget_server.keys import DB
from widget_server.problems import ProblemError
from widget_server.queries import merchant_sites, sites
from widget_server.schemas.merchant import ListQuery, page_of
from widget_server.schemas.site import SITE_INPUT_FIELDS, SiteInputSchema, SiteSchema
from widget_server.merchant_api import pagination
from widget_server.merchant_api.auth import principal
from widget_server.merchant_api.common import (
    load,
    load_body,
    load_query,
    not_found,
    owned_site,
    page,
    public_url,
    read_body,
    secret,
    site_key_in,
    time_cursor,
)
from widget_server.merchant_api.operations import Operation

SitePage = page_of(SiteSchema, "SitePage")
SCOPE = "sites"


def shown(base_url: str, row: Any) -> dict[str, Any]:
    """The stored site plus what a merchant pastes or links to."""
    key = row["site_key"]
    snippet = f'<script async src="{html.escape(base_url)}/widget.js" data-site="{html.escape(key)}"></script>'
    return {**dict(row), "snippet": snippet, "policy_url": f"{base_url}/policy/{key}"}


def _dump_all(base_url: str) -> Any:
    def dump(rows: Sequence[Any]) -> list[Any]:
        return list(SiteSchema(many=True).dump([shown(base_url, r) for r in rows]))

    return dump


async def list_sites(request: web.Request) -> web.Response:
    query = load_query(request, ListQuery())
    merchant_id = principal(request).merchant_id
    scope = f"{SCOPE}:{merchant_id}"
    after = pagination.decode_time_key(secret(request), scope, query.get("cursor"))
    async with request.app[DB].connection() as conn:
        rows = await merchant_sites.list_sites(
            conn, merchant_id, after=after, limit=query["limit"] + 1
        )
    return page(
        rows, query["limit"], _dump_all(public_url(request)), time_cursor(request, scope, "site_id")
    )


async def create_site(request: web.Request) -> web.Response:
    values = await load_body(request, SiteInputSchema())
    async with request.app[DB].connection() as conn:
        row = await sites.create_site(conn, principal(request).merchant_id, **values)
    site = {**dict(row), "policy_version": None}
    return json_response(SiteSchema().dump(shown(public_url(request), site)), status=201)


async def get_site(request: web.Request) -> web.Response:
    site = await owned_site(request)
    return json_response(SiteSchema().dump(shown(public_url(request), site)))


async def update_site(request: web.Request) -> web.Response:
    patch = await read_body(request)
    if not isinstance(patch, dict):
        raise ProblemError(
            422, "The body must be a JSON object.", errors={"_body": ["Expected an object."]}
        )
    merchant_id, key = principal(request).merchant_id, site_key_in(request.match_info)
    async with request.app[DB].transaction() as conn:
        current = await merchant_sites.lock_site(conn, merchant_id, key)
        if current is None:
            raise not_found("No such site for this key's merchant.")
        # Validated as a whole: the patch lands on the current settings, and the result must hold.
        values = load(SiteInputSchema(), {**{f: current[f] for f in SITE_INPUT_FIELDS}, **patch})
        await merchant_sites.update_site(conn, current["site_id"], values)
        site = await merchant_sites.owned_site(conn, merchant_id, key)
    assert site is not None
    return json_response(SiteSchema().dump(shown(public_url(request), site)))


async def disable_site(request: web.Request) -> web.Response:
    async with request.app[DB].connection() as conn:
        found = await merchant_sites.disable_site(
            conn, principal(request).merchant_id, site_key_in(request.match_info)
        )
    if not found:
        raise not_found("No such site for this key's merchant.")
    return web.Response(status=204)


TAG = "Sites"
OPERATIONS = (
    Operation(
        "GET", "/v1/sites", list_sites, "List sites", TAG, query=ListQuery, response=SitePage
    ),
    Operation(
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
    Operation("GET", "/v1/sites/{site_key}", get_site, "Read a site", TAG, response=SiteSchema),
    Operation(
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
    Operation(
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
