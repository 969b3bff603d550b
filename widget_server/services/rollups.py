"""The statistics rollup: each site's finished days into aggregates, then their raw facts dropped."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from widget_server.db.queries import stats_daily, stats_facts, stats_rollups, stats_sources
from widget_server.domain import calendar
from widget_server.domain.calendar import day_end, day_start, hour_end, last_final_day

PAGES_PER_DAY = 1000  # the long tail of a day's paths (or a flood of made-up ones) is not kept
REFERRERS_PER_DAY = 500
DAYS_PER_RUN = 400  # a run stays short; a backlog is worked off over the next runs
PARTITIONS_AHEAD = 2


@dataclass
class ConsentFigures:
    decisions: dict[str, int] = field(default_factory=dict)
    granted: dict[str, int] = field(default_factory=dict)
    visitors_counted: int = 0
    visitors_decided: int = 0


@dataclass
class DayFigures:
    """A day's statistics as the rollup stores them (and as the report shows a day not final)."""

    day: dt.date
    pageviews: int = 0
    visitors: int = 0
    engagements: int = 0
    engaged_ms: int = 0
    median_engaged_ms: int | None = None
    requests: int = 0
    # (path, pageviews, entries, engagements, engaged_ms, median_engaged_ms)
    pages: list[tuple[str, int, int, int, int, int | None]] = field(default_factory=list)
    referrers: list[tuple[str, int]] = field(default_factory=list)
    consents: dict[int, ConsentFigures] = field(default_factory=dict)


def _version_at(published: Sequence[tuple[int, dt.datetime]], moment: dt.datetime) -> int | None:
    """The newest policy version published before `moment`."""
    current = None
    for version, at in published:
        if at < moment:
            current = version
    return current


async def figures(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    zone: str,
    days: Sequence[dt.date],
    *,
    pages: bool = True,
) -> dict[dt.date, DayFigures]:
    """The figures of `days` (consecutive, in the site's time zone) from the raw facts, the
    consent log and the requests, each counted on its own; without `pages`, the per-page and
    per-referrer lists are left out (the report sums those over all its open days at once)."""
    out = {d: DayFigures(d) for d in days}
    if not days:
        return out
    for r in await stats_facts.day_totals(conn, site_id, days):
        f = out[r["day"]]
        f.pageviews, f.visitors = r["pageviews"], r["visitors"]
        f.engagements, f.engaged_ms = r["engagements"], r["engaged_ms"]
        f.median_engaged_ms = r["median_engaged_ms"]
    for r in await stats_facts.page_totals(conn, site_id, days, PAGES_PER_DAY) if pages else ():
        out[r["day"]].pages.append(
            (
                r["path"],
                r["pageviews"],
                r["entries"],
                r["engagements"],
                r["engaged_ms"],
                r["median_engaged_ms"],
            )
        )
    for r in (
        await stats_facts.referrer_totals(conn, site_id, days, REFERRERS_PER_DAY) if pages else ()
    ):
        out[r["day"]].referrers.append((r["host"], r["visits"]))
    start, end = day_start(zone, min(days)), day_end(zone, max(days))
    for r in await stats_sources.requests(conn, site_id, zone, start, end):
        if r["day"] in out:
            out[r["day"]].requests = r["n"]

    def consent(day: dt.date, version: int) -> ConsentFigures:
        return out[day].consents.setdefault(version, ConsentFigures())

    for r in await stats_sources.decisions(conn, site_id, zone, start, end):
        if r["day"] in out:
            consent(r["day"], r["policy_version"]).decisions[r["action"]] = r["n"]
    for r in await stats_sources.grants(conn, site_id, zone, start, end):
        if r["day"] in out:
            consent(r["day"], r["policy_version"]).granted[r["purpose"]] = r["n"]
    for r in await stats_sources.deciders(conn, site_id, zone, start, end):
        if r["day"] in out:
            consent(r["day"], r["policy_version"]).visitors_decided = r["n"]
    # Visitors are credited to the version current in their hour: counted beside the decisions,
    # never matched with them.
    published = await stats_sources.policy_times(conn, site_id)
    counted: dict[tuple[dt.date, int], int] = defaultdict(int)
    for r in await stats_facts.hourly_visitors(conn, site_id, days):
        version = _version_at(published, hour_end(zone, r["day"], r["hour"]))
        if version is not None:
            counted[(r["day"], version)] += r["visitors"]
    for (day, version), n in counted.items():
        consent(day, version).visitors_counted = n
    return out


