"""A headless browser's beacons are accepted and not counted; a person's afterwards are."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from playwright.async_api import expect

from tests.browser.conftest import HostSite, Visit, eventually
from tests.browser.test_beacon_storage import _pageviews, facts
from tests.conftest import Tenant
from tests.stats_support import UA

Visitor = Callable[..., Awaitable[Visit]]


async def test_a_headless_browser_is_not_counted(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())  # Chromium's own headless user agent
    assert "HeadlessChrome" in await v.page.evaluate("navigator.userAgent")
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    await v.page.wait_for_timeout(500)
    await v.page.goto("about:blank")
    # A real visitor afterwards is counted: the headless one was dropped, not merely late.
    await visit(host.url(), user_agent=UA)  # a context's own agent: load-time beacons carry it
    await eventually(lambda: _pageviews(db, shop, 1))
    await v.page.wait_for_timeout(300)
    assert len(await facts(db, shop)) == 1
