"""Retention is enforced by code: `widget-server purge` deletes what is past each site's limit."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

from tests.conftest import Tenant
from tests.stats_support import Hit, StatsSite, ingest
from widget_server.domain.ids import uuid7
from widget_server.services import retention, rollups, salts


async def add_record(db: asyncpg.Connection, t: Tenant, age_days: float) -> uuid.UUID:
    created = dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)
    record_id = uuid7()
    await db.execute(
        """INSERT INTO consent_records (site_id, record_id, event_id, visitor_id, action, surface,
               purposes, policy_version, policy_sha256, language, page_origin, page_path, gpc,
               created_at, valid_until, receipt)
           VALUES ($1, $2, $3, 'visitor-1', 'accept_all', 'banner', '{}', $4, 'h', 'en',
                   'https://shop.example', '/', false, $5, $5, 'r')""",
        t.site_id,
        record_id,
        uuid.uuid4(),
        t.policy_version,
        created,
    )
    return record_id


async def add_request(db: asyncpg.Connection, t: Tenant, age_days: float) -> None:
    created = dt.datetime.now(dt.UTC) - dt.timedelta(days=age_days)
    await db.execute(
        """INSERT INTO info_requests (site_id, request_id, event_id, visitor_id, fields, email,
               marketing_opt_in, policy_version, language, page_origin, page_path, created_at, updated_at)
           VALUES ($1, $2, $3, 'v', '{}', 'a@example.com', false, $4, 'en', 'https://shop.example', '/', $5, $5)""",
        t.site_id,
        uuid7(),
        uuid.uuid4(),
        t.policy_version,
        created,
    )


async def test_purge_respects_each_sites_retention(
    db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    short = await make_tenant("Short", retention_days=30)
    long = await make_tenant("Long", retention_days=400)
    keep_short = await add_record(db, short, 10)
    await add_record(db, short, 31)
    await add_record(db, long, 31)
    await add_request(db, short, 45)
    await add_request(db, long, 45)
    today = dt.datetime.now(dt.UTC)
    # Page views of 10 and 31 days ago on both sites, rolled up into daily aggregates.
    for t in (short, long):
        hits = [Hit(today - dt.timedelta(days=age), f"/{age}") for age in (10, 31)]
        hits.append(Hit(today - dt.timedelta(days=31), "/31", kind="engagement", engaged_ms=900))
        await ingest(db, StatsSite(t.site_id), hits)
    await rollups.run(db, today)
    await salts.forget(db, today)  # what the salt job does meanwhile
    # Days with page views (10, 31) or a request (45) have a row per site.
    assert await db.fetchval("SELECT count(*) FROM stats_days") == 6
    await db.execute(
        "INSERT INTO daily_salts (time_zone, day, salt, created_at) VALUES ('UTC', $1, 'a', $2), ('UTC', $3, 'b', $4)",
        (today - dt.timedelta(days=3)).date(),
        today - dt.timedelta(hours=49),
        today.date(),
        today,
    )

    cutoff = today.date() - dt.timedelta(days=30)
    # Past the short site's retention: its days 31 and 45 in stats_days, its page and consents
    # of day 31, and the monthly sums of every month that has such a day.
    doomed = 4 + await db.fetchval(
        """SELECT (SELECT count(*) FROM stats_pages_months WHERE site_id = $1 AND month < $2)
                + (SELECT count(*) FROM stats_referrers_months WHERE site_id = $1 AND month < $2)""",
        short.site_id,
        cutoff,
    )
    assert doomed >= 5

    counts = await retention.purge(db)

    assert counts == {
        "consent_records": 1,
        "info_requests": 1,
        "statistics": doomed,
        "daily_salts": 1,
        "visitor_hashes": 0,
    }
    rows: list[Any] = await db.fetch(
        "SELECT site_id, record_id FROM consent_records ORDER BY site_id"
    )
    assert {(r["site_id"], r["record_id"]) for r in rows if r["site_id"] == short.site_id} == {
        (short.site_id, keep_short)
    }
    assert (
        await db.fetchval("SELECT count(*) FROM consent_records WHERE site_id = $1", long.site_id)
        == 1
    )
    assert await db.fetchval("SELECT count(*) FROM info_requests") == 1
    assert await db.fetchval("SELECT count(*) FROM daily_salts") == 1
    kept = await db.fetch("SELECT site_id, day FROM stats_days ORDER BY site_id, day")
    assert sorted((r["site_id"], (today.date() - r["day"]).days) for r in kept) == sorted(
        [(short.site_id, 10), (long.site_id, 10), (long.site_id, 31), (long.site_id, 45)]
    )
    assert not await db.fetchval(
        "SELECT count(*) FROM stats_pages WHERE site_id = $1 AND path = '/31'", short.site_id
    )
    assert not await db.fetchval(
        "SELECT count(*) FROM stats_pages_months WHERE site_id = $1 AND month < $2",
        short.site_id,
        cutoff,
    )
    assert await db.fetchval(
        "SELECT count(*) FROM stats_pages_months WHERE site_id = $1", long.site_id
    ) == await db.fetchval(
        "SELECT count(DISTINCT (date_trunc('month', day), path)) FROM stats_pages WHERE site_id = $1",
        long.site_id,
    )
    assert await retention.purge(db) == dict.fromkeys(counts, 0)