async def finalise(conn: asyncpg.Connection, site_id: uuid.UUID, zone: str, day: dt.date) -> bool:
    """Store a finished day's figures and mark it final, in one transaction; False when another
    process did it first."""
    async with conn.transaction():
        through = await stats_rollups.lock(conn, site_id, day - dt.timedelta(days=1))
        if through >= day:
            return False
        f = (await figures(conn, site_id, zone, [day]))[day]
        totals = (f.pageviews, f.visitors, f.engagements, f.engaged_ms, f.median_engaged_ms)
        if any(totals[:4]) or f.requests:
            await stats_daily.add_day(conn, site_id, day, totals, f.requests)
        await stats_daily.add_pages(conn, site_id, day, f.pages)
        await stats_daily.add_referrers(conn, site_id, day, f.referrers)
        await stats_daily.put_consents(
            conn,
            site_id,
            day,
            [
                (v, c.decisions, c.granted, c.visitors_counted, c.visitors_decided)
                for v, c in sorted(f.consents.items())
            ],
        )
        await stats_rollups.advance(conn, site_id, day)
    return True


async def _first_day(conn: asyncpg.Connection, site: asyncpg.Record) -> dt.date:
    """Where a site's statistics begin: its creation, or earlier data (folded-in or imported)."""
    zone = site["time_zone"]
    candidates = [calendar.local_today(zone, site["created_at"])]
    activity = await stats_sources.first_activity(conn, site["site_id"])
    if activity is not None:
        candidates.append(calendar.local_today(zone, activity))
    for found in (
        await stats_facts.first_day(conn, site["site_id"]),
        await stats_daily.first_day(conn, site["site_id"]),
    ):
        if found is not None:
            candidates.append(found)
    return min(candidates)


async def finalise_due(
    conn: asyncpg.Connection, now: dt.datetime, budget: int = DAYS_PER_RUN
) -> int:
    """Finalise every site's days that are over (by calendar.FINAL_AFTER) in its time zone, up
    to `budget` days; returns how many were finalised."""
    done = 0
    for site in await stats_rollups.sites(conn):
        zone = site["time_zone"]
        last = last_final_day(zone, now)
        through = site["final_through"]
        if through is None:
            start = await _first_day(conn, site)
            if start > last:  # nothing to do yet: remember where it begins
                async with conn.transaction():
                    await stats_rollups.lock(conn, site["site_id"], start - dt.timedelta(days=1))
                continue
        else:
            start = through + dt.timedelta(days=1)
        for day in calendar.days(start, last):
            if done >= budget:
                return done
            if await finalise(conn, site["site_id"], zone, day):
                done += 1
    return done


async def drop_final_partitions(conn: asyncpg.Connection, now: dt.datetime) -> list[dt.date]:
    """Drop each day of raw facts that is over in every time zone and final for every site."""
    over_everywhere = now.astimezone(dt.UTC).date() - dt.timedelta(days=2)
    dropped = []
    for day in await stats_facts.partitions(conn):
        if day > over_everywhere:
            break
        if not await stats_facts.sites_not_final(conn, day):
            await stats_facts.drop_partition(conn, day)
            dropped.append(day)
    return dropped


async def run(conn: asyncpg.Connection, now: dt.datetime) -> dict[str, int]:
    """One turn of the rollup job: partitions ahead, finished days final, final days dropped."""
    today = now.astimezone(dt.UTC).date()
    ahead = calendar.days(today - dt.timedelta(days=1), today + dt.timedelta(days=PARTITIONS_AHEAD))
    created = await stats_facts.create_partitions(conn, ahead)
    finalised = await finalise_due(conn, now)
    dropped = await drop_final_partitions(conn, now)
    return {
        "partitions_created": len(created),
        "days_final": finalised,
        "partitions_dropped": len(dropped),
    }
