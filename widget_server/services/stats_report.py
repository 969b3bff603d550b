"""The statistics of a range of days: final days from the aggregates, the rest counted as they stand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import asyncpg

from widget_server.db.queries import stats_daily, stats_facts, stats_rollups
from widget_server.domain import calendar
from widget_server.domain.errors import Invalid
from widget_server.domain.rows import Row
from widget_server.services.rollups import (
    PAGES_PER_DAY,
    REFERRERS_PER_DAY,
    ConsentFigures,
    DayFigures,
    figures,
)

MAX_DAYS = 400
DEFAULT_DAYS = 30
ACTIONS = ("accept_all", "reject_all", "custom", "withdraw", "accept_terms")
_ONE = dt.timedelta(days=1)


def period(
    zone: str, now: dt.datetime, first: dt.date | None, last: dt.date | None
) -> tuple[dt.date, dt.date]:
    """`from` and `to`, both included: by default the 30 days up to today in the site's zone."""
    if last is None:
        last = calendar.local_today(zone, now)
    if first is None:
        first = dt.date.fromordinal(max(1, last.toordinal() - (DEFAULT_DAYS - 1)))
    if last < first:
        raise Invalid({"to": ["Must not be before from."]})
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid({"to": [f"At most {MAX_DAYS} days from `from`."]})
    return first, last


def _avg(total: int, count: int) -> int | None:
    return round(total / count) if count else None


class _Day:
    """One day's numbers, summed from what was stored and what is counted live."""

    def __init__(self) -> None:
        self.pageviews = self.visitors = self.engagements = self.engaged_ms = self.requests = 0
        self.median: tuple[int, int | None] = (0, None)  # (sample size, median)
        self.decisions = 0
        self.decided = 0

    def add(
        self,
        pageviews: int,
        visitors: int,
        engagements: int,
        engaged_ms: int,
        median: int | None,
        requests: int,
    ) -> None:
        self.pageviews += pageviews
        self.visitors += visitors
        self.engagements += engagements
        self.engaged_ms += engaged_ms
        self.requests += requests
        if median is not None and engagements >= self.median[0]:
            self.median = (engagements, median)


def _merge_consent(
    into: ConsentFigures,
    decisions: Mapping[str, int],
    granted: Mapping[str, int],
    counted: int,
    decided: int,
) -> None:
    for action, n in decisions.items():
        into.decisions[action] = into.decisions.get(action, 0) + n
    for purpose, n in granted.items():
        into.granted[purpose] = into.granted.get(purpose, 0) + n
    into.visitors_counted += counted
    into.visitors_decided += decided


def _top(sums: dict[str, list[int]], limit: int) -> list[tuple[str, list[int]]]:
    return sorted(sums.items(), key=lambda item: (-item[1][0], item[0]))[:limit]


async def report(
    conn: asyncpg.Connection,
    site: Row,
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    limit: int = 10,
) -> dict[str, Any]:
    """The contract's statistics: totals, days, top pages and referrers, the consent part
    (`limit` 0: no top lists, for the chart)."""
    site_id, zone = site["site_id"], site["time_zone"]
    through = await stats_rollups.final_through(conn, site_id)
    live_first = first if through is None else max(first, through + _ONE)
    live_days = calendar.days(live_first, min(last, calendar.local_today(zone, now)))
    live: dict[dt.date, DayFigures] = await figures(conn, site_id, zone, live_days, pages=False)

    per_day = {d: _Day() for d in calendar.days(first, last)}
    for r in await stats_daily.days(conn, site_id, first, last):
        per_day[r["day"]].add(
            r["pageviews"],
            r["visitors"],
            r["engagements"],
            r["engaged_ms"],
            r["median_engaged_ms"],
            r["requests"],
        )
    for f in live.values():
        per_day[f.day].add(
            f.pageviews, f.visitors, f.engagements, f.engaged_ms, f.median_engaged_ms, f.requests
        )

    versions: dict[int, ConsentFigures] = {}
    for r in await stats_daily.consents(conn, site_id, first, last):
        _merge_consent(
            versions.setdefault(r["policy_version"], ConsentFigures()),
            r["decisions"],
            r["granted"],
            r["visitors_counted"],
            r["visitors_decided"],
        )
        per_day[r["day"]].decisions += sum(r["decisions"].values())
        per_day[r["day"]].decided += r["visitors_decided"]
    for f in live.values():
        for version, c in f.consents.items():
            _merge_consent(
                versions.setdefault(version, ConsentFigures()),
                c.decisions,
                c.granted,
                c.visitors_counted,
                c.visitors_decided,
            )
            per_day[f.day].decisions += sum(c.decisions.values())
            per_day[f.day].decided += c.visitors_decided

    pages: dict[str, list[int]] = {}
    referrers: dict[str, list[int]] = {}
    if limit:
        pages, referrers = await _top_lists(conn, site, first, last, now, live_days, limit)
    return _answer(site, per_day, versions, pages, referrers, limit, through)


