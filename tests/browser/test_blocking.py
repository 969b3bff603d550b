"""Blocking until consent in a real browser under a nonce-based CSP and hostile CSS: marked
scripts run only once their purposes are granted and exactly once, keep their attributes, work
under Trusted Types; marked iframes load only after consent, behind an accessible placeholder;
Google Consent Mode's default and a returning visitor's state at start-up."""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from playwright.async_api import Request, Route, expect

from tests.browser.conftest import NONCE_CSP, HostSite, Visit, consent_rows, eventually
from tests.conftest import Tenant

try:
    from axe_playwright_python.async_playwright import Axe
except ImportError:  # pragma: no cover
    Axe = None

Visitor = Callable[..., Awaitable[Visit]]
BOTH = '(window.__ran = window.__ran || []).push("both");'  # what /marked.js?name=both answers
BOTH_SRI = "sha384-" + base64.b64encode(hashlib.sha384(BOTH.encode()).digest()).decode()
MARKED = f"""<main><h1>Shop</h1>
<script type="text/plain" data-category="analytics" src="/marked.js?name=analytics" nonce="{{nonce}}"></script>
<script type="text/plain" data-category="marketing" nonce="{{nonce}}">(window.__ran = window.__ran || []).push('inline');</script>
<script type="text/plain" data-category="analytics  marketing" src="/marked.js?name=both" nonce="{{nonce}}"
  integrity="{BOTH_SRI}" crossorigin="anonymous" referrerpolicy="no-referrer" async data-service="stats"></script>
<script type="text/plain" data-category="marketing">(window.__ran = window.__ran || []).push('no-nonce');</script>
<iframe data-category="marketing" data-src="/frame" title="Video" width="400" height="200"></iframe>
</main>"""
RAN = "() => window.__ran || []"


@pytest.fixture
def marked(host: HostSite) -> HostSite:
    host.csp = NONCE_CSP
    host.widget_nonce = True
    host.body = MARKED
    return host


def watch_marked(v: Visit) -> list[str]:
    """URLs of marked resources the page asked for."""
    asked: list[str] = []

    def on_request(request: Request) -> None:
        if "/marked.js" in request.url or request.url.endswith("/frame"):
            asked.append(request.url.rsplit("/", 1)[1])

    v.page.on("request", on_request)
    return asked


async def choose(v: Visit, *labels: str) -> None:
    button = v.page.get_by_role("button", name="Choose").or_(
        v.page.get_by_role("button", name="Privacy choices")
    )
    await button.click()
    for label in ("Analytics", "Marketing"):
        box = v.page.get_by_role("dialog").get_by_label(label)
        await (box.check() if label in labels else box.uncheck())
    await v.page.get_by_role("button", name="Save choices").click()


async def test_marked_scripts_run_once_their_purposes_are_granted_and_only_once(
    visit: Visitor, marked: HostSite, shop: Tenant
) -> None:
    v = await visit("about:blank")
    asked = watch_marked(v)
    await v.page.goto(marked.url())
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    await v.page.wait_for_timeout(300)
    assert await v.page.evaluate(RAN) == []
    assert asked == []  # not even fetched
    await choose(v, "Analytics")
    await eventually(lambda: v.page.evaluate(RAN))
    assert await v.page.evaluate(RAN) == ["analytics"]
    await choose(v, "Analytics", "Marketing")
    await eventually(lambda: _count(v, 3))
    assert sorted(await v.page.evaluate(RAN)) == ["analytics", "both", "inline"]
    # Granting again runs nothing twice.
    await v.page.evaluate("() => ContactConsent.withdraw()")
    await choose(v, "Analytics", "Marketing")
    await v.page.wait_for_timeout(300)
    assert sorted(await v.page.evaluate(RAN)) == ["analytics", "both", "inline"]
    # A marked script without the widget's nonce is not run (nor by the browser: no nonce).
    assert any("nonce" in w for w in v.warnings)
    # The new script keeps every other attribute; the nonce stays a hidden property.
    kept = await v.page.evaluate(
        """() => { const s = document.querySelector('script[src*="name=both"]');
          const widget = document.querySelector('script[data-site]');
          return [s.type, s.async, s.getAttribute('integrity'), s.getAttribute('crossorigin'),
                  s.getAttribute('referrerpolicy'), s.getAttribute('data-service'),
                  s.getAttribute('data-category'), s.nonce === widget.nonce && s.nonce !== ''] }"""
    )
    assert kept == [
        "",
        True,
        BOTH_SRI,
        "anonymous",
        "no-referrer",
        "stats",
        "analytics  marketing",
        True,
    ]
    # A returning visitor: everything granted runs at load, once.
    await v.page.reload()
    await eventually(lambda: _count(v, 3))
    await v.page.wait_for_timeout(300)
    assert sorted(await v.page.evaluate(RAN)) == ["analytics", "both", "inline"]
    # Withdrawn: the next page load runs none of them.
    await v.page.evaluate("() => ContactConsent.withdraw()")
    await v.page.reload()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    await v.page.wait_for_timeout(300)
    assert await v.page.evaluate(RAN) == []
    assert [e for e in v.errors if "Content Security Policy" not in e] == []


