"""axe-core scans of the notice, the preferences dialog and the form, inside the shadow root."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import expect

from tests.browser.conftest import HostSite, Visit
from tests.conftest import Tenant

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