async def _top_lists(
    conn: asyncpg.Connection,
    site: Row,
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    live_days: list[dt.date],
    limit: int,
) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
    """Top pages and referrers: the aggregates' top `limit` (whole months from the monthly sums)
    plus every path and host of the open days, merged, so the list is exact."""
    site_id, zone = site["site_id"], site["time_zone"]
    kept_from = calendar.local_today(zone, now) - dt.timedelta(days=site["retention_days"])
    months = calendar.whole_months(first, last, kept_from)
    live_pages = await stats_facts.page_sums(conn, site_id, live_days, PAGES_PER_DAY)
    live_refs = await stats_facts.referrer_sums(conn, site_id, live_days, REFERRERS_PER_DAY)
    pages: dict[str, list[int]] = {}
    referrers: dict[str, list[int]] = {}
    for r in await stats_daily.top_pages(
        conn, site_id, first, last, months, limit, [r["path"] for r in live_pages]
    ):
        pages[r["path"]] = [r["pageviews"], r["engagements"], r["engaged_ms"]]
    for r in live_pages:
        sums = pages.setdefault(r["path"], [0, 0, 0])
        sums[0] += r["pageviews"]
        sums[1] += r["engagements"]
        sums[2] += r["engaged_ms"]
    for r in await stats_daily.top_referrers(
        conn, site_id, first, last, months, limit, [r["host"] for r in live_refs]
    ):
        referrers[r["host"]] = [r["visits"]]
    for r in live_refs:
        referrers.setdefault(r["host"], [0])[0] += r["visits"]
    return pages, referrers


def _purposes(site: Row, seen: Iterable[str]) -> list[str]:
    keys = [p["key"] for p in site["purposes"] if isinstance(p, dict) and "key" in p]
    return list(dict.fromkeys([*keys, *sorted(seen)]))


def _answer(
    site: Row,
    per_day: dict[dt.date, _Day],
    versions: dict[int, ConsentFigures],
    pages: dict[str, list[int]],
    referrers: dict[str, list[int]],
    limit: int,
    through: dt.date | None,
) -> dict[str, Any]:
    engagements = sum(d.engagements for d in per_day.values())
    engaged_ms = sum(d.engaged_ms for d in per_day.values())
    consents = dict.fromkeys(ACTIONS, 0)
    for c in versions.values():
        for action, n in c.decisions.items():
            consents[action] = consents.get(action, 0) + n
    return {
        "totals": {
            "pageviews": sum(d.pageviews for d in per_day.values()),
            "visitors": sum(d.visitors for d in per_day.values()),
            "avg_time_on_page_ms": _avg(engaged_ms, engagements),
            "consents": consents,
            "requests": sum(d.requests for d in per_day.values()),
        },
        "days": [
            {
                "date": day,
                "pageviews": d.pageviews,
                "visitors": d.visitors,
                "avg_time_on_page_ms": _avg(d.engaged_ms, d.engagements),
                "median_time_on_page_ms": d.median[1],
                "consents": d.decisions,
                "visitors_decided": d.decided,
                "consent_rate": round(100 * d.decided / d.visitors, 1) if d.visitors else None,
                "requests": d.requests,
                "final": through is not None and day <= through,
            }
            for day, d in per_day.items()
        ],
        "top_pages": [
            {"path": path, "pageviews": s[0], "avg_time_on_page_ms": _avg(s[2], s[1])}
            for path, s in _top(pages, limit)
        ],
        "top_referrers": [{"host": host, "visits": s[0]} for host, s in _top(referrers, limit)],
        "consent": [
            {
                "policy_version": version,
                "decisions": {**dict.fromkeys(ACTIONS, 0), **c.decisions},
                "granted": {**dict.fromkeys(_purposes(site, c.granted), 0), **c.granted},
                "visitors_counted": c.visitors_counted,
                "visitors_decided": c.visitors_decided,
            }
            for version, c in sorted(versions.items())
        ],
    }
