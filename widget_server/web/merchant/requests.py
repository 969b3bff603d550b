"""The info requests of a site: list, read, change status, delete (exports are in exports.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from widget_server.db.queries.info_requests import RequestFilter
from widget_server.domain.rows import Row
from widget_server.keys import DB
from widget_server.schemas.loading import load
from widget_server.schemas.merchant import (
    InfoRequestPage,
    InfoRequestSchema,
    RequestListQuery,
    RequestStatusPatchSchema,
)
from widget_server.services import requests
from widget_server.web.http import json_response
from widget_server.web.merchant.common import (
    ListRequest,
    owned_site,
    path_uuid,
    read_body,
    time_window,
)
from widget_server.web.routes import Route


def request_filter(site: Row, query: Mapping[str, Any]) -> RequestFilter:
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
    scope = f"requests:{site['site_id']}"
    page = ListRequest.read(request, requests.KEYSET, scope, RequestListQuery())
    filt = request_filter(site, page.query)
    async with request.app[DB].connection() as conn:
        rows = await requests.list_requests(
            conn, site["site_id"], filt, after=page.after, limit=page.limit
        )
    return page.answer(rows, _dump)


async def get_request(request: web.Request) -> web.Response:
    site = await owned_site(request)
    async with request.app[DB].connection() as conn:
        row = await requests.get_request(conn, site["site_id"], path_uuid(request, "request_id"))
    return json_response(InfoRequestSchema().dump(row))


async def update_request(request: web.Request) -> web.Response:
    site = await owned_site(request)
    request_id = path_uuid(request, "request_id")
    body = load(RequestStatusPatchSchema(), await read_body(request))
    async with request.app[DB].connection() as conn:
        row = await requests.set_status(conn, site["site_id"], request_id, body["status"])
    return json_response(InfoRequestSchema().dump(row))


async def delete_request(request: web.Request) -> web.Response:
    site = await owned_site(request)
    async with request.app[DB].connection() as conn:
        await requests.delete_request(conn, site["site_id"], path_uuid(request, "request_id"))
    return web.Response(status=204)


TAG = "Info requests"
ONE = "/v1/sites/{site_key}/requests/{request_id}"
ROUTES = (
    Route(
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
    Route("GET", ONE, get_request, "Read an info request", TAG, response=InfoRequestSchema),
    Route(
        "PATCH",
        ONE,
        update_request,
        "Set an info request's status",
        TAG,
        body=RequestStatusPatchSchema,
        response=InfoRequestSchema,
    ),
    Route(
        "DELETE",
        ONE,
        delete_request,
        "Delete an info request",
        TAG,
        status=204,
        description="The consent record sent with it stays: it is the proof of what was agreed.",
    ),
)
