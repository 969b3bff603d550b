"""GET/POST /v1/sites/SITE_KEY/policies: the versions of a site's terms, and publishing a new one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from widget_server.http import json_response
from widget_server.keys import DB
from widget_server.queries import merchant_sites, policies
from widget_server.schemas.merchant import (
    SHA256_RULE,
    ListQuery,
    PolicyCreateSchema,
    PolicyPage,
    PolicySchema,
)
from widget_server.merchant_api import pagination
from widget_server.merchant_api.common import (
    load_body,
    load_query,
    owned_site,
    page,
    public_url,
    secret,
)
from widget_server.merchant_api.operations import Operation


def _shown(base_url: str, site_key: str, row: Any) -> dict[str, Any]:
    return {**dict(row), "url": f"{base_url}/policy/{site_key}/{row['version']}"}


async def list_policies(request: web.Request) -> web.Response:
    site = await owned_site(request)
    query = load_query(request, ListQuery())
    scope = f"policies:{site['site_id']}"
    key = secret(request)
    after = pagination.decode_int_key(key, scope, query.get("cursor"))
    async with request.app[DB].connection() as conn:
        rows = await merchant_sites.list_policies(
            conn, site["site_id"], after=after, limit=query["limit"] + 1
        )
    base = public_url(request)

    def dump(shown: Sequence[Any]) -> list[Any]:
        return list(
            PolicySchema(many=True).dump([_shown(base, site["site_key"], r) for r in shown])
        )

    return page(
        rows, query["limit"], dump, lambda row: pagination.encode(key, scope, [row["version"]])
    )


async def publish_policy(request: web.Request) -> web.Response:
    site = await owned_site(request)
    body = await load_body(request, PolicyCreateSchema())
    body["language"] = body["language"] or site["default_locale"]
    async with request.app[DB].connection() as conn:
        row = await policies.publish(conn, site["site_id"], **body)
    return json_response(
        PolicySchema().dump(_shown(public_url(request), site["site_key"], row)), status=201
    )


OPERATIONS = (
    Operation(
        "GET",
        "/v1/sites/{site_key}/policies",
        list_policies,
        "List policy versions",
        "Policies",
        query=ListQuery,
        response=PolicyPage,
    ),
    Operation(
        "POST",
        "/v1/sites/{site_key}/policies",
        publish_policy,
        "Publish a new policy version",
        "Policies",
        status=201,
        body=PolicyCreateSchema,
        response=PolicySchema,
        description="The new version becomes current at once; versions count up from 1 per site and "
        "are immutable. The widget's visitors are asked again, since their consent names the version "
        "they saw. `sha256`: " + SHA256_RULE,
    ),
)
