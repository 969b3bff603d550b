"""The info requests of a site: list, read, change status, delete (exports are in exports.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from widget_server.http import json_response
from widget_server.keys import DB
from widget_server.queries import merchant_requests
from widget_server.queries.merchant_requests import RequestFilter
from widget_server.schemas.merchant import (
    InfoRequestPage,
    InfoRequestSchema,
    RequestListQuery,
    RequestStatusPatchSchema,
)
from widget_server.merchant_api import pagination
from widget_server.merchant_api.common import (
    load_body,
    load_query,
    not_found,
    owned_site,
    page,
    path_uuid,
    secret,
    time_cursor,
    time_window,
)
from widget_server.merchant_api.operations import Operation

NO_REQUEST = "No such request for this site."


def request_filter(site: Mapping[str, Any], query: Mapping[str, Any]) -> RequestFilter:
    return RequestFilter(
        status=query.get("status"),
        window=time_window(site, query),
        email=query.get("email"),
        include_spam=query["include_spam"],
    )


def _dump(rows: Sequence[Any]) -> list[Any]:
    return list(InfoRequestSchema(many=True).dump(rows))


async def list_requests(request: web.Request) -> web.Response:
    site = await owned_site(request)
    query = load_query(request, RequestListQuery())
    scope = f"requests:{site['site_id']}"
    after = pagination.decode_time_key(secret(request), scope, query.get("cursor"))
    async with request.app[DB].connection() as conn:
        rows = await merchant_requests.list_requests(
            conn,
            site["site_id"],
            request_filter(site, query),
            after=after,
            limit=query["limit"] + 1,
        )
    return page(rows, query["limit"], _dump, time_cursor(request, scope, "request_id"))


async def get_request(request: web.Request) -> web.Response:
    site = await owned_site(request)
    request_id = path_uuid(request, "request_id")
    async with request.app[DB].connection() as conn:
        row = await merchant_requests.get_request(conn, site["site_id"], request_id)
    if row is None:
        raise not_found(NO_REQUEST)
    return json_response(InfoRequestSchema().dump(row))


async def update_request(request: web.Request) -> web.Response:
    site = await owned_site(request)
    request_id = path_uuid(request, "request_id")
    body = await load_body(request, RequestStatusPatchSchema())
    async with request.app[DB].connection() as conn:
        row = await merchant_requests.set_status(conn, site["site_id"], request_id, body["status"])
    if row is None:
        raise not_found(NO_REQUEST)
    return json_response(InfoRequestSchema().dump(row))


async def delete_request(request: web.Request) -> web.Response:
    site = await owned_site(request)
    request_id = path_uuid(request, "request_id")
    async with request.app[DB].connection() as conn:
        found = await merchant_requests.delete_request(conn, site["site_id"], request_id)
    if not found:
        raise not_found(NO_REQUEST)
    return web.Response(status=204)


TAG = "Info requests"
ONE = "/v1/sites/{site_key}/requests/{request_id}"
OPERATIONS = (
    Operation(
        "GET",
        "/v1/sites/{site_key}/requests",
        list_requests,
        "List info requests",
        TAG,
        query=RequestListQuery,
        response=InfoRequestPage,
        description="Newest first. Requests marked spam are left out unless `include_spam=true` or "
        "`status=spam`.",
    ),
    Operation("GET", ONE, get_request, "Read an info request", TAG, response=InfoRequestSchema),
    Operation(
        "PATCH",
        ONE,
        update_request,
        "Set an info request's status",
        TAG,
        body=RequestStatusPatchSchema,
        response=InfoRequestSchema,
    ),
    Operation(
        "DELETE",
        ONE,
        delete_request,
        "Delete an info request",
        TAG,
        status=204,
        description="The consent record sent with it stays: it is the proof of what was agreed.",
    ),
)
