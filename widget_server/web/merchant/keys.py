"""GET/POST /v1/api-keys and DELETE /v1/api-keys/ID: a merchant's keys, the secret shown once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from widget_server.domain import apikeys
from widget_server.keys import DB
from widget_server.schemas.merchant import (
    ApiKeyCreatedSchema,
    ApiKeyCreateSchema,
    ApiKeyPage,
    ApiKeySchema,
    ListQuery,
)
from widget_server.services import api_keys
from widget_server.web.http import json_response
from widget_server.web.merchant.auth import principal
from widget_server.web.merchant.common import ListRequest, path_uuid, read_body
from widget_server.web.routes import Route


def _shown(row: Any, **extra: Any) -> dict[str, Any]:
    return {**dict(row), "prefix": apikeys.PREFIX + row["lookup"], **extra}


def _dump(rows: Sequence[Any]) -> list[Any]:
    return list(ApiKeySchema(many=True).dump([_shown(r) for r in rows]))


async def list_api_keys(request: web.Request) -> web.Response:
    merchant_id = principal(request).merchant_id
    page = ListRequest.read(request, api_keys.KEYSET, f"api-keys:{merchant_id}", ListQuery())
    async with request.app[DB].connection() as conn:
        rows = await api_keys.list_keys(conn, merchant_id, after=page.after, limit=page.limit)
    return page.answer(rows, _dump)


async def create_api_key(request: web.Request) -> web.Response:
    data = await read_body(request)
    async with request.app[DB].connection() as conn:
        row, key = await api_keys.create_key(conn, principal(request).merchant_id, data)
    return json_response(ApiKeyCreatedSchema().dump(_shown(row, secret=key)), status=201)


async def delete_api_key(request: web.Request) -> web.Response:
    key_id = path_uuid(request, "key_id")
    async with request.app[DB].connection() as conn:
        await api_keys.revoke_key(conn, principal(request).merchant_id, key_id)
    return web.Response(status=204)


TAG = "API keys"
ROUTES = (
    Route(
        "GET",
        "/v1/api-keys",
        list_api_keys,
        "List API keys",
        TAG,
        query=ListQuery,
        response=ApiKeyPage,
    ),
    Route(
        "POST",
        "/v1/api-keys",
        create_api_key,
        "Create an API key",
        TAG,
        status=201,
        body=ApiKeyCreateSchema,
        response=ApiKeyCreatedSchema,
        description="The answer holds the full `secret`; it is shown only once. A key with the `write` "
        "scope can also read: its scopes are stored and shown as `read` and `write`.",
    ),
    Route(
        "DELETE",
        "/v1/api-keys/{key_id}",
        delete_api_key,
        "Revoke an API key",
        TAG,
        status=204,
        description="Takes effect on the next request. Revoking an already revoked key also answers 204.",
    ),
)
