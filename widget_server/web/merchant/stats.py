"""GET /v1/sites/SITE_KEY/stats and stats.svg: anonymous statistics and the consent gap, per day."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from widget_server.domain.clock import now
from widget_server.keys import DB
from widget_server.schemas.stats import STATS, StatsChartQuery, StatsQuery, StatsSchema
from widget_server.services import stats_report
from widget_server.web.http import json_response
from widget_server.web.merchant import chart
from widget_server.web.merchant.common import load_query, owned_site
from widget_server.web.routes import Route

TAG = "Statistics"
SVG = "image/svg+xml"
HEADERS = {"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"}


async def _report(request: web.Request, query: dict[str, Any], limit: int) -> dict[str, Any]:
    site = await owned_site(request)
    moment = now()
    first, last = stats_report.period(
        site["time_zone"], moment, query.get("first"), query.get("last")
    )
    async with request.app[DB].connection() as conn:
        answer = await stats_report.report(conn, site, first, last, moment, limit=limit)
    answer["time_zone"] = site["time_zone"]
    return answer


async def get_stats(request: web.Request) -> web.Response:
    query = load_query(request, StatsQuery())
    answer = await _report(request, query, query["limit"])
    return json_response(STATS.dump(answer), headers=HEADERS)


async def get_stats_chart(request: web.Request) -> web.Response:
    query = load_query(request, StatsChartQuery())
    metric = query["metric"]
    answer = await _report(request, query, 0)  # no top lists in a chart
    series = [(day["date"], day[metric]) for day in answer["days"]]
    body = chart.render(series, metric, answer["time_zone"])
    return web.Response(
        text=body,
        content_type=SVG,
        charset="utf-8",
        headers={"Content-Security-Policy": chart.CSP, **HEADERS},
    )


ROUTES = (
    Route(
        "GET",
        "/v1/sites/{site_key}/stats",
        get_stats,
        "Statistics of a range of days",
        TAG,
        query=StatsQuery,
        response=StatsSchema,
        description="Page views, visitors, time on page, top pages and referrers, consent "
        "decisions and requests per day, `from` to `to` inclusive (at most 400 days; days in the "
        "site's time zone; default the last 30). `consent` shows, per policy version, the "
        "decisions by action, the grants per purpose and how many of the visitors counted "
        "answered the notice. No visit is ever linked to a person, a consent or a request.",
    ),
    Route(
        "GET",
        "/v1/sites/{site_key}/stats.svg",
        get_stats_chart,
        "The statistics as a chart",
        TAG,
        query=StatsChartQuery,
        media=(SVG,),
        description="An accessible SVG bar chart (`<title>`, `<desc>` with every day's value) of "
        "`pageviews`, `visitors` or `consent_rate` per day, drawn by the server: no script.",
    ),
)
