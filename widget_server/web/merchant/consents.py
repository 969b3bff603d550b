"""GET /v1/sites/SITE_KEY/consents: the consent log, each record with its receipt checked again."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from widget_server.db.queries.consent_records import ConsentFilter
from widget_server.domain.rows import Row
from widget_server.keys import DB
from widget_server.schemas.merchant import ConsentListQuery, ConsentRecordPage, ConsentRecordSchema
from widget_server.services import consents
from widget_server.web.merchant.common import ListRequest, owned_site, secret, time_window
from widget_server.web.routes import Route


def consent_filter(site: Row, query: Mapping[str, Any]) -> ConsentFilter:
    return ConsentFilter(
        visitor_id=query.get("visitor_id"),
        action=query.get("action"),
        policy_version=query.get("policy_version"),
        window=time_window(site, query),
    )


async def list_consents(request: web.Request) -> web.Response:
    site = await owned_site(request)
    scope = f"consents:{site['site_id']}"
    page = ListRequest.read(request, consents.KEYSET, scope, ConsentListQuery())
    filt = consent_filter(site, page.query)
    async with request.app[DB].connection() as conn:
        rows = await consents.list_consents(
            conn, site["site_id"], filt, after=page.after, limit=page.limit
        )
    key = secret(request)

    def dump(shown: Sequence[Any]) -> list[Any]:
        verdicts = [consents.with_verdict(key, r) for r in shown]
        return list(ConsentRecordSchema(many=True).dump(verdicts))

    return page.answer(rows, dump)


ROUTES = (
    Route(
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
