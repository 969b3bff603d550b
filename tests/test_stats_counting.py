"""Counting: one visitor per IP and user agent per site-local day, time on page from engagement,
each page credited, the same numbers before and after the day is rolled up."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.stats_support import Hit, StatsSite, facts, ingest, utc
from widget_server.services import rollups

Client = TestClient[Any, Any]
OTHER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0"


async def stats(client: Client, tenant: Tenant, first: str, last: str) -> dict[str, Any]:
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/stats",
        params={"from": first, "to": last},
        headers=tenant.auth,
    )
    assert r.status == 200, await r.text()
    answer: dict[str, Any] = await r.json()
    return answer


def by_day(answer: dict[str, Any], key: str) -> dict[str, Any]:
    return {d["date"]: d[key] for d in answer["days"]}


def _open(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        **answer,
        "days": [{k: v for k, v in d.items() if k != "final"} for d in answer["days"]],
    }


async def live_and_final(
    client: Client, db: asyncpg.Connection, tenants: Tenant | list[Tenant], first: str, last: str
) -> Any:
    """The answers while the days are open, which must equal the answers once they are final."""
    group = tenants if isinstance(tenants, list) else [tenants]
    live = [await stats(client, t, first, last) for t in group]
    for answer in live:
        assert not any(d["final"] for d in answer["days"])
    after = dt.date.fromisoformat(last) + dt.timedelta(days=3)
    await rollups.run(db, dt.datetime.combine(after, dt.time(12), dt.UTC))
    final = [await stats(client, t, first, last) for t in group]
    for before, answer in zip(live, final, strict=True):
        assert all(d["final"] for d in answer["days"])
        assert _open(answer) == _open(before)
    return final if isinstance(tenants, list) else final[0]


async def test_same_ip_and_agent_within_a_day_is_one_visitor(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    site = StatsSite(tenant.site_id)
    hits = [
        Hit(utc(2024, 5, 6, 0, 5), "/"),
        Hit(utc(2024, 5, 6, 9, 0), "/pricing"),
        Hit(utc(2024, 5, 6, 23, 59), "/contact"),
        Hit(utc(2024, 5, 6, 10, 0), "/", user_agent=OTHER_UA),  # another browser: another visitor
        Hit(utc(2024, 5, 6, 11, 0), "/", ip="203.0.113.10"),  # another address: another visitor
        Hit(utc(2024, 5, 7, 0, 1), "/"),  # the next day: counted again
    ]
    await ingest(db, site, hits)
    answer = await live_and_final(client, db, tenant, "2024-05-06", "2024-05-07")
    assert by_day(answer, "visitors") == {"2024-05-06": 3, "2024-05-07": 1}
    assert by_day(answer, "pageviews") == {"2024-05-06": 5, "2024-05-07": 1}
    assert answer["totals"]["visitors"] == 4
    assert answer["totals"]["pageviews"] == 6


async def test_a_day_is_the_sites_own_day_across_utc_midnight(
    client: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    """19:30 and 21:30 in New York are one day there, though UTC has turned over in between."""
    ny = await make_tenant("New York", time_zone="America/New_York")
    london = await make_tenant("UTC site", origins=("https://shop.example",))
    evening = [Hit(utc(2024, 5, 6, 23, 30), "/a"), Hit(utc(2024, 5, 7, 1, 30), "/b")]
    await ingest(db, StatsSite(ny.site_id, "America/New_York"), evening)
    await ingest(db, StatsSite(london.site_id), evening)
    ny_answer, utc_answer = await live_and_final(
        client, db, [ny, london], "2024-05-06", "2024-05-07"
    )
    assert by_day(ny_answer, "visitors") == {"2024-05-06": 1, "2024-05-07": 0}
    assert by_day(ny_answer, "pageviews") == {"2024-05-06": 2, "2024-05-07": 0}
    assert by_day(utc_answer, "visitors") == {"2024-05-06": 1, "2024-05-07": 1}
    rows = await db.fetch(
        "SELECT day, pageviews FROM stats_pages WHERE site_id = $1 ORDER BY path", ny.site_id
    )
    assert [(r["day"], r["pageviews"]) for r in rows] == [(dt.date(2024, 5, 6), 1)] * 2


async def test_local_midnight_starts_a_new_visitor_day(
    client: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    tokyo = await make_tenant("Tokyo", time_zone="Asia/Tokyo")
    # 23:50 and 00:10 in Tokyo (14:50 and 15:10 UTC, one UTC day).
    hits = [Hit(utc(2024, 5, 6, 14, 50), "/"), Hit(utc(2024, 5, 6, 15, 10), "/")]
    await ingest(db, StatsSite(tokyo.site_id, "Asia/Tokyo"), hits)
    rows = await facts(db, tokyo.site_id)
    assert [(r["day"], r["hour"], r["new_visitor"]) for r in rows] == [
        (dt.date(2024, 5, 6), 23, True),
        (dt.date(2024, 5, 7), 0, True),
    ]
    answer = await live_and_final(client, db, tokyo, "2024-05-06", "2024-05-07")
    assert by_day(answer, "visitors") == {"2024-05-06": 1, "2024-05-07": 1}


async def test_the_long_night_of_a_clock_change_is_one_day(
    client: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    """Berlin's 27 October 2024 has 25 hours; 02:30 comes twice, both in that one day."""
    berlin = await make_tenant("Berlin", time_zone="Europe/Berlin")
    site = StatsSite(berlin.site_id, "Europe/Berlin")
    first_0230, second_0230 = utc(2024, 10, 27, 0, 30), utc(2024, 10, 27, 1, 30)
    await ingest(
        db, site, [Hit(first_0230, "/"), Hit(second_0230, "/"), Hit(utc(2024, 10, 27, 22, 59), "/")]
    )
    rows = await facts(db, berlin.site_id)
    assert [(r["day"], r["hour"]) for r in rows] == [(dt.date(2024, 10, 27), 2)] * 2 + [
        (dt.date(2024, 10, 27), 23)
    ]
    answer = await live_and_final(client, db, berlin, "2024-10-27", "2024-10-27")
    assert answer["days"][0]["visitors"] == 1
    assert answer["days"][0]["pageviews"] == 3


