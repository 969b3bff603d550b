"""Real host pages that lose decisions or break widgets, each found by review: storage that
cannot be written, Prototype.js's Array.prototype.toJSON, grid bodies and body swaps, tab order,
failures while starting, refused writes, several tabs, CSS custom properties and a polluted
Object.prototype. Each test failed against the widget before issue 12."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from playwright.async_api import Page, Request, Route, expect

from tests.browser.conftest import (
    NONCE_CSP,
    HostSite,
    Visit,
    consent_rows,
    eventually,
    request_rows,
)
from tests.conftest import Tenant

Visitor = Callable[..., Awaitable[Visit]]
QUOTA = """Storage.prototype.setItem = function () {
  throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
};"""
# Prototype.js 1.6: arrays serialize themselves as strings.
PROTOTYPE_JS = """Array.prototype.toJSON = function () {
  return '[' + this.map(function (x) { return JSON.stringify(x); }).join(', ') + ']';
};"""
SKIP_LINK_BODY = (
    '<a href="#main" id="skip">Skip to content</a>'
    '<main id="main"><h1>Shop</h1><p><a href="/about">About us</a></p></main>'
)


async def notice(v: Visit) -> None:
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()


async def fill_form(v: Visit) -> None:
    await v.page.get_by_role("button", name="Tell me more").click()
    await v.page.get_by_label("Name").fill("Ada")
    await v.page.get_by_label("E-mail").fill("ada@example.com")
    await v.page.get_by_label("Message").fill("Hi")
    await v.page.wait_for_timeout(1600)  # a human takes a moment; faster is treated as spam


def cors(host: HostSite) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": host.origin, "Content-Type": "application/json"}


async def abort_posts(route: Route) -> None:
    if route.request.method == "POST" and "/events" not in route.request.url:
        await route.abort("internetdisconnected")
    else:
        await route.continue_()


async def test_unwritable_storage_loses_no_decision_and_no_form(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit("about:blank")
    await v.page.add_init_script(QUOTA)
    await v.page.goto(host.url())
    await v.page.get_by_role("button", name="Accept all").click()
    rows = await eventually(lambda: consent_rows(db, shop))
    assert [r["action"] for r in rows] == ["accept_all"]
    consent = await v.page.evaluate("() => ContactConsent.getConsent()")
    assert consent["purposes"]["marketing"] is True
    assert any("cannot store" in w and "QuotaExceededError" in w for w in v.warnings)
    await fill_form(v)
    await v.page.get_by_role("button", name="Send").click()
    await expect(v.page.get_by_role("status")).to_have_text("Thank you. We received your request.")
    assert len(await request_rows(db, shop)) == 1
    assert v.errors == []


async def test_array_to_json_does_not_corrupt_the_outbox(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit("about:blank")
    await v.page.add_init_script(PROTOTYPE_JS)
    # Whatever an older page left in the outbox's place is ignored, not fatal.
    await v.page.add_init_script(
        f"""if (!sessionStorage.seeded) {{ sessionStorage.seeded = 1;
          localStorage.setItem('cc:outbox:{shop.site_key}', '"[{{\\\\"p\\\\":1}}]"'); }}"""
    )
    await v.page.goto(host.url())
    await notice(v)
    pattern = f"{host.api_origin}/v1/widget/**"
    await v.page.route(pattern, abort_posts)
    await v.page.get_by_role("button", name="Reject all").click()
    box = await eventually(lambda: v.outbox(shop.site_key))
    assert [e["b"]["action"] for e in box] == ["reject_all"]
    await v.page.unroute(pattern)
    await v.page.reload()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    rows = await eventually(lambda: consent_rows(db, shop))
    await eventually(lambda: _no_outbox(v, shop))
    assert [(str(r["event_id"]), r["action"]) for r in rows] == [
        (box[0]["b"]["event_id"], "reject_all")
    ]
    assert (await v.page.evaluate("() => ContactConsent.getConsent()"))["purposes"] == {
        "necessary": True,
        "analytics": False,
        "marketing": False,
    }
    assert [e for e in v.errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


async def _no_outbox(v: Visit, shop: Tenant) -> bool:
    return await v.outbox(shop.site_key) is None


LAYOUT = """() => ['main', 'h1', 'main p', 'main a'].map(s => {
  const r = document.querySelector(s).getBoundingClientRect();
  return [s, r.x, r.y, r.width, r.height];
})"""
HOST_BOX = """() => { const h = document.querySelector('contact-consent-widget');
  const r = h.getBoundingClientRect();
  return [h.parentNode === document.documentElement, r.width, r.height]; }"""


async def test_a_grid_body_keeps_its_layout(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    host.css = (
        "body { display: grid !important; gap: 40px !important; }"
        "body > :first-child { margin-top: 70px !important; }"
    )
    v = await visit("about:blank")
    await v.page.route("**/widget.js", lambda route: route.abort())
    await v.page.goto(host.url())
    without = await v.page.evaluate(LAYOUT)
    await v.page.unroute("**/widget.js")
    await v.page.reload()
    await notice(v)
    assert await v.page.evaluate(LAYOUT) == without
    assert await v.page.evaluate(HOST_BOX) == [True, 0, 0]
    await v.page.get_by_role("button", name="Accept all").click()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    assert await v.page.evaluate(LAYOUT) == without
    assert await v.page.evaluate(HOST_BOX) == [True, 0, 0]


async def test_the_widget_survives_body_swaps(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit(host.url())
    await notice(v)
    # Turbo Drive: a new <body> in place of the old one, while the notice is pending.
    await v.page.evaluate(
        """() => { const b = document.createElement('body');
          b.append(Object.assign(document.createElement('h1'), {textContent: 'Next page'}));
          document.body.replaceWith(b); }"""
    )
    await v.page.get_by_role("button", name="Accept all").click()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    # A framework that renders the whole document: everything under <html> replaced.
    await v.page.evaluate(
        """() => { const b = document.createElement('body');
          b.append(Object.assign(document.createElement('h1'), {textContent: 'Third page'}));
          document.documentElement.replaceChildren(document.head, b); }"""
    )
    await expect(v.page.get_by_text("Third page")).to_be_visible()
    await v.page.get_by_role("button", name="Privacy choices").click()
    await expect(v.page.get_by_role("dialog", name="Privacy choices")).to_be_visible()
    assert v.errors == []


async def test_tab_order_notice_first_then_the_page_first(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    host.body = SKIP_LINK_BODY
    v = await visit(host.url())
    await notice(v)
    # Pending: the notice comes before the page's skip link, "Accept all" at the first Tab.
    await v.page.keyboard.press("Tab")
    assert await v.deep_active() == "Accept all"
    await v.page.keyboard.press("Enter")
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    # Decided: a returning visitor's first Tab reaches the page's skip link; ours come last.
    await v.page.reload()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    await v.page.keyboard.press("Tab")
    assert await v.deep_active() == "Skip to content"
    await v.tab_to("Privacy choices", limit=4)


async def test_ready_fires_when_drawing_fails(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit("about:blank")
    await v.page.add_init_script(
        """Element.prototype.attachShadow = function () { throw new Error('no shadow roots'); };
        window.__ready = [];
        window.ContactConsent = [['on', 'ready', s => __ready.push(s)], ['openForm']];"""
    )
    await v.page.goto(host.url())
    assert await eventually(lambda: v.page.evaluate("() => __ready.length")) == 1
    assert await v.page.evaluate("() => [__ready[0], ContactConsent.getConsent()]") == [None, None]


async def test_without_constructable_stylesheets(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    # Safari before 16.4: no adoptedStyleSheets. Without a CSP a <style> element styles it.
    no_adopted = "delete ShadowRoot.prototype.adoptedStyleSheets;"
    v = await visit("about:blank")
    await v.page.add_init_script(no_adopted)
    await v.page.goto(host.url(csp="0"))
    await notice(v)
    position = await v.shadow("getComputedStyle(root.querySelector('section')).position")
    assert position == "fixed"
    # Under the strict CSP that <style> is refused (and the page's CSS hides the unstyled host):
    # drawn all the same, `ready` fired, the API works.
    v = await visit("about:blank")
    await v.page.add_init_script(no_adopted + "window.__ready = 0;")
    await v.page.add_init_script(
        "document.addEventListener('contactconsent:ready', () => __ready++)"
    )
    await v.page.goto(host.url())
    await eventually(lambda: v.page.evaluate("() => __ready"))
    assert await v.shadow("!!root.querySelector('section')") is True
    await v.page.evaluate("() => ContactConsent.withdraw()")
    consent = await v.page.evaluate("() => [__ready, ContactConsent.getConsent().purposes]")
    assert consent == [1, {"necessary": True, "analytics": False, "marketing": False}]


async def test_the_config_fetch_times_out_and_is_retried(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit("about:blank")
    await v.page.add_init_script(
        """window.__ready = [];
        window.ContactConsent = [['on', 'ready', s => __ready.push(s)], ['openPreferences']];"""
    )
    asked: list[str] = []

    async def first_never_answers(route: Route) -> None:
        asked.append(route.request.url)
        if len(asked) > 1:
            await route.continue_()
        # the first request is left hanging: only the widget's timeout ends it

    await v.page.route(f"{host.api_origin}/v1/widget/*/config*", first_never_answers)
    await v.page.goto(host.url())
    # `ready` does not wait for a config that may never come...
    assert await eventually(lambda: v.page.evaluate("() => __ready.length"), timeout=15) == 1
    # ...and the retry draws the widget and runs the queued call.
    await expect(v.page.get_by_role("dialog", name="Privacy choices")).to_be_visible(timeout=15_000)
    await expect(v.page.get_by_role("region", name="Your privacy")).to_be_attached()
    assert len(asked) == 2


async def test_a_refused_queued_form_is_shown_on_the_next_page(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(mode="form"))
    await fill_form(v)
    pattern = f"{host.api_origin}/v1/widget/**"
    await v.page.route(pattern, abort_posts)
    await v.page.get_by_role("button", name="Send").click()
    await expect(v.page.get_by_role("status")).to_have_text(
        "You seem to be offline. We will send it as soon as you are back."
    )
    await v.page.unroute(pattern)

    async def refuse(route: Route) -> None:
        if route.request.method == "POST" and route.request.url.endswith("/requests"):
            problem = {
                "type": "about:blank",
                "title": "Unprocessable",
                "status": 422,
                "errors": {"fields.email": ["Not a valid e-mail address."]},
            }
            await route.fulfill(status=422, headers=cors(host), body=json.dumps(problem))
        else:
            await route.continue_()

    await v.page.route(pattern, refuse)
    await v.page.reload()
    # The request waited, was refused for good: the form comes back, filled in, with why.
    dialog = v.page.get_by_role("dialog", name="Tell me more")
    await expect(dialog).to_be_visible()
    email = v.page.get_by_label("E-mail")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_have_accessible_description("Not a valid e-mail address.")
    await expect(email).to_be_focused()
    await expect(v.page.get_by_label("Name")).to_have_value("Ada")
    await eventually(lambda: _no_outbox(v, shop))
    assert await request_rows(db, shop) == []


async def test_a_write_refused_for_good_does_not_block_the_ones_behind_it(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await notice(v)

    async def break_reject(route: Route) -> None:
        if route.request.method == "POST" and "reject_all" in (route.request.post_data or ""):
            await route.fulfill(status=500, headers=cors(host), body="{}")
        else:
            await route.continue_()

    await v.page.route(f"{host.api_origin}/v1/widget/**", break_reject)
    await v.page.get_by_role("button", name="Reject all").click()
    await v.page.get_by_role("button", name="Privacy choices").click()
    await v.page.get_by_role("dialog").get_by_role("button", name="Accept all").click()
    rows = await eventually(lambda: consent_rows(db, shop))
    assert [r["action"] for r in rows] == ["accept_all"]
    await eventually(lambda: _no_outbox(v, shop))


async def second_tab(v: Visit, url: str) -> Visit:
    page = await v.context.new_page()
    tab = Visit(v.context, page)
    page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: tab.errors.append(f"pageerror: {exc}"))
    if url:
        await page.goto(url)
    return tab


async def test_a_decision_in_one_tab_updates_the_others(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    host.csp = NONCE_CSP
    host.body += (
        '<script type="text/plain" data-category="analytics" src="/marked.js?name=stats"></script>'
    )
    a = await visit(host.url())
    b = await second_tab(a, host.url())
    await notice(a)
    await notice(b)
    await b.page.evaluate(
        "() => { window.__changes = []; ContactConsent.on('change', s => __changes.push(s)); }"
    )
    await a.page.get_by_role("button", name="Accept all").click()
    await expect(b.page.get_by_role("button", name="Accept all")).to_have_count(0)
    await expect(b.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    state = await b.page.evaluate("() => [ContactConsent.getConsent(), __changes, window.__ran]")
    assert state[0]["purposes"]["analytics"] is True
    assert state[1] == [state[0]]
    assert state[2] == ["stats"]
    assert a.errors == b.errors == []


async def test_the_outbox_is_sent_by_one_tab_at_a_time(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    a = await visit(host.url())
    b = await second_tab(a, host.url())
    await notice(a)
    pattern = f"{host.api_origin}/v1/widget/**"
    for tab in (a, b):
        await tab.page.route(pattern, abort_posts)
    await a.page.get_by_role("button", name="Reject all").click()
    await eventually(lambda: a.outbox(shop.site_key))
    sent: list[str] = []

    def count(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/consents"):
            sent.append(request.url)

    for tab in (a, b):
        await tab.page.unroute(pattern)
        tab.page.on("request", count)
    # Both tabs come back online at once; the server's idempotency is not what keeps it once.
    await asyncio.gather(
        *(t.page.evaluate("() => dispatchEvent(new Event('online'))") for t in (a, b))
    )
    await eventually(lambda: consent_rows(db, shop))
    await eventually(lambda: _no_outbox(a, shop))
    await a.page.wait_for_timeout(500)
    assert len(sent) == 1


async def listen_submitted(page: Page) -> None:
    await page.add_init_script(
        """window.__sent = [];
        window.ContactConsent = [['on', 'submitted', d => __sent.push(d)]];"""
    )


async def test_submitted_fires_for_a_form_another_tab_delivered(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    a = await visit("about:blank")
    await listen_submitted(a.page)
    await a.page.goto(host.url(mode="form"))
    await fill_form(a)
    await a.page.route(f"{host.api_origin}/v1/widget/**", abort_posts)  # this tab is offline
    await a.page.get_by_role("button", name="Send").click()
    await expect(a.page.get_by_role("status")).to_have_text(
        "You seem to be offline. We will send it as soon as you are back."
    )
    b = await second_tab(a, "")
    await listen_submitted(b.page)
    await b.page.goto(host.url(mode="form"))  # it sends what waits in the outbox
    await expect(a.page.get_by_role("status")).to_have_text("Thank you. We received your request.")
    rows = await eventually(lambda: request_rows(db, shop))
    sent_a = await a.page.evaluate("() => __sent")
    assert len(sent_a) == 1
    assert sent_a[0]["id"]
    assert await b.page.evaluate("() => __sent") == []  # the form's own page tells its page
    assert len(rows) == 1


async def test_submitted_fires_for_a_form_delivered_on_the_next_page(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(mode="form"))
    await fill_form(v)
    pattern = f"{host.api_origin}/v1/widget/**"
    await v.page.route(pattern, abort_posts)
    await v.page.get_by_role("button", name="Send").click()
    await expect(v.page.get_by_role("status")).to_have_text(
        "You seem to be offline. We will send it as soon as you are back."
    )
    await v.page.unroute(pattern)
    await listen_submitted(v.page)
    await v.page.goto(host.url(mode="form"))
    sent = await eventually(lambda: v.page.evaluate("() => __sent"))
    rows = await request_rows(db, shop)
    assert len(rows) == 1
    assert len(sent) == 1
    assert sent[0]["id"]


async def test_page_css_custom_properties_do_not_change_the_widget(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    names = ("--a", "--t", "--b", "--x", "--accent", "--background", "--text")
    host.css = (
        "*, :root, contact-consent-widget {"
        + "".join(f"{n}: #f00 !important;" for n in names)
        + "}"
        + "".join(
            f"@property {n} {{ syntax: '<color>'; inherits: false; initial-value: #f00; }}"
            for n in names
        )
    )
    v = await visit(host.url())
    await notice(v)
    colours = await v.shadow(
        """[...root.querySelectorAll('section button')].slice(0, 1).map(b => getComputedStyle(b))
             .map(s => [s.backgroundColor, s.color])
           .concat([[getComputedStyle(root.querySelector('section')).backgroundColor,
                     getComputedStyle(root.querySelector('section')).color]])"""
    )
    assert colours == [
        ["rgb(29, 78, 216)", "rgb(255, 255, 255)"],
        ["rgb(255, 255, 255)", "rgb(17, 24, 39)"],
    ]


POLLUTION = {
    "hidden": True,
    "disabled": True,
    "method": "GET",
    "mode": "no-cors",
    "body": "polluted",
    "cache": "force-cache",
    "credentials": "include",
    "headers": {"X-Polluted": "1"},
    "delegatesFocus": True,
    "marketing": True,
    "analytics": True,
    "policy_version": 1,
    "purposes": {"marketing": True},
    "stats_mode": "off",
    "accept_all": "Polluted",
}


async def test_object_prototype_pollution_does_not_change_the_widget(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection, beacons: list[Any]
) -> None:
    v = await visit("about:blank")
    await v.page.add_init_script(
        f"""(() => {{ const p = {json.dumps(POLLUTION)}; p.decided_at = new Date().toISOString();
          for (const k in p) Object.defineProperty(Object.prototype, k,
            {{value: p[k], writable: true, configurable: true, enumerable: true}}); }})();"""
    )
    await v.page.goto(host.url())
    await notice(v)  # not hidden, its own words
    assert await v.page.evaluate("() => ContactConsent.getConsent()") is None  # no decision faked
    await v.page.get_by_role("button", name="Choose").click()
    await expect(v.page.get_by_label("Marketing")).not_to_be_checked()
    await expect(v.page.get_by_label("Analytics")).to_be_enabled()
    await v.page.get_by_role("dialog").get_by_role("button", name="Reject all").click()
    rows = await eventually(lambda: consent_rows(db, shop))
    assert [(r["action"], r["purposes"]) for r in rows] == [
        ("reject_all", {"necessary": True, "analytics": False, "marketing": False})
    ]
    consent = await v.page.evaluate("() => ContactConsent.getConsent().purposes.marketing")
    assert consent is False
    assert [b["type"] for b in beacons] == ["pageview"]  # stats_mode is the site's, not the page's
