"""GET/POST /v1/api-keys and DELETE /v1/api-keys/ID: a merchant's keys, the secret shown once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from widget_server import apikeys
from widget_server.http import json_response
from widget_server.keys import DB
from widget_server.queries import merchant_keys, merchants
from widget_server.schemas.merchant import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeyPage,
    ApiKeySchema,
    ListQuery,
)
from widget_server.merchant_api import pagination
from widget_server.merchant_api.auth import principal
from widget_server.merchant_api.common import (
    load_body,
    load_query,
    not_found,
    page,
    path_uuid,
    secret,
    time_cursor,
)
from widget_server.merchant_api.operations import Operation

SCOPE = "api-keys"  # cursors are per merchant already: the key decides whose list it is


def _shown(row: Any, **extra: Any) -> dict[str, Any]:
    return {**dict(row), "prefix": apikeys.PREFIX + row["lookup"], **extra}


def _dump(rows: Sequence[Any]) -> list[Any]:
    return list(ApiKeySchema(many=True).dump([_shown(r) for r in rows]))


async def list_api_keys(request: web.Request) -> web.Response:
    query = load_query(request, ListQuery())
    scope = f"{SCOPE}:{principal(request).merchant_id}"
    after = pagination.decode_time_key(secret(request), scope, query.get("cursor"))
    async with request.app[DB].connection() as conn:
        rows = await merchant_keys.list_keys(
            conn, principal(request).merchant_id, after=after, limit=query["limit"] + 1
        )
    return page(rows, query["limit"], _dump, time_cursor(request, scope, "key_id"))


async def create_api_key(request: web.Request) -> web.Response:
    body = await load_body(request, ApiKeyCreateSchema())
    # A key that may write may read: store both so the scopes shown are the truth.
    scopes = ["read", "write"] if "write" in body["scopes"] else ["read"]
    async with request.app[DB].connection() as conn:
        row, key = await merchants.create_key(
            conn, principal(request).merchant_id, name=body["name"], scopes=scopes
        )
    return json_response(ApiKeyCreatedSchema().dump(_shown(row, secret=key)), status=201)


async def delete_api_key(request: web.Request) -> web.Response:
    key_id = path_uuid(request, "key_id")
    async with request.app[DB].connection() as conn:
        found = await merchant_keys.revoke(conn, principal(request).merchant_id, key_id)
    if not found:
        raise not_found("No such API key for this key's merchant.")
    return web.Response(status=204)


OPERATIONS = (
    Operation(
        "GET",
        "/v1/api-keys",
        list_api_keys,
        "List API keys",
        "API keys",
        query=ListQuery,
        response=ApiKeyPage,
    ),
    Operation(
        "POST",
        "/v1/api-keys",
        create_api_key,
        "Create an API key",
        "API keys",
        status=201,
        body=ApiKeyCreateSchema,
        response=ApiKeyCreatedSchema,
        description="The answer holds the full `secret`; it is shown only once.",
    ),
    Operation(
        "DELETE",
        "/v1/api-keys/{key_id}",
        delete_api_key,
        "Revoke an API key",
        "API keys",
        status=204,
        description="Takes effect on the next request. Revoking an already revoked key also answers 204.",
    ),
)
