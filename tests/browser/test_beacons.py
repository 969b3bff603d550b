"""Anonymous statistics beacons: a page view on load, time on page when the page is left."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from playwright.async_api import expect

from tests.browser.conftest import HostSite, Visit, eventually
from tests.conftest import Tenant

Visitor = Callable[..., Awaitable[Visit]]


async def views(db: asyncpg.Connection, shop: Tenant) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT kind, path, engaged_ms FROM page_views WHERE site_id = $1 ORDER BY view_id",
            shop.site_id,
        )
    )


async def test_pageview_and_engagement_without_storage(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    rows = await eventually(lambda: views(db, shop))
    assert [(r["kind"], r["path"]) for r in rows] == [("pageview", "/shop")]
    await v.page.wait_for_timeout(700)
    assert await v.storage() == {"local": {}, "session": {}, "cookie": "", "cookies": []}
    assert v.errors == []
    await v.page.goto("about:blank")  # leaving the page: pagehide
    rows = await eventually(lambda: _engaged(db, shop))
    engaged = [r for r in rows if r["kind"] == "engagement"]
    assert len(engaged) == 1
    assert engaged[0]["path"] == "/shop"
    assert 500 <= engaged[0]["engaged_ms"] < 60_000


async def _engaged(db: asyncpg.Connection, shop: Tenant) -> list[asyncpg.Record] | None:
    rows = await views(db, shop)
    return rows if any(r["kind"] == "engagement" for r in rows) else None
