"""Anonymous statistics beacons, as the browser sends them: a page view per page and per
single-page-app route, time on page credited to its route, the site's stats_mode, prerendering.

These assert on the beacon requests, not on stored rows: the server side of statistics is
designed separately. stats_mode is injected into the config answer (the site settings do not
hold it yet)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import expect

from tests.browser.conftest import HostSite, Visit, change_config, eventually
from tests.conftest import Tenant

Visitor = Callable[..., Awaitable[Visit]]


def kinds(sent: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(b["type"], b["url"].split("/", 3)[3]) for b in sent]


async def _async(value: Any) -> Any:
    """For eventually(): a probe of something the page's listeners fill in."""
    return value


async def test_pageview_and_engagement_without_storage(
    visit: Visitor, host: HostSite, shop: Tenant, beacons: list[Any]
) -> None:
    sent = beacons
    v = await visit("about:blank")
    await v.page.goto(
        host.url(utm_source="mail") + "#offers", referer="https://search.example/results?q=shoes"
    )
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    await eventually(lambda: _async(sent))
    # Origin and path only; the referrer's origin only.
    assert sent == [
        {"type": "pageview", "url": f"{host.origin}/shop", "referrer": "https://search.example/"}
    ]
    await v.page.wait_for_timeout(300)
    assert await v.storage() == {"local": {}, "session": {}, "cookie": "", "cookies": []}
    await v.page.goto("about:blank")  # leaving the page: pagehide and visibilitychange
    await eventually(lambda: _async(len(sent) > 1))
    await v.page.wait_for_timeout(300)
    assert kinds(sent) == [("pageview", "shop"), ("engagement", "shop")]
    assert sent[1]["engaged_ms"] > 0
    assert v.errors == []


async def test_single_page_app_routes_are_views_with_their_own_time(
    visit: Visitor, host: HostSite, shop: Tenant, beacons: list[Any]
) -> None:
    sent = beacons
    v = await visit("about:blank")
    await v.page.goto(host.url())
    await eventually(lambda: _async(sent))
    await v.page.wait_for_timeout(200)
    await v.page.evaluate("() => history.pushState({}, '', '/shop/shoes?colour=red')")
    # Same path, other query: no new view; neither is a replaceState that keeps the path.
    await v.page.evaluate("() => history.pushState({}, '', '/shop/shoes?colour=blue#top')")
    await v.page.evaluate("() => history.replaceState({}, '', '/shop/shoes?size=9')")
    await v.page.wait_for_timeout(200)
    await v.page.evaluate("() => history.replaceState({}, '', '/shop/boots')")
    await v.page.wait_for_timeout(200)
    await v.page.go_back()  # popstate, back to /shop/shoes
    await eventually(lambda: _async(len(sent) >= 7))
    assert kinds(sent) == [
        ("pageview", "shop"),
        ("engagement", "shop"),
        ("pageview", "shop/shoes"),
        ("engagement", "shop/shoes"),
        ("pageview", "shop/boots"),
        ("engagement", "shop/boots"),
        ("pageview", "shop/shoes"),
    ]
    assert all(b["engaged_ms"] > 0 for b in sent if b["type"] == "engagement")
    # Only the first view names the referrer (there was none here).
    assert {b["referrer"] for b in sent} == {None}
    assert v.errors == []


async def test_time_counts_only_while_the_page_is_focused(
    visit: Visitor, host: HostSite, shop: Tenant, beacons: list[Any]
) -> None:
    sent = beacons
    v = await visit("about:blank")
    await v.page.add_init_script(
        """window.__focused = false;
        Document.prototype.hasFocus = function () { return window.__focused; };"""
    )
    await v.page.goto(host.url())
    await eventually(lambda: _async(sent))
    await v.page.wait_for_timeout(300)
    await v.page.evaluate("() => history.pushState({}, '', '/shop/a')")  # leaves /shop
    await v.page.wait_for_timeout(100)
    # Visible but never focused on /shop: no time to report for it.
    assert kinds(sent) == [("pageview", "shop"), ("pageview", "shop/a")]
    await v.page.evaluate("() => { __focused = true; dispatchEvent(new Event('focus')); }")
    await v.page.wait_for_timeout(300)
    await v.page.evaluate("() => history.pushState({}, '', '/shop/b')")
    await eventually(lambda: _async(len(sent) >= 4))
    assert kinds(sent)[2:] == [("engagement", "shop/a"), ("pageview", "shop/b")]
    assert sent[2]["engaged_ms"] > 0


async def test_stats_mode_consent_counts_only_with_analytics(
    visit: Visitor, host: HostSite, shop: Tenant, beacons: list[Any]
) -> None:
    sent = beacons
    v = await visit("about:blank")
    await change_config(v.page, host.api_origin, stats_mode="consent")
    await v.page.goto(host.url())
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    await v.page.wait_for_timeout(500)
    await v.page.evaluate("() => history.pushState({}, '', '/shop/a')")
    await v.page.wait_for_timeout(200)
    assert sent == []  # undecided: nothing at all
    await v.page.get_by_role("button", name="Choose").click()
    await v.page.get_by_label("Analytics").check()
    await v.page.get_by_role("button", name="Save choices").click()
    await eventually(lambda: _async(sent))
    assert kinds(sent) == [("pageview", "shop/a")]  # the view now seen with consent
    await v.page.evaluate("() => ContactConsent.withdraw()")
    await v.page.evaluate("() => history.pushState({}, '', '/shop/b')")
    await v.page.goto("about:blank")
    await v.page.wait_for_timeout(300)
    assert kinds(sent) == [("pageview", "shop/a")]  # withdrawn: no time, no views
    # A returning visitor who granted analytics is counted from the start.
    await v.page.goto(host.url())
    await v.page.get_by_role("button", name="Privacy choices").click()
    await v.page.get_by_label("Analytics").check()
    await v.page.get_by_role("button", name="Save choices").click()
    await v.page.reload()
    await eventually(lambda: _async(len(sent) >= 4))
    assert kinds(sent)[1:] == [("pageview", "shop"), ("engagement", "shop"), ("pageview", "shop")]


async def test_stats_mode_off_sends_nothing(
    visit: Visitor, host: HostSite, shop: Tenant, beacons: list[Any]
) -> None:
    sent = beacons
    v = await visit("about:blank")
    await change_config(v.page, host.api_origin, stats_mode="off")
    await v.page.goto(host.url())
    await v.page.get_by_role("button", name="Accept all").click()
    await v.page.evaluate("() => history.pushState({}, '', '/shop/a')")
    await v.page.goto("about:blank")
    await v.page.wait_for_timeout(500)
    assert sent == []


async def test_a_prerendered_page_counts_only_once_shown(
    visit: Visitor, host: HostSite, shop: Tenant, beacons: list[Any]
) -> None:
    sent = beacons
    v = await visit("about:blank")
    # What a page prerendered by speculation rules sees until it is shown.
    await v.page.add_init_script(
        """window.__prerendering = true;
        Object.defineProperty(Document.prototype, 'prerendering', {get: () => window.__prerendering});"""
    )
    await v.page.goto(host.url())
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    await v.page.wait_for_timeout(500)
    assert sent == []
    await v.page.evaluate(
        "() => { __prerendering = false; document.dispatchEvent(new Event('prerenderingchange')); }"
    )
    await eventually(lambda: _async(sent))
    assert kinds(sent) == [("pageview", "shop")]
