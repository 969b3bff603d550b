"""Rollups: a generated month gives the same statistics as counting the raw data directly, before
and after its days are final; final days' partitions are dropped; aggregates follow retention."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant
from tests.merchant_support import insert_request
from tests.stats_support import Hit, StatsSite, ingest, utc
from widget_server.db.queries import stats_facts
from widget_server.domain import calendar
from widget_server.domain.beacons import referrer_source
from widget_server.domain.ids import uuid7
from widget_server.services import rollups, salts

Client = TestClient[Any, Any]
MONTH = (dt.date(2024, 5, 1), dt.date(2024, 5, 31))
V2_AT = utc(2024, 5, 15, 12)
PATHS = [f"/page/{i}" for i in range(12)] + ["/", "/pricing", "/blog/medical-condition-x"]
REFERRERS = [
    None,
    None,
    "https://search.example/?q=x",
    "https://news.example/a",
    f"{HOST_ORIGIN}/",
    "https://www.social.example/",
]
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36",
]
ACTIONS = ["accept_all", "reject_all", "custom", "withdraw", "accept_terms"]


@dataclass
class Expected:
    """What the statistics must say, counted in Python from the generated events themselves."""

    zone: str
    pageviews: Counter[dt.date] = field(default_factory=Counter)
    visitors: dict[dt.date, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    first_view: dict[tuple[dt.date, str, str], dt.datetime] = field(default_factory=dict)
    pages: Counter[str] = field(default_factory=Counter)
    engaged: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    referrers: Counter[str] = field(default_factory=Counter)
    decisions: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    granted: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    deciders: dict[tuple[dt.date, int], set[str]] = field(default_factory=lambda: defaultdict(set))
    requests: Counter[dt.date] = field(default_factory=Counter)


def version_at(moment: dt.datetime) -> int:
    return 2 if moment > V2_AT else 1


async def generate(db: asyncpg.Connection, tenant: Tenant, zone: str, seed: int) -> Expected:
    rng = random.Random(seed)
    start, end = calendar.day_start(zone, MONTH[0]), calendar.day_end(zone, MONTH[1])
    span = (end - start).total_seconds()
    exp = Expected(zone)
    hits = []
    for _ in range(1800):
        at = start + dt.timedelta(seconds=rng.uniform(0, span - 1))
        ip, ua, path = f"198.51.100.{rng.randrange(60)}", rng.choice(AGENTS), rng.choice(PATHS)
        day = calendar.local_today(zone, at)
        if rng.random() < 0.7:
            referrer = rng.choice(REFERRERS)
            hits.append(Hit(at, path, ip=ip, user_agent=ua, referrer=referrer))
            exp.pageviews[day] += 1
            exp.visitors[day].add((ip, ua))
            exp.pages[path] += 1
            key = (day, ip, ua)
            exp.first_view[key] = min(exp.first_view.get(key, at), at)
            host = referrer_source(referrer, {"shop.example"})
            if host:
                exp.referrers[host] += 1
        else:
            ms = rng.randrange(1, 120_000)
            hits.append(Hit(at, path, kind="engagement", engaged_ms=ms, ip=ip, user_agent=ua))
            exp.engaged[path].append(ms)
    await ingest(db, StatsSite(tenant.site_id, zone), hits)

    for _ in range(400):
        at = start + dt.timedelta(seconds=rng.uniform(0, span - 1))
        action, visitor, version = rng.choice(ACTIONS), f"v{rng.randrange(90)}", version_at(at)
        purposes = {
            "necessary": True,
            "analytics": action == "accept_all",
            "marketing": action == "accept_all",
        }
        if action == "custom":
            purposes.update(analytics=rng.random() < 0.5, marketing=rng.random() < 0.3)
        await db.execute(
            """INSERT INTO consent_records (site_id, record_id, event_id, visitor_id, action, surface,
                   purposes, policy_version, policy_sha256, language, page_origin, page_path, gpc,
                   created_at, valid_until, receipt)
               VALUES ($1, $2, $3, $4, $5, 'banner', $6, $7, 'h', 'en', $8, '/', false, $9, $9, 'r')""",
            tenant.site_id,
            uuid7(),
            uuid.uuid4(),
            visitor,
            action,
            purposes,
            version,
            HOST_ORIGIN,
            at,
        )
        exp.decisions[version][action] += 1
        if action != "accept_terms":
            exp.deciders[(calendar.local_today(zone, at), version)].add(visitor)
            for purpose, on in purposes.items():
                if on:
                    exp.granted[version][purpose] += 1
    for i in range(60):
        at = start + dt.timedelta(seconds=rng.uniform(0, span - 1))
        spam = i % 7 == 0
        await insert_request(db, tenant, created_at=at, status="spam" if spam else "new")
        if not spam:
            exp.requests[calendar.local_today(zone, at)] += 1
    return exp


async def month_site(
    make_tenant: Callable[..., Awaitable[Tenant]], db: asyncpg.Connection, name: str, zone: str
) -> Tenant:
    tenant = await make_tenant(name, policy=False, time_zone=zone)
    for version, at in ((1, utc(2024, 4, 1)), (2, V2_AT)):
        await db.execute(
            """INSERT INTO policies (site_id, version, title, body, language, sha256, published_at)
               VALUES ($1, $2, 'Terms', 'Text', 'en', 'h', $3)""",
            tenant.site_id,
            version,
            at,
        )
    tenant.policy_version = 2
    return tenant


def check(answer: dict[str, Any], exp: Expected) -> None:
    days = calendar.days(*MONTH)
    assert [d["date"] for d in answer["days"]] == [d.isoformat() for d in days]
    assert [d["pageviews"] for d in answer["days"]] == [exp.pageviews[d] for d in days]
    assert [d["visitors"] for d in answer["days"]] == [len(exp.visitors[d]) for d in days]
    assert [d["requests"] for d in answer["days"]] == [exp.requests[d] for d in days]
    totals = answer["totals"]
    assert totals["pageviews"] == sum(exp.pageviews.values())
    assert totals["visitors"] == sum(len(v) for v in exp.visitors.values())
    all_ms = [ms for v in exp.engaged.values() for ms in v]
    assert totals["avg_time_on_page_ms"] == round(sum(all_ms) / len(all_ms))
    assert totals["requests"] == sum(exp.requests.values())
    assert totals["consents"] == {a: sum(c[a] for c in exp.decisions.values()) for a in ACTIONS}
    pages = {p["path"]: p for p in answer["top_pages"]}
    assert {p: v["pageviews"] for p, v in pages.items() if v["pageviews"]} == dict(exp.pages)
    for path, values in exp.engaged.items():
        assert pages[path]["avg_time_on_page_ms"] == round(sum(values) / len(values))
    assert {r["host"]: r["visits"] for r in answer["top_referrers"]} == dict(exp.referrers)
    counted: Counter[int] = Counter()
    for (day, _ip, _ua), first in exp.first_view.items():
        local = first.astimezone(calendar.zone(exp.zone))
        counted[
            version_at(calendar.hour_end(exp.zone, day, local.hour) - dt.timedelta(microseconds=1))
        ] += 1
    consent = {c["policy_version"]: c for c in answer["consent"]}
    assert sorted(consent) == [1, 2]
    for version in (1, 2):
        c = consent[version]
        assert c["decisions"] == {a: exp.decisions[version][a] for a in ACTIONS}
        assert c["granted"] == {
            k: exp.granted[version][k] for k in ("necessary", "analytics", "marketing")
        }
        assert c["visitors_decided"] == sum(
            len(v) for (_, ver), v in exp.deciders.items() if ver == version
        )
        assert c["visitors_counted"] == counted[version]
    assert sum(c["visitors_counted"] for c in consent.values()) == totals["visitors"]


async def direct_count(db: asyncpg.Connection, site_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """The per-day figures counted straight from the raw facts."""
    rows = await db.fetch(
        """SELECT day, count(*) FILTER (WHERE kind = 'pageview'), count(*) FILTER (WHERE new_visitor),
                  count(*) FILTER (WHERE kind = 'engagement'), coalesce(sum(engaged_ms), 0)
           FROM stats_facts WHERE site_id = $1 GROUP BY day ORDER BY day""",
        site_id,
    )
    return [tuple(r) for r in rows]


async def stats(client: Client, tenant: Tenant) -> dict[str, Any]:
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/stats",
        params={"from": MONTH[0].isoformat(), "to": MONTH[1].isoformat(), "limit": "100"},
        headers=tenant.auth,
    )
    assert r.status == 200, await r.text()
    answer: dict[str, Any] = await r.json()
    return answer


@pytest.mark.slow
async def test_a_generated_month_matches_a_direct_count(
    client: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    berlin = await month_site(make_tenant, db, "Berlin", "Europe/Berlin")
    la = await month_site(make_tenant, db, "Los Angeles", "America/Los_Angeles")
    expected = {berlin.site_key: await generate(db, berlin, "Europe/Berlin", 1)}
    expected[la.site_key] = await generate(db, la, "America/Los_Angeles", 2)
    direct = {t.site_key: await direct_count(db, t.site_id) for t in (berlin, la)}
    for tenant in (berlin, la):  # open days: counted from the raw facts as they stand
        answer = await stats(client, tenant)
        assert not any(d["final"] for d in answer["days"])
        check(answer, expected[tenant.site_key])
    assert any(d.month == 5 for d in await stats_facts.partitions(db))

    june = utc(2024, 6, 3, 12)
    await salts.forget(db, june)
    summary = await rollups.run(db, june)
    assert summary["days_final"] >= 2 * 31
    for tenant in (berlin, la):  # final days: from the aggregates alone
        answer = await stats(client, tenant)
        assert all(d["final"] for d in answer["days"])
        check(answer, expected[tenant.site_key])
        stored = await db.fetch(
            """SELECT day, pageviews, visitors, engagements, engaged_ms FROM stats_days
               WHERE site_id = $1 AND pageviews + engagements > 0 ORDER BY day""",
            tenant.site_id,
        )
        assert [tuple(r) for r in stored] == direct[tenant.site_key]
    # The raw facts of final days are gone, whole partitions at a time, and so is every hash.
    assert [d for d in await stats_facts.partitions(db) if d <= dt.date(2024, 6, 1)] == []
    assert await db.fetchval("SELECT count(*) FROM stats_facts") == 0
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 0
    assert await db.fetchval("SELECT count(*) FROM daily_salts") == 0
    # Running again changes nothing (days are final once).
    before = await db.fetch("SELECT * FROM stats_days ORDER BY site_id, day")
    assert (await rollups.run(db, june))["days_final"] == 0
    assert await db.fetch("SELECT * FROM stats_days ORDER BY site_id, day") == before


async def test_a_partition_stays_until_every_site_has_finalised_its_day(
    db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    a = await make_tenant("A")
    b = await make_tenant("B", origins=("https://b.example",))
    for tenant in (a, b):
        await ingest(db, StatsSite(tenant.site_id), [Hit(utc(2024, 5, 6, 12), "/")])
    later = utc(2024, 5, 9, 12)
    assert await rollups.finalise_due(db, later, budget=1) == 1  # only A's 6 May
    assert dt.date(2024, 5, 6) not in await rollups.drop_final_partitions(db, later)
    assert dt.date(2024, 5, 6) in await stats_facts.partitions(db)
    await rollups.run(db, later)
    assert dt.date(2024, 5, 6) not in await stats_facts.partitions(db)
    assert await db.fetchval("SELECT sum(pageviews) FROM stats_days") == 2


async def test_two_rollups_at_once_count_each_day_once(
    database_url: str, db: asyncpg.Connection, tenant: Tenant
) -> None:
    import asyncio

    from widget_server.db.pool import connect

    await ingest(
        db,
        StatsSite(tenant.site_id),
        [Hit(utc(2024, 5, 6, 12), "/", ip=f"203.0.113.{i}") for i in range(9)],
    )
    conns = [await connect(database_url) for _ in range(3)]
    try:
        later = utc(2024, 5, 10, 12)
        await asyncio.gather(*(rollups.finalise_due(c, later) for c in conns))
    finally:
        for c in conns:
            await c.close()
    assert await db.fetchval("SELECT pageviews FROM stats_days WHERE day = '2024-05-06'") == 9
    assert await db.fetchval("SELECT visitors FROM stats_days WHERE day = '2024-05-06'") == 9


async def test_partitions_are_made_ahead_and_on_demand(
    db: asyncpg.Connection, tenant: Tenant
) -> None:
    now = utc(2031, 1, 10, 12)
    await rollups.run(db, now)
    made = await stats_facts.partitions(db)
    assert {
        dt.date(2031, 1, 9),
        dt.date(2031, 1, 10),
        dt.date(2031, 1, 11),
        dt.date(2031, 1, 12),
    } <= set(made)
    # A beacon of a day nobody prepared (a fresh install, a stopped job) makes its own.
    await ingest(db, StatsSite(tenant.site_id), [Hit(utc(2032, 2, 2, 2), "/")])
    assert dt.date(2032, 2, 2) in await stats_facts.partitions(db)
    for day in await stats_facts.partitions(db):
        if day.year >= 2031:
            await stats_facts.drop_partition(db, day)


async def test_long_ranges_read_whole_months_and_the_edges_by_day(
    client: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    from widget_server.services import retention

    tenant = await make_tenant("Months")
    hits = []
    for day in calendar.days(dt.date(2024, 4, 20), dt.date(2024, 6, 10)):
        for i in range(day.day % 4 + 1):
            at = dt.datetime.combine(day, dt.time(12), dt.UTC)
            hits.append(
                Hit(
                    at,
                    f"/p{(day.day + i) % 5}",
                    ip=f"203.0.113.{i}",
                    referrer=f"https://r{i}.example/",
                )
            )
    await ingest(db, StatsSite(tenant.site_id), hits)
    await rollups.run(db, utc(2024, 6, 15))

    async def shown(first: str, last: str) -> tuple[dict[str, int], dict[str, int]]:
        r = await client.get(
            f"/v1/sites/{tenant.site_key}/stats",
            params={"from": first, "to": last, "limit": "100"},
            headers=tenant.auth,
        )
        answer = await r.json()
        pages = {p["path"]: p["pageviews"] for p in answer["top_pages"]}
        return pages, {h["host"]: h["visits"] for h in answer["top_referrers"]}

    async def by_day(first: str, last: str) -> tuple[dict[str, int], dict[str, int]]:
        a, b = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        pages = await db.fetch(
            "SELECT path, sum(pageviews)::int AS n FROM stats_pages WHERE site_id = $1 AND day BETWEEN $2 AND $3 GROUP BY path",
            tenant.site_id, a, b,
        )  # fmt: skip
        hosts = await db.fetch(
            "SELECT host, sum(visits)::int AS n FROM stats_referrers WHERE site_id = $1 AND day BETWEEN $2 AND $3 GROUP BY host",
            tenant.site_id, a, b,
        )  # fmt: skip
        return {r["path"]: r["n"] for r in pages}, {r["host"]: r["n"] for r in hosts}

    ranges = [
        ("2024-04-25", "2024-06-05"),
        ("2024-05-01", "2024-05-31"),
        ("2024-04-20", "2024-06-10"),
        ("2024-05-02", "2024-05-30"),
        ("2024-04-01", "2024-06-30"),
    ]
    for first, last in ranges:
        assert await shown(first, last) == await by_day(first, last), (first, last)
    # Whole months really come from the monthly sums: a change there shows in May, not in 2-30 May.
    await db.execute(
        "UPDATE stats_pages_months SET pageviews = pageviews + 1000 WHERE month = '2024-05-01' AND path = '/p0'"
    )
    assert (await shown("2024-05-01", "2024-05-31"))[0]["/p0"] == (
        await by_day("2024-05-01", "2024-05-31")
    )[0]["/p0"] + 1000
    assert await shown("2024-05-02", "2024-05-30") == await by_day("2024-05-02", "2024-05-30")
    await db.execute(
        "UPDATE stats_pages_months SET pageviews = pageviews - 1000 WHERE month = '2024-05-01' AND path = '/p0'"
    )
    # Retention that ends in mid-May: May's monthly sums go with its first days, the rest is
    # read day by day, and nothing past retention shows.
    today = dt.datetime.now(dt.UTC).date()
    await db.execute(
        "UPDATE sites SET retention_days = $2 WHERE site_id = $1",
        tenant.site_id,
        (today - dt.date(2024, 5, 15)).days,
    )
    await retention.purge(db)
    assert await db.fetchval(
        "SELECT min(day) FROM stats_pages WHERE site_id = $1", tenant.site_id
    ) == dt.date(2024, 5, 15)
    assert not await db.fetchval(
        "SELECT count(*) FROM stats_pages_months WHERE month <= '2024-05-01'"
    )
    for first, last in ranges:
        assert await shown(first, last) == await by_day(first, last), (first, last)
