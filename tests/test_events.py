"""POST /v1/widget/SITE_KEY/events: 202 at once, the fact stored later, bots and `off` dropped."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant
from tests.stats_support import UA, drain, facts
from tests.widget_support import beacon_body, post
from widget_server.domain.bots import is_bot
from widget_server.runtime.groupcommit import GroupWriter

Client = TestClient[Any, Any]


@pytest.fixture
async def proxied(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
) -> Client:
    app = make_app(trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    return await aiohttp_client(app)


async def send(
    client: Client, tenant: Tenant, ip: str = "203.0.113.5", ua: str = UA, **changes: Any
) -> None:
    r = await post(
        client,
        tenant.site_key,
        "events",
        beacon_body(**changes),
        content_type="text/plain;charset=UTF-8",
        headers={"X-Forwarded-For": ip, "User-Agent": ua},
    )
    assert r.status == 202, await r.text()
    assert await r.read() == b""


async def test_pageview_keeps_path_and_foreign_referrer_host_only(
    proxied: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    tenant = await make_tenant(
        "Alpha", origins=(HOST_ORIGIN, "https://www.shop-alias.example", "http://localhost:8080")
    )
    for referrer in (
        "https://Search.Example/?q=engine",  # kept: its host only
        "https://www.news.example/story/1",  # kept as news.example
        "https://shop.example/home?x=1",  # the page's own host
        "https://shop-alias.example/",  # another origin of the same site (www. or not)
        "http://localhost:8080/",
        "",
        "android-app://com.example/",
        "https://<script>alert(1)</script>/",
        "not a url",
    ):
        await send(proxied, tenant, referrer=referrer)
    await drain(proxied)
    rows = await facts(db, tenant.site_id)
    assert [r["path"] for r in rows] == ["/pricing"] * 9  # no query string, no fragment
    assert sorted(r["referrer_host"] or "-" for r in rows) == ["-"] * 7 + [
        "news.example",
        "search.example",
    ]
    assert all(r["kind"] == "pageview" and r["engaged_ms"] is None for r in rows)
    assert [r["new_visitor"] for r in rows].count(True) == 1  # one IP, one user agent, one day


async def test_engagement_keeps_time_on_page_and_no_referrer(
    proxied: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    await send(proxied, tenant, type="engagement", engaged_ms=12345)
    await send(proxied, tenant, type="pageview", engaged_ms=999)
    await send(proxied, tenant, type="engagement", engaged_ms=0)  # nothing to credit: dropped
    await send(proxied, tenant, type="engagement", engaged_ms=None)
    await drain(proxied)
    rows = await facts(db, tenant.site_id)
    assert [(r["kind"], r["engaged_ms"], r["referrer_host"], r["new_visitor"]) for r in rows] == [
        ("engagement", 12345, None, False),
        ("pageview", None, "search.example", True),
    ]


BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Python/3.11 aiohttp/3.9.5",
    "Wget/1.21.4",
    "Go-http-client/2.0",
    "Mozilla/5.0 (Linux; Android 10) AppleWebKit/537.36 Chrome-Lighthouse",
    "",
    "   ",
]
PEOPLE = [
    UA,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
]


@pytest.mark.parametrize("ua", BOTS)
def test_bot_user_agents_are_recognised(ua: str) -> None:
    assert is_bot(ua)


@pytest.mark.parametrize("ua", PEOPLE)
def test_browsers_are_not_bots(ua: str) -> None:
    assert not is_bot(ua)


async def test_bots_are_answered_and_dropped(
    proxied: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    for ua in BOTS:
        await send(proxied, tenant, ua=ua)
        await send(proxied, tenant, ua=ua, type="engagement", engaged_ms=500)
    r = await proxied.post(
        f"/v1/widget/{tenant.site_key}/events",
        data='{"type": "pageview", "url": "https://shop.example/"}',
        headers={"Origin": HOST_ORIGIN, "Content-Type": "application/json", "User-Agent": ""},
    )
    assert r.status == 202
    await drain(proxied)
    assert await facts(db, tenant.site_id) == []
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 0
    await send(proxied, tenant, ua=PEOPLE[3])  # a Cubot phone is a person
    await drain(proxied)
    assert len(await facts(db, tenant.site_id)) == 1


async def test_stats_mode_off_stores_nothing(
    proxied: Client, db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    quiet = await make_tenant("Quiet", stats_mode="off")
    await send(proxied, quiet)
    await send(proxied, quiet, type="engagement", engaged_ms=4000)
    await drain(proxied)
    assert await facts(db, quiet.site_id) == []
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 0
    assert await db.fetchval("SELECT count(*) FROM daily_salts") == 0
    config = await (await proxied.get(f"/v1/widget/{quiet.site_key}/config")).json()
    assert config["stats_mode"] == "off"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "click"}, "type"),
        ({"url": "https://evil.example/"}, "url"),
        ({"url": "ftp://shop.example/"}, "url"),
        ({"url": "https://shop.example/\x00"}, "url"),
        ({"engaged_ms": -1}, "engaged_ms"),
        ({"engaged_ms": "10"}, "engaged_ms"),
        ({"engaged_ms": 10**12}, "engaged_ms"),
        ({"ip": "1.2.3.4"}, "ip"),
        ({"referrer": "x" * 5000}, "referrer"),
    ],
)
async def test_invalid_beacons_are_422(
    client: Client,
    db: asyncpg.Connection,
    tenant: Tenant,
    changes: dict[str, Any],
    field: str,
) -> None:
    r = await post(client, tenant.site_key, "events", beacon_body(**changes))
    assert r.status == 422
    assert field in (await r.json())["errors"]
    await drain(client)
    assert await facts(db, tenant.site_id) == []


@pytest.mark.parametrize(
    ("body", "status"),
    [("{", 400), ("[]", 422), ('"x"', 422), ("null", 422), ("{}", 422), ("x" * 70_000, 413)],
)
async def test_malformed_beacons(
    client: Client, db: asyncpg.Connection, tenant: Tenant, body: str, status: int
) -> None:
    r = await post(client, tenant.site_key, "events", body)
    assert r.status == status
    assert r.headers["Content-Type"].startswith("application/problem+json")


async def test_foreign_origin_is_403_and_stores_nothing(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    for origin in ("https://evil.example", "null", None):
        r = await post(
            client,
            tenant.site_key,
            "events",
            beacon_body(),
            origin=origin,
            headers={"User-Agent": UA},
        )
        assert r.status == 403
    await drain(client)
    assert await facts(db, tenant.site_id) == []


async def test_concurrent_beacons_are_each_stored_once(
    proxied: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    await asyncio.gather(
        *(
            send(proxied, tenant, f"198.51.100.{i}", engaged_ms=i + 1, type="engagement")
            for i in range(40)
        ),
        *(send(proxied, tenant, f"198.51.100.{i}") for i in range(40)),
    )
    await drain(proxied)
    rows = await facts(db, tenant.site_id)
    assert sorted(r["engaged_ms"] for r in rows if r["kind"] == "engagement") == list(range(1, 41))
    views = [r for r in rows if r["kind"] == "pageview"]
    assert len(views) == 40
    assert all(r["new_visitor"] for r in views)  # forty addresses: forty visitors


async def test_group_writer_batches_and_isolates_a_bad_row() -> None:
    written: list[list[int]] = []

    async def write(rows: Sequence[int]) -> None:
        await asyncio.sleep(0)
        if 13 in rows:
            raise ValueError("unlucky row")
        written.append(list(rows))

    writer: GroupWriter[int] = GroupWriter(write, max_batch=8)
    results = await asyncio.gather(*(writer.submit(i) for i in range(20)), return_exceptions=True)
    failed = [i for i, r in enumerate(results) if isinstance(r, ValueError)]
    assert failed == [13]
    assert sorted(x for batch in written for x in batch) == [i for i in range(20) if i != 13]
    assert all(len(batch) <= 8 for batch in written)
    # Twenty callers, far fewer round trips (the failed batch is retried row by row).
    assert writer.batches < 20
    await writer.drain()


async def test_post_queues_without_waiting_and_drain_writes_it() -> None:
    written: list[int] = []
    gate = asyncio.Event()

    async def write(rows: Sequence[int]) -> None:
        await gate.wait()
        written.extend(rows)

    writer: GroupWriter[int] = GroupWriter(write)
    futures = [writer.post(i) for i in range(5)]
    await asyncio.sleep(0)
    assert written == []
    assert writer.queued == 5
    gate.set()
    await writer.drain()
    assert sorted(written) == list(range(5))
    assert all(f.done() and f.exception() is None for f in futures)


async def test_a_failed_batch_is_logged_once_without_its_paths(
    database_url: str, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    import datetime as dt

    from widget_server.db.pool import Database, create_pool
    from widget_server.services.stats import Beacon
    from widget_server.web.widget.events import beacon_writer

    pool = await create_pool(database_url, size=1)
    await pool.close()  # the database is gone, as far as this writer can tell
    writer = beacon_writer(Database(pool, 1.0))
    day = dt.date(2024, 5, 6)
    futures = [
        writer.post(
            Beacon(tenant.site_id, day, 3, "pageview", "/blog/secret-path", None, None, b"h" * 16)
        )
        for _ in range(5)
    ]
    with caplog.at_level(logging.WARNING, logger="widget_server.web.widget.events"):
        await writer.drain()
    assert all(f.exception() is not None for f in futures)
    lines = [r.getMessage() for r in caplog.records if r.name == "widget_server.web.widget.events"]
    assert len(lines) == 1, lines  # one batch, one line: not retried row by row
    assert lines[0].startswith("5 beacons not stored: ")
    assert "secret-path" not in lines[0]
