"""GET /v1/sites/SITE_KEY/consents: the consent log, each record with its receipt checked again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from widget_server import receipts
from widget_server.keys import DB
from widget_server.queries import merchant_consents
from widget_server.queries.merchant_consents import ConsentFilter
from widget_server.schemas.merchant import ConsentListQuery, ConsentRecordPage, ConsentRecordSchema
from widget_server.merchant_api import pagination
from widget_server.merchant_api.common import (
    load_query,
    owned_site,
    page,
    secret,
    time_cursor,
    time_window,
)
from widget_server.merchant_api.operations import Operation


def consent_filter(site: Mapping[str, Any], query: Mapping[str, Any]) -> ConsentFilter:
    return ConsentFilter(
        visitor_id=query.get("visitor_id"),
        action=query.get("action"),
        policy_version=query.get("policy_version"),
        window=time_window(site, query),
    )


def with_verdict(key: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """The record and whether its receipt still matches its fields."""
    return {**dict(row), "verified": receipts.verify(key, row)}


async def list_consents(request: web.Request) -> web.Response:
    site = await owned_site(request)
    query = load_query(request, ConsentListQuery())
    key = secret(request)
    scope = f"consents:{site['site_id']}"
    after = pagination.decode_time_key(key, scope, query.get("cursor"))
    async with request.app[DB].connection() as conn:
        rows = await merchant_consents.list_consents(
            conn,
            site["site_id"],
            consent_filter(site, query),
            after=after,
            limit=query["limit"] + 1,
        )

    def dump(shown: Sequence[Any]) -> list[Any]:
        return list(ConsentRecordSchema(many=True).dump([with_verdict(key, r) for r in shown]))

    return page(rows, query["limit"], dump, time_cursor(request, scope, "record_id"))


OPERATIONS = (
    Operation(
        "GET",
        "/v1/sites/{site_key}/consents",
        list_consents,
        "List the consent log",
        "Consent log",
        query=ConsentListQuery,
        response=ConsentRecordPage,
        description="Newest first. Each record carries every proof field, its `receipt` (an HMAC over "
        "them) and `verified`, the result of checking that receipt again now.",
    ),
)