async def test_time_on_page_from_engagement_beacons(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    site = StatsSite(tenant.site_id)
    t = utc(2024, 5, 6, 10)
    hits = [Hit(t, "/a"), Hit(t, "/b"), Hit(t, "/a", ip="203.0.113.20")]
    for ms in (1000, 2000, 6000):
        hits.append(Hit(t, "/a", kind="engagement", engaged_ms=ms))
    hits.append(Hit(t, "/b", kind="engagement", engaged_ms=500))
    await ingest(db, site, hits)
    answer = await live_and_final(client, db, tenant, "2024-05-06", "2024-05-06")
    pages = {p["path"]: p for p in answer["top_pages"]}
    assert pages["/a"] == {"path": "/a", "pageviews": 2, "avg_time_on_page_ms": 3000}
    assert pages["/b"] == {"path": "/b", "pageviews": 1, "avg_time_on_page_ms": 500}
    assert answer["totals"]["avg_time_on_page_ms"] == round(9500 / 4)
    day = answer["days"][0]
    assert day["median_time_on_page_ms"] == 1500  # of 500, 1000, 2000, 6000
    row = await db.fetchrow("SELECT * FROM stats_pages WHERE path = '/a'")
    assert (row["engagements"], row["engaged_ms"], row["median_engaged_ms"]) == (3, 9000, 2000)
    assert row["entries"] == 2


async def test_single_page_app_routes_are_each_credited(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    """One visitor going through four routes: four page views, one visitor, one entry page."""
    site = StatsSite(tenant.site_id)
    t = utc(2024, 5, 6, 10)
    hits: list[Hit] = []
    for i, route in enumerate(("/app", "/app/cart", "/app/checkout", "/app/cart")):
        hits.append(
            Hit(
                t + dt.timedelta(seconds=i),
                route,
                referrer="https://search.example/" if i == 0 else "https://shop.example/app",
            )
        )
        hits.append(Hit(t, route, kind="engagement", engaged_ms=1000 * (i + 1)))
    await ingest(db, site, hits)
    answer = await live_and_final(client, db, tenant, "2024-05-06", "2024-05-06")
    assert answer["totals"]["visitors"] == 1
    assert {p["path"]: p["pageviews"] for p in answer["top_pages"]} == {
        "/app": 1,
        "/app/cart": 2,
        "/app/checkout": 1,
    }
    assert {p["path"]: p["avg_time_on_page_ms"] for p in answer["top_pages"]} == {
        "/app": 1000,
        "/app/cart": 3000,
        "/app/checkout": 3000,
    }
    assert answer["top_referrers"] == [{"host": "search.example", "visits": 1}]
    entries = await db.fetch("SELECT path, entries FROM stats_pages ORDER BY path")
    assert [(r["path"], r["entries"]) for r in entries] == [
        ("/app", 1),
        ("/app/cart", 0),
        ("/app/checkout", 0),
    ]


async def test_top_lists_merge_final_and_open_days(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    """A path that leads on the open day alone still makes the list, with both days summed."""
    site = StatsSite(tenant.site_id)
    old = [Hit(utc(2024, 5, 6, 10), f"/p{i}", ip=f"203.0.113.{i}") for i in range(1, 4)]
    old += [Hit(utc(2024, 5, 6, 11), "/p1", ip="203.0.113.50")]
    await ingest(db, site, old)
    await rollups.run(db, utc(2024, 5, 8, 12))  # 6 May final; 8 May open
    await ingest(
        db, site, [Hit(utc(2024, 5, 8, 10), "/new", ip=f"198.51.100.{i}") for i in range(5)]
    )
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/stats",
        params={"from": "2024-05-06", "to": "2024-05-08", "limit": "2"},
        headers=tenant.auth,
    )
    answer = await r.json()
    assert answer["top_pages"] == [
        {"path": "/new", "pageviews": 5, "avg_time_on_page_ms": None},
        {"path": "/p1", "pageviews": 2, "avg_time_on_page_ms": None},
    ]
    assert [d["final"] for d in answer["days"]] == [True, True, False]
    assert answer["totals"]["visitors"] == 4 + 5