async def _count(v: Visit, n: int) -> bool:
    return len(await v.page.evaluate(RAN)) >= n


async def test_elements_added_later_wait_too(
    visit: Visitor, marked: HostSite, shop: Tenant
) -> None:
    marked.body = "<main><h1>Shop</h1></main>"
    v = await visit(marked.url())
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    add = """(name) => { const s = document.createElement('script');
      s.type = 'text/plain'; s.dataset.category = 'analytics';
      s.nonce = document.querySelector('script[data-site]').nonce;
      s.src = '/marked.js?name=' + name; document.querySelector('main').append(s); }"""
    await v.page.evaluate(add, "before")
    await v.page.wait_for_timeout(300)
    assert await v.page.evaluate(RAN) == []
    await v.page.get_by_role("button", name="Accept all").click()
    await eventually(lambda: v.page.evaluate(RAN))
    await v.page.evaluate(add, "after")  # granted already: runs as soon as it is added
    await eventually(lambda: _count(v, 2))
    assert await v.page.evaluate(RAN) == ["before", "after"]


async def test_trusted_types_with_the_widgets_policy(
    visit: Visitor, marked: HostSite, shop: Tenant
) -> None:
    marked.csp = NONCE_CSP + "; require-trusted-types-for 'script'; trusted-types contactconsent"
    v = await visit(marked.url())
    await v.page.get_by_role("button", name="Accept all").click()
    await eventually(lambda: _count(v, 3))
    assert sorted(await v.page.evaluate(RAN)) == ["analytics", "both", "inline"]
    assert [e for e in v.errors if "TrustedScript" in e or "Trusted Type" in e] == []


async def test_a_marked_iframe_loads_only_after_consent_behind_its_placeholder(
    visit: Visitor, marked: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit("about:blank")
    asked = watch_marked(v)
    # The iframe's box on this page, measured without the widget.
    await v.page.route("**/widget.js", lambda route: route.abort())
    await v.page.goto(marked.url())
    box = await v.page.locator("iframe").bounding_box()
    await v.page.unroute("**/widget.js")
    await v.page.reload()
    allow = v.page.get_by_role("button", name="Allow Marketing")
    await expect(allow).to_be_visible()
    await expect(
        v.page.get_by_text("To show Video, we need your consent to Marketing.")
    ).to_be_visible()
    assert await v.page.locator("contact-consent-placeholder").bounding_box() == box
    assert await v.page.evaluate("() => document.querySelector('iframe').src") == ""
    if Axe is not None:
        results = await Axe().run(v.page, context="contact-consent-placeholder")
        assert results.response["violations"] == []
    assert "frame" not in asked
    await allow.focus()
    await v.page.keyboard.press("Enter")
    await expect(v.page.locator("contact-consent-placeholder")).to_have_count(0)
    frame = v.page.frame_locator("iframe")
    await expect(frame.get_by_text("The embedded video.")).to_be_visible()
    assert await v.page.evaluate("() => document.activeElement.tagName") == "IFRAME"
    rows = await eventually(lambda: consent_rows(db, shop))
    assert [(r["action"], r["purposes"]) for r in rows] == [
        ("custom", {"necessary": True, "analytics": False, "marketing": True})
    ]
    # Its purpose only: the analytics scripts still wait.
    assert sorted(await v.page.evaluate(RAN)) == ["inline"]


async def test_consent_mode_default_from_the_page_and_the_stored_state_at_start_up(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    # The default a site puts before GTM (docs/widget.md): the widget adds no second one.
    host.csp = NONCE_CSP
    host.head = """<script nonce="{nonce}">window.dataLayer = window.dataLayer || [];
      function gtag(){dataLayer.push(arguments);}
      gtag('consent', 'default', {ad_storage: 'denied', ad_user_data: 'denied',
        ad_personalization: 'denied', analytics_storage: 'denied', wait_for_update: 500});</script>"""
    v = await visit(host.url(gtag="on"))
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    layer = await v.page.evaluate("() => dataLayer.map(a => Array.from(a))")
    assert [entry[:2] for entry in layer] == [["consent", "default"]]
    await v.page.get_by_role("button", name="Accept all").click()
    granted = {
        k: "granted"
        for k in ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage")
    }
    layer = await v.page.evaluate("() => dataLayer.map(a => Array.from(a))")
    assert layer[1:] == [["consent", "update", granted]]
    # A returning visitor: the stored state goes out before the config has arrived.
    release = asyncio.Event()

    async def hold_config(route: Route) -> None:
        await release.wait()
        await route.continue_()

    await v.page.route(f"{host.api_origin}/v1/widget/*/config*", hold_config)
    await v.page.reload(wait_until="domcontentloaded")
    layer = await eventually(lambda: _updates(v))
    assert layer == [["consent", "default"], ["consent", "update"]]
    assert await v.page.get_by_role("button", name="Privacy choices").count() == 0  # no config yet
    release.set()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    assert await _updates(v) == [["consent", "default"], ["consent", "update"]]


async def _updates(v: Visit) -> Any:
    layer = await v.page.evaluate("() => (window.dataLayer || []).map(a => Array.from(a))")
    return [entry[:2] for entry in layer] if len(layer) >= 2 else None
