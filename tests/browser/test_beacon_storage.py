"""What the server stores of a real browser's beacons: anonymous facts only, nothing on the device,
nothing at all under `stats_mode: off`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
from playwright.async_api import Browser, async_playwright, expect

from tests.browser.conftest import CHROMIUM_ARGS, HostSite, Visit, eventually
from tests.conftest import Tenant
from tests.stats_support import UA

Visitor = Callable[..., Awaitable[Visit]]


@pytest.fixture
async def browser(chromium_path: str | None) -> AsyncIterator[Browser]:
    """Chromium that calls itself an ordinary Chrome: headless browsers are not counted, and a
    context's `user_agent` does not reach the beacon sent while the page unloads."""
    async with async_playwright() as p:
        instance = await p.chromium.launch(
            executable_path=chromium_path, args=[*CHROMIUM_ARGS, f"--user-agent={UA}"]
        )
        yield instance
        await instance.close()


async def facts(db: asyncpg.Connection, shop: Tenant) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            """SELECT kind, path, engaged_ms, new_visitor, referrer_host FROM stats_facts
               WHERE site_id = $1 ORDER BY kind DESC""",
            shop.site_id,
        )
    )


async def test_a_page_view_and_its_time_are_stored_as_anonymous_facts(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(utm_source="news") + "#top")
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    rows = await eventually(lambda: facts(db, shop))
    assert [(r["kind"], r["path"], r["new_visitor"]) for r in rows] == [("pageview", "/shop", True)]
    await v.page.wait_for_timeout(700)
    assert await v.storage() == {"local": {}, "session": {}, "cookie": "", "cookies": []}
    assert v.errors == []
    await v.page.goto("about:blank")  # leaving the page: pagehide
    rows = await eventually(lambda: _engaged(db, shop))
    engaged = [r for r in rows if r["kind"] == "engagement"]
    assert len(engaged) == 1
    assert engaged[0]["path"] == "/shop"
    assert 500 <= engaged[0]["engaged_ms"] < 60_000
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 1
    # A second page view from the same browser the same day: the same visitor.
    second = await visit(host.url())
    await eventually(lambda: _pageviews(db, shop, 2))
    assert [r["new_visitor"] for r in await facts(db, shop) if r["kind"] == "pageview"].count(
        True
    ) == 1
    assert await second.storage() == {"local": {}, "session": {}, "cookie": "", "cookies": []}


async def test_stats_mode_off_stores_nothing(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    await db.execute("UPDATE sites SET stats_mode = 'off' WHERE site_id = $1", shop.site_id)
    seen: list[str] = []
    v = await visit("about:blank")
    v.page.on("request", lambda r: seen.append(r.url))
    await v.page.goto(host.url())
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    await v.page.wait_for_timeout(500)
    await v.page.goto("about:blank")
    await v.page.wait_for_timeout(500)
    assert await facts(db, shop) == []
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 0


async def _engaged(db: asyncpg.Connection, shop: Tenant) -> list[asyncpg.Record] | None:
    rows = await facts(db, shop)
    return rows if any(r["kind"] == "engagement" for r in rows) else None


async def _pageviews(db: asyncpg.Connection, shop: Tenant, n: int) -> bool:
    return len([r for r in await facts(db, shop) if r["kind"] == "pageview"]) >= n
