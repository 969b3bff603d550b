"""POST /v1/widget/SITE_KEY/events: anonymous page views with daily salts and no IP stored."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.widget_support import beacon_body, post
from widget_server.runtime.groupcommit import GroupWriter

UA = "Mozilla/5.0 TestBrowser"


@pytest.fixture
async def proxied(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
) -> TestClient[Any, Any]:
    app = make_app(trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    return await aiohttp_client(app)


async def send(client: TestClient[Any, Any], tenant: Tenant, ip: str, **changes: Any) -> None:
    r = await post(
        client,
        tenant.site_key,
        "events",
        beacon_body(**changes),
        content_type="text/plain;charset=UTF-8",
        headers={"X-Forwarded-For": ip, "User-Agent": UA},
    )
    assert r.status == 202, await r.text()
    assert await r.read() == b""


async def views(db: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await db.fetch("SELECT * FROM page_views ORDER BY view_id"))


async def test_pageview_keeps_path_and_foreign_referrer_host_only(
    proxied: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await send(proxied, tenant, "203.0.113.5")
    await send(proxied, tenant, "203.0.113.5", referrer="https://shop.example/home?x=1")
    await send(proxied, tenant, "203.0.113.5", referrer="")
    await send(proxied, tenant, "203.0.113.5", referrer="android-app://com.example/")
    rows = await views(db)
    assert [r["path"] for r in rows] == ["/pricing"] * 4
    assert [r["referrer_host"] for r in rows] == ["search.example", None, None, None]
    assert all(r["kind"] == "pageview" and r["engaged_ms"] is None for r in rows)
    assert all(r["site_id"] == tenant.site_id for r in rows)


async def test_engagement_keeps_time_on_page(
    proxied: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await send(proxied, tenant, "203.0.113.5", type="engagement", engaged_ms=12345)
    await send(proxied, tenant, "203.0.113.5", type="pageview", engaged_ms=999)
    rows = await views(db)
    assert [(r["kind"], r["engaged_ms"]) for r in rows] == [
        ("engagement", 12345),
        ("pageview", None),
    ]


async def test_visitor_hash_is_daily_per_visitor_and_holds_no_ip(
    proxied: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant
) -> None:
    await send(proxied, tenant, "203.0.113.5")
    await send(proxied, tenant, "203.0.113.5", visitor_hint="ignored-hint")
    await send(proxied, tenant, "203.0.113.6")
    a1, a2, b = await views(db)
    assert a1["visitor_hash"] == a2["visitor_hash"]
    assert a1["visitor_hash"] != b["visitor_hash"]
    assert len(a1["visitor_hash"]) == 16
    for row in (a1, a2, b):
        for value in row.values():
            assert "203.0.113" not in str(value)
            assert b"203.0.113" not in (value if isinstance(value, bytes) else b"")
    today = dt.datetime.now(dt.UTC).date()
    assert await db.fetchval("SELECT count(*) FROM daily_salts WHERE day = $1", today) == 1


async def test_old_salts_are_deleted_and_yesterdays_kept(
    proxied: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    today = dt.datetime.now(dt.UTC).date()
    for days in (1, 2, 5):
        await db.execute(
            "INSERT INTO daily_salts (day, salt) VALUES ($1, $2)",
            today - dt.timedelta(days=days),
            b"s" * 32,
        )
    await send(proxied, tenant, "203.0.113.5")
    kept = [r["day"] for r in await db.fetch("SELECT day FROM daily_salts ORDER BY day")]
    assert kept == [today - dt.timedelta(days=1), today]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"type": "click"}, "type"),
        ({"url": "https://evil.example/"}, "url"),
        ({"url": "ftp://shop.example/"}, "url"),
        ({"engaged_ms": -1}, "engaged_ms"),
        ({"engaged_ms": "10"}, "engaged_ms"),
        ({"ip": "1.2.3.4"}, "ip"),
    ],
)
async def test_invalid_beacons_are_422(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    changes: dict[str, Any],
    field: str,
) -> None:
    r = await post(client, tenant.site_key, "events", beacon_body(**changes))
    assert r.status == 422
    assert field in (await r.json())["errors"]
    assert await views(db) == []


async def test_concurrent_beacons_are_each_stored_once(
    proxied: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await asyncio.gather(
        *(
            send(proxied, tenant, f"198.51.100.{i}", engaged_ms=i, type="engagement")
            for i in range(40)
        )
    )
    stored = sorted(r["engaged_ms"] for r in await views(db))
    assert stored == list(range(40))


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
