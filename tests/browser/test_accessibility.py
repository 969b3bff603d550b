"""Accessibility (WCAG 2.2 AA): axe-core in every state, the notice's share of the viewport, the
policy's own language, right-to-left, forced colours, target sizes, focus while sending, the
user's default font size."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from playwright.async_api import expect

from tests.browser.conftest import HostSite, Visit
from tests.conftest import Tenant
from tests.dbutil import publish

Visitor = Callable[..., Awaitable[Visit]]

try:
    from axe_playwright_python.async_playwright import Axe
except ImportError:  # pragma: no cover
    Axe = None


async def violations(v: Visit) -> list[dict[str, Any]]:
    if Axe is None:
        pytest.skip("axe-playwright-python is not installed")
    results = await Axe().run(v.page, context="contact-consent-widget")
    found: list[dict[str, Any]] = results.response["violations"]
    return [{"id": x["id"], "nodes": [n["target"] for n in x["nodes"]]} for x in found]


async def test_notice_preferences_and_form_have_no_violations(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit(host.url())
    await expect(v.page.get_by_role("region", name="Your privacy")).to_be_visible()
    await v.page.wait_for_timeout(400)  # let the slide-in finish before checking contrast
    assert await violations(v) == []
    await v.page.get_by_role("button", name="Read the full text").click()
    assert await violations(v) == []
    await v.page.get_by_role("button", name="Choose").click()
    await expect(v.page.get_by_role("dialog", name="Privacy choices")).to_be_visible()
    assert await violations(v) == []
    await v.page.get_by_role("button", name="Save choices").click()
    await v.page.get_by_role("button", name="Tell me more").click()
    await expect(v.page.get_by_role("dialog", name="Tell me more")).to_be_visible()
    assert await violations(v) == []
    await v.page.get_by_role("button", name="Send").click()  # every required field now invalid
    await expect(v.page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    assert await violations(v) == []
    assert v.errors == []


async def test_reduced_motion_and_focus_outline(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit(host.url(), reduced_motion="reduce")
    await v.tab_to("Accept all")
    style = await v.page.evaluate(
        """() => {
          const r = document.querySelector('contact-consent-widget').shadowRoot;
          const s = getComputedStyle(r.activeElement), n = getComputedStyle(r.querySelector('section'));
          return {outline: s.outlineStyle, width: s.outlineWidth, animation: n.animationName};
        }"""
    )
    assert style == {"outline": "solid", "width": "3px", "animation": "none"}


async def test_other_language(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit(host.url(lang="de"))
    await expect(v.page.get_by_role("button", name="Alle akzeptieren")).to_be_visible()
    await expect(v.page.get_by_role("button", name="Alle ablehnen")).to_be_visible()
    # The widget's own container carries the language (the host element is the page's).
    assert await v.shadow("[root.firstElementChild.lang, root.firstElementChild.dir]") == [
        "de",
        "ltr",
    ]


TARGETS = """() => [...document.querySelector('contact-consent-widget').shadowRoot
    .querySelectorAll('button, a, input:not(.hp), select, textarea')]
  .filter(e => e.getClientRects().length)
  .map(e => { const r = e.getBoundingClientRect();
    return [e.textContent || e.id, Math.round(r.width), Math.round(r.height)]; })"""


async def test_axe_finds_nothing_in_any_state(
    visit: Visitor, host: HostSite, shop: Tenant, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    v = await visit(host.url(mode="form"))
    await v.page.get_by_role("button", name="Tell me more").click()
    await v.page.get_by_label("Name").fill("Ada")
    await v.page.get_by_label("E-mail").fill("ada@example.com")
    await v.page.get_by_label("Message").fill("Hi")
    await v.page.route(f"{host.api_origin}/v1/widget/**", lambda route: route.abort())
    await v.page.get_by_role("button", name="Send").click()  # sending, waiting in the outbox
    await expect(v.page.get_by_role("status")).not_to_be_empty()
    assert await violations(v) == []
    # The preferences with the visitor's own record.
    v = await visit(host.url())
    await v.page.get_by_role("button", name="Accept all").click()
    await v.page.get_by_role("button", name="Privacy choices").click()
    await expect(v.page.get_by_text("Your current choice")).to_be_visible()
    assert await violations(v) == []
    # A right-to-left language.
    rtl = await make_tenant(
        "Rtl", origins=(host.origin,), texts={"ar": {"accept_all": "قبول الكل"}}
    )
    host.site_key = rtl.site_key
    v = await visit(host.url(lang="ar"))
    await expect(v.page.get_by_role("button", name="قبول الكل")).to_be_visible()
    assert await violations(v) == []


async def test_the_notice_covers_at_most_40_percent_of_the_viewport(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    long = "\n\n".join(f"Paragraph {i} of the terms, which go on for a while." for i in range(40))
    await publish(db, shop.site_id, title="Terms", body=long)
    for size in ({"width": 375, "height": 667}, {"width": 1280, "height": 720}):
        v = await visit(host.url(), viewport=size)
        await v.page.get_by_role("button", name="Read the full text").click()
        height = await v.shadow("root.querySelector('section').getBoundingClientRect().height")
        assert height <= 0.4 * size["height"] + 1, (size, height)
        # Still all reachable: the notice scrolls, "Accept all" comes into view when focused.
        accept = v.page.get_by_role("button", name="Accept all")
        await accept.focus()
        await expect(accept).to_be_in_viewport()


async def test_the_policy_text_carries_its_own_language(
    visit: Visitor, host: HostSite, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    tenant = await make_tenant("De", origins=(host.origin,), default_locale="de")
    host.site_key = tenant.site_key
    v = await visit(host.url(lang="de"))
    await expect(v.page.get_by_role("button", name="Alle akzeptieren")).to_be_visible()
    langs = await v.shadow(
        "[root.firstElementChild.lang, root.querySelector('strong').parentNode.lang,"
        " root.querySelector('#cc-b').lang]"
    )
    assert langs == ["de", "en", "en"]  # the widget speaks German; the policy is in English


async def test_right_to_left_languages(
    visit: Visitor, host: HostSite, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    rtl = await make_tenant(
        "Rtl", origins=(host.origin,), texts={"ar": {"accept_all": "قبول الكل"}}
    )
    host.site_key = rtl.site_key
    v = await visit(host.url(lang="ar"))
    await v.page.get_by_role("button", name="قبول الكل").click()
    privacy = v.page.get_by_role("button", name="Privacy choices")
    await expect(privacy).to_be_visible()
    assert await v.shadow("[root.firstElementChild.lang, root.firstElementChild.dir]") == [
        "ar",
        "rtl",
    ]
    # Logical properties: "Privacy choices" sits at the inline start, which is the right.
    box = await privacy.bounding_box()
    assert box is not None
    assert box["x"] > 1280 / 2


async def test_forced_colors_keep_the_edges(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit(host.url(), forced_colors="active")
    await expect(v.page.get_by_role("region", name="Your privacy")).to_be_visible()
    edges = await v.shadow(
        """[root.querySelector('section'), ...root.querySelectorAll('section button')]
             .map(e => getComputedStyle(e))
             .map(s => [s.borderTopStyle, s.borderTopWidth, s.borderTopColor])"""
    )
    for style, width, colour in edges:
        assert style == "solid"
        assert width == "2px"
        assert colour not in ("transparent", "rgba(0, 0, 0, 0)")


async def test_targets_are_at_least_24_pixels(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit(host.url())
    await v.page.get_by_role("button", name="Read the full text").click()
    await v.page.get_by_role("button", name="Choose").click()
    sizes = await v.page.evaluate(TARGETS)
    await v.page.keyboard.press("Escape")
    await v.page.get_by_role("button", name="Accept all").click()
    await v.page.get_by_role("button", name="Tell me more").click()
    sizes += await v.page.evaluate(TARGETS)
    assert len(sizes) > 15
    small = [s for s in sizes if s[1] < 24 or s[2] < 24]
    assert small == []


async def test_sending_keeps_focus_on_the_button(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit(host.url(mode="form"))
    await v.page.get_by_role("button", name="Tell me more").click()
    await v.page.get_by_label("Name").fill("Ada")
    await v.page.get_by_label("E-mail").fill("ada@example.com")
    await v.page.get_by_label("Message").fill("Hi")
    await v.page.route(f"{host.api_origin}/v1/widget/**", lambda route: route.abort())
    await v.tab_to("Send")
    await v.page.keyboard.press("Enter")
    send = v.page.get_by_role("button", name="Sending…")
    await expect(send).to_have_attribute("aria-disabled", "true")
    assert await send.get_attribute("disabled") is None
    assert await v.deep_active() == "Sending…"  # not lost to the page's <body>


async def test_the_users_default_font_size_is_honoured(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    host.css = "html { font-size: 10px !important; }"  # a page's own choice, not the user's
    v = await visit("about:blank")
    cdp = await v.context.new_cdp_session(v.page)
    await cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 24}})  # the user's setting
    await v.page.goto(host.url())
    await expect(v.page.get_by_role("region", name="Your privacy")).to_be_visible()
    sizes = await v.shadow(
        "[...root.querySelectorAll('section p, section button')].map(e => getComputedStyle(e).fontSize)"
    )
    assert set(sizes) == {"24px"}
