"""GET/POST /v1/sites/SITE_KEY/policies: the versions of a site's terms, and publishing a new one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from widget_server.domain.snippet import policy_url
from widget_server.keys import DB
from widget_server.schemas.merchant import (
    SHA256_RULE,
    ListQuery,
    PolicyCreateSchema,
    PolicyPage,
    PolicySchema,
)
from widget_server.services import policies
from widget_server.web.http import json_response
from widget_server.web.merchant.common import ListRequest, owned_site, public_url, read_body
from widget_server.web.routes import Route


def _shown(base_url: str, site_key: str, row: Any) -> dict[str, Any]:
    return {**dict(row), "url": policy_url(base_url, site_key, row["version"])}


async def list_policies(request: web.Request) -> web.Response:
    site = await owned_site(request)
    page = ListRequest.read(request, policies.KEYSET, f"policies:{site['site_id']}", ListQuery())
    async with request.app[DB].connection() as conn:
        rows = await policies.list_policies(
            conn, site["site_id"], after=page.after, limit=page.limit
        )
    base = public_url(request)

    def dump(shown: Sequence[Any]) -> list[Any]:
        return list(
            PolicySchema(many=True).dump([_shown(base, site["site_key"], r) for r in shown])
        )

    return page.answer(rows, dump)


async def publish_policy(request: web.Request) -> web.Response:
    site = await owned_site(request)
    data = await read_body(request)
    async with request.app[DB].connection() as conn:
        row = await policies.publish_policy(conn, site, data)
    return json_response(
        PolicySchema().dump(_shown(public_url(request), site["site_key"], row)), status=201
    )


TAG = "Policies"
ROUTES = (
    Route(
        "GET",
        "/v1/sites/{site_key}/policies",
        list_policies,
        "List policy versions",
        TAG,
        query=ListQuery,
        response=PolicyPage,
    ),
    Route(
        "POST",
        "/v1/sites/{site_key}/policies",
        publish_policy,
        "Publish a new policy version",
        TAG,
        status=201,
        body=PolicyCreateSchema,
        response=PolicySchema,
        description="The new version becomes current at once; versions count up from 1 per site and "
        "are immutable. The widget's visitors are asked again, since their consent names the version "
        "they saw. `sha256`: " + SHA256_RULE,
    ),
)
