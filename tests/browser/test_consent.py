"""The consent notice in a real browser: keyboard use, choices, storage, policy changes, offline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
from playwright.async_api import Route, expect

from tests.browser.conftest import HostSite, Visit, consent_rows, eventually
from tests.conftest import Tenant
from tests.dbutil import publish
from widget_server.web.widget.asset import load_widget

Visitor = Callable[..., Awaitable[Visit]]


async def notice_shown(v: Visit) -> None:
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()


async def test_nothing_is_stored_before_the_visitor_acts(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit(host.url())
    await notice_shown(v)
    # Looking around is not acting: open and close the full text and the preferences.
    await v.page.get_by_role("button", name="Read the full text").click()
    await v.page.get_by_role("button", name="Choose").click()
    await v.page.keyboard.press("Escape")
    await v.page.get_by_role("button", name="Hide the full text").click()
    stored = await v.storage()
    assert stored == {"local": {}, "session": {}, "cookie": "", "cookies": []}
    assert await v.page.evaluate("() => ContactConsent.getConsent()") is None
    assert v.errors == []


async def test_keyboard_only_accept_all(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await notice_shown(v)
    await v.tab_to("Accept all")
    await v.page.keyboard.press("Enter")
    rows = await eventually(lambda: consent_rows(db, shop))
    assert [(r["action"], r["surface"], r["policy_version"]) for r in rows] == [
        ("accept_all", "banner", 1)
    ]
    assert rows[0]["page_path"] == "/shop"
    # Every proof field is filled, the widget's version too.
    record = await db.fetchrow(
        "SELECT * FROM consent_records WHERE site_id = $1 AND event_id IS NOT NULL", shop.site_id
    )
    assert record["widget_version"] == load_widget().version
    for proof in ("user_agent", "receipt", "valid_until", "policy_sha256"):
        assert record[proof], proof
    assert (record["language"], record["page_origin"]) == ("en", host.origin)
    stored = await v.stored_consent(shop.site_key)
    assert stored["visitor_id"] == rows[0]["visitor_id"]
    assert stored["purposes"] == {"necessary": True, "analytics": True, "marketing": True}
    # The notice is gone, focus is on the persistent button, and it reopens the choices.
    await expect(v.page.get_by_role("button", name="Accept all")).to_have_count(0)
    assert await v.deep_active() == "Privacy choices"
    await v.page.keyboard.press("Enter")
    await expect(v.page.get_by_role("dialog", name="Privacy choices")).to_be_visible()
    await expect(v.page.get_by_label("Analytics")).to_be_checked()
    await v.page.keyboard.press("Escape")
    await expect(v.page.get_by_role("dialog")).to_have_count(0)
    assert await v.deep_active() == "Privacy choices"
    await eventually(lambda: _empty_outbox(v, shop))
    assert v.errors == []


async def _empty_outbox(v: Visit, shop: Tenant) -> bool:
    return await v.outbox(shop.site_key) is None


async def test_reject_all(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await v.page.get_by_role("button", name="Reject all").click()
    rows = await eventually(lambda: consent_rows(db, shop))
    assert rows[0]["action"] == "reject_all"
    assert rows[0]["purposes"] == {"necessary": True, "analytics": False, "marketing": False}
    consent = await v.page.evaluate("() => ContactConsent.getConsent()")
    assert consent["policy_version"] == 1
    assert consent["purposes"] == {"necessary": True, "analytics": False, "marketing": False}
    assert v.errors == []


async def test_custom_choice_by_keyboard(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await notice_shown(v)
    await v.tab_to("Choose")
    await v.page.keyboard.press("Enter")
    dialog = v.page.get_by_role("dialog", name="Privacy choices")
    await expect(dialog).to_be_visible()
    necessary = v.page.get_by_label("Necessary")
    await expect(necessary).to_be_checked()
    await expect(necessary).to_be_disabled()
    await expect(v.page.get_by_label("Marketing")).not_to_be_checked()
    await v.tab_to("Analytics")
    await v.page.keyboard.press("Space")
    await v.tab_to("Save choices")
    await v.page.keyboard.press("Enter")
    rows = await eventually(lambda: consent_rows(db, shop))
    assert [(r["action"], r["surface"]) for r in rows] == [("custom", "preferences")]
    assert rows[0]["purposes"] == {"necessary": True, "analytics": True, "marketing": False}
    # Focus went back somewhere sensible (the Choose button is gone with the notice).
    assert await v.deep_active() == "Privacy choices"
    assert v.errors == []


async def test_escape_closes_preferences_and_focus_returns(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit(host.url())
    await notice_shown(v)
    await v.tab_to("Choose")
    await v.page.keyboard.press("Enter")
    await expect(v.page.get_by_role("dialog")).to_be_visible()
    await v.page.keyboard.press("Escape")
    await expect(v.page.get_by_role("dialog")).to_have_count(0)
    assert await v.deep_active() == "Choose"
    assert v.errors == []


async def test_full_text_is_shown_as_text(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    body = (
        "# Terms and privacy\n\nWe keep what you send us.\n\n## What we **store**\n\n"
        "- Your *choices*\n- Nothing else.\n\n<b>Not markup</b>"
    )
    await publish(db, shop.site_id, title="Terms and privacy", body=body, language="en")
    v = await visit(host.url())
    toggle = v.page.get_by_role("button", name="Read the full text")
    await expect(toggle).to_have_attribute("aria-expanded", "false")
    await toggle.click()
    await expect(v.page.get_by_text("• Nothing else.")).to_be_visible()
    # Markdown syntax is gone, and what looks like HTML stays text.
    full = await v.page.evaluate(
        """() => [...document.querySelector('contact-consent-widget').shadowRoot
                   .querySelectorAll('#cc-b p')].map(p => p.textContent)"""
    )
    assert full == [
        "We keep what you send us.",
        "What we store",
        "• Your choices",
        "• Nothing else.",
        "<b>Not markup</b>",
    ]
    await expect(v.page.get_by_role("button", name="Hide the full text")).to_have_attribute(
        "aria-expanded", "true"
    )
    link = v.page.get_by_role("link", name="terms and privacy notice")
    assert (await link.get_attribute("href") or "").endswith(f"/policy/{shop.site_key}")


async def test_hostile_host_css_does_not_hide_the_widget(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit(host.url())
    for name in ("Accept all", "Reject all", "Choose"):
        button = v.page.get_by_role("button", name=name)
        await expect(button).to_be_visible()
        box = await button.bounding_box()
        assert box is not None
        assert box["width"] > 40
        assert box["height"] > 20
    sizes = await v.page.evaluate(
        """() => {
          const r = document.querySelector('contact-consent-widget').shadowRoot;
          const b = [...r.querySelectorAll('button')].map(e => getComputedStyle(e));
          return {accept: b.map(s => s.backgroundColor), region: getComputedStyle(r.querySelector('section')).position};
        }"""
    )
    assert sizes["region"] == "fixed"
    assert "rgb(29, 78, 216)" in sizes["accept"]


async def test_policy_change_asks_again(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await v.page.get_by_role("button", name="Accept all").click()
    await eventually(lambda: consent_rows(db, shop))
    await publish(
        db, shop.site_id, title="Terms v2", body="New terms.\n\nStill short.", language="en"
    )
    state = await v.context.storage_state()

    async def asked_again() -> bool:
        # A returning visitor: same storage, new browser session (so no cached config).
        again = await visit(host.url(), storage_state=state)
        try:
            await (
                again.page.get_by_role("button", name="Privacy choices")
                .or_(again.page.get_by_role("button", name="Accept all"))
                .first.wait_for()
            )
            shown = await again.page.get_by_role("button", name="Accept all").count() == 1
            if shown:
                assert await again.page.evaluate("() => ContactConsent.getConsent()") is None
                await again.page.get_by_role("button", name="Accept all").click()
                await eventually(lambda: _count(db, shop, 2))
            return shown
        finally:
            await again.context.close()

    await eventually(asked_again, timeout=15, interval=0.5)
    rows = await consent_rows(db, shop)
    assert [(r["action"], r["policy_version"]) for r in rows] == [
        ("accept_all", 1),
        ("accept_all", 2),
    ]
    assert rows[0]["visitor_id"] == rows[1]["visitor_id"]


async def _count(db: asyncpg.Connection, shop: Tenant, n: int) -> bool:
    return len(await consent_rows(db, shop)) == n


async def _abort_posts(route: Route) -> None:
    if route.request.method == "POST" and "/events" not in route.request.url:
        await route.abort("internetdisconnected")
    else:
        await route.continue_()


async def test_offline_decision_arrives_exactly_once(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await notice_shown(v)
    pattern = f"{host.api_origin}/v1/widget/**"
    await v.page.route(pattern, _abort_posts)
    await v.page.get_by_role("button", name="Reject all").click()
    # Applied at once, kept in the outbox, not delivered.
    assert (await v.page.evaluate("() => ContactConsent.getConsent()"))["purposes"][
        "analytics"
    ] is False
    box = await eventually(lambda: v.outbox(shop.site_key))
    assert [item["b"]["action"] for item in box] == ["reject_all"]
    await v.page.wait_for_timeout(1500)  # at least one retry fails too
    assert await consent_rows(db, shop) == []
    # Back online: delivered, once, with the event id it was queued with.
    await v.page.unroute(pattern)
    await v.context.set_offline(True)
    await v.context.set_offline(False)
    rows = await eventually(lambda: consent_rows(db, shop))
    await eventually(lambda: _empty_outbox(v, shop))
    await v.page.wait_for_timeout(500)
    rows = await consent_rows(db, shop)
    assert len(rows) == 1
    assert str(rows[0]["event_id"]) == box[0]["b"]["event_id"]
    assert rows[0]["action"] == "reject_all"


async def test_outbox_resumes_on_the_next_page_load(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await notice_shown(v)
    pattern = f"{host.api_origin}/v1/widget/**"
    await v.page.route(pattern, _abort_posts)
    await v.page.get_by_role("button", name="Choose").click()
    await v.page.get_by_label("Marketing").check()
    await v.page.get_by_role("button", name="Save choices").click()
    await eventually(lambda: v.outbox(shop.site_key))
    await v.page.unroute(pattern)
    await v.page.reload()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    rows = await eventually(lambda: consent_rows(db, shop))
    await eventually(lambda: _empty_outbox(v, shop))
    assert [(r["action"], r["purposes"]["marketing"]) for r in rows] == [("custom", True)]


async def test_lost_answer_is_retried_with_the_same_event_once(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    """The server stored it but the answer got lost (a 503 in its place): the retry is idempotent."""
    v = await visit(host.url())
    await notice_shown(v)
    seen: list[str] = []

    async def lose_first_answer(route: Route) -> None:
        if route.request.method != "POST" or "/consents" not in route.request.url:
            await route.continue_()
            return
        response = await route.fetch()
        seen.append(route.request.post_data or "")
        if len(seen) == 1:
            await route.fulfill(
                status=503,
                headers={
                    "Retry-After": "1",
                    "Access-Control-Allow-Origin": host.origin,
                    "Access-Control-Expose-Headers": "Retry-After",
                },
                body="",
            )
        else:
            await route.fulfill(response=response)

    await v.page.route(f"{host.api_origin}/v1/widget/**", lose_first_answer)
    await v.page.get_by_role("button", name="Accept all").click()
    await eventually(lambda: _empty_outbox(v, shop), timeout=15)
    assert len(seen) == 2
    assert seen[0] == seen[1]
    rows = await consent_rows(db, shop)
    assert len(rows) == 1


async def test_gpc_keeps_marketing_off(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(), extra_http_headers={"Sec-GPC": "1"})
    await v.page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    await v.page.reload()
    await v.page.get_by_role("button", name="Choose").click()
    await expect(v.page.get_by_label("Marketing")).not_to_be_checked()
    await v.page.keyboard.press("Escape")
    await v.page.get_by_role("button", name="Accept all").click()
    rows = await eventually(lambda: consent_rows(db, shop))
    assert rows[0]["gpc"] is True
    assert rows[0]["purposes"] == {"necessary": True, "analytics": True, "marketing": False}
    consent = await v.page.evaluate("() => ContactConsent.getConsent()")
    assert consent["purposes"]["marketing"] is False
    assert v.errors == []


async def test_gpc_signal_without_the_header_is_recorded(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    # Chromium exposes no Sec-GPC header here: only the JavaScript signal is set.
    v = await visit(host.url())
    await v.page.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    await v.page.reload()
    await v.page.get_by_role("button", name="Accept all").click()
    rows = await eventually(lambda: consent_rows(db, shop))
    assert rows[0]["gpc"] is True
    assert rows[0]["purposes"]["marketing"] is False
    assert v.errors == []


async def test_gtag_consent_mode(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit(host.url(gtag="on"))
    await notice_shown(v)
    layer = await v.page.evaluate("() => dataLayer.map(a => Array.from(a))")
    denied = {
        k: "denied"
        for k in ("ad_storage", "ad_user_data", "ad_personalization", "analytics_storage")
    }
    # No default on the page: the widget sets one, asking tags to wait for its update.
    assert layer == [["consent", "default", {**denied, "wait_for_update": 500}]]
    await v.page.get_by_role("button", name="Choose").click()
    await v.page.get_by_label("Analytics").check()
    await v.page.get_by_role("button", name="Save choices").click()
    layer = await v.page.evaluate("() => dataLayer.map(a => Array.from(a))")
    assert layer[-1] == [
        "consent",
        "update",
        {
            "ad_storage": "denied",
            "ad_user_data": "denied",
            "ad_personalization": "denied",
            "analytics_storage": "granted",
        },
    ]
    assert v.errors == []


async def test_api_queue_events_and_withdraw(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit("about:blank")
    await v.page.add_init_script(
        """window.__events = [];
        for (const n of ['ready', 'change', 'submitted'])
          document.addEventListener('contactconsent:' + n, e => __events.push([n, e.detail]));
        window.ContactConsent = [['on', 'change', s => __events.push(['on-change', s])],
                                 ['openPreferences']];"""
    )
    await v.page.goto(host.url())
    # The queued call ran after load: the preferences are open.
    await expect(v.page.get_by_role("dialog", name="Privacy choices")).to_be_visible()
    await v.page.get_by_role("dialog").get_by_role("button", name="Accept all").click()
    await eventually(lambda: consent_rows(db, shop))
    await v.page.evaluate("() => ContactConsent.withdraw()")
    rows = await eventually(lambda: _count(db, shop, 2))
    rows = await consent_rows(db, shop)
    assert [r["action"] for r in rows] == ["accept_all", "withdraw"]
    events = await v.page.evaluate("() => __events")
    assert [e[0] for e in events] == ["ready", "change", "on-change", "change", "on-change"]
    assert events[0][1] is None
    assert events[1][1]["purposes"]["analytics"] is True
    assert events[3][1]["purposes"] == {"necessary": True, "analytics": False, "marketing": False}
    assert v.errors == []


async def test_stale_policy_answer_makes_the_widget_ask_again(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    await v.page.get_by_role("button", name="Accept all").click()
    await eventually(lambda: consent_rows(db, shop))
    await publish(db, shop.site_id, title="Terms v2", body="Changed.", language="en")

    async def server_knows_v2() -> bool:
        status, body = await v.page.evaluate(
            f"""() => fetch('{host.api_origin}/v1/widget/{shop.site_key}/config', {{cache: 'no-store'}})
                  .then(async r => [r.status, await r.json()])"""
        )
        return status == 200 and body["policy"]["version"] == 2

    await eventually(server_knows_v2)
    # The page still has version 1: a change of mind is answered 409, and the notice returns.
    await v.page.get_by_role("button", name="Privacy choices").click()
    await v.page.get_by_label("Marketing").uncheck()
    await v.page.get_by_role("button", name="Save choices").click()
    await expect(v.page.get_by_role("region", name="Your privacy")).to_be_visible()
    await v.page.get_by_role("button", name="Reject all").click()
    await eventually(lambda: _count(db, shop, 2))
    await eventually(lambda: _empty_outbox(v, shop))
    rows = await consent_rows(db, shop)
    assert [(r["action"], r["policy_version"]) for r in rows] == [
        ("accept_all", 1),
        ("reject_all", 2),
    ]


async def test_expired_decision_asks_again(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit(host.url())
    await v.page.get_by_role("button", name="Accept all").click()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    await v.page.reload()
    await expect(v.page.get_by_role("button", name="Privacy choices")).to_be_visible()
    await expect(v.page.get_by_role("button", name="Accept all")).to_have_count(0)
    await v.page.evaluate(
        f"""() => {{ const k = 'cc:{shop.site_key}', s = JSON.parse(localStorage.getItem(k));
              s.decided_at = new Date(Date.now() - 366 * 864e5).toISOString();
              localStorage.setItem(k, JSON.stringify(s)); }}"""
    )
    await v.page.reload()
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    assert await v.page.evaluate("() => ContactConsent.getConsent()") is None


async def test_site_without_policy_shows_nothing(
    visit: Visitor, host: HostSite, make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    tenant = await make_tenant("Bare", origins=(host.origin,), policy=False)
    host.site_key = tenant.site_key
    v = await visit(host.url())
    ready = await eventually(
        lambda: v.page.evaluate("() => document.querySelector('contact-consent-widget') && 'drawn'")
    )
    assert ready == "drawn"
    await v.page.evaluate("() => { ContactConsent.openForm(); ContactConsent.openPreferences(); }")
    await v.page.wait_for_timeout(300)
    assert await v.page.get_by_role("button").count() == 0
    assert await v.page.get_by_role("dialog").count() == 0
    assert await v.storage() == {"local": {}, "session": {}, "cookie": "", "cookies": []}
    assert v.errors == []


async def test_language_comes_from_data_lang_then_the_browser(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit(host.url(), locale="fr-FR")
    await expect(v.page.get_by_role("button", name="Tout accepter")).to_be_visible()
    v = await visit(host.url(lang="de"), locale="fr-FR")
    await expect(v.page.get_by_role("button", name="Alle akzeptieren")).to_be_visible()
    v = await visit(host.url(), locale="pt-BR")  # the primary subtag's texts
    await expect(v.page.get_by_role("button", name="Aceitar tudo")).to_be_visible()
    v = await visit(host.url(), locale="ja-JP")  # no texts for it: the site's default
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    assert v.errors == []


async def test_the_visitors_own_record(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url())
    pattern = f"{host.api_origin}/v1/widget/**"
    await v.page.route(pattern, _abort_posts)
    await v.page.get_by_role("button", name="Choose").click()
    await v.page.get_by_label("Analytics").check()
    await v.page.get_by_role("button", name="Save choices").click()
    # Decided but not delivered yet: the record says it waits for the server.
    await v.page.get_by_role("button", name="Privacy choices").click()
    dialog = v.page.get_by_role("dialog", name="Privacy choices")
    await expect(dialog.get_by_text("Waiting for the server's confirmation")).to_be_visible()
    await v.page.keyboard.press("Escape")
    await v.page.unroute(pattern)
    await v.context.set_offline(True)
    await v.context.set_offline(False)
    rows = await eventually(lambda: consent_rows(db, shop))
    await eventually(lambda: _empty_outbox(v, shop))
    record = await db.fetchrow(
        "SELECT record_id, receipt, created_at FROM consent_records"
        " WHERE site_id = $1 AND event_id = $2",
        shop.site_id,
        rows[0]["event_id"],
    )
    await v.page.reload()
    await v.page.get_by_role("button", name="Privacy choices").click()
    terms = await v.shadow(
        "[...root.querySelectorAll('dialog dt')].map(e => [e.textContent, e.nextElementSibling.textContent])"
    )
    shown = dict(terms)
    assert list(shown) == [
        "Decided on",
        "Policy version",
        "Necessary",
        "Analytics",
        "Marketing",
        "Record",
        "Receipt",
    ]
    assert shown["Policy version"] == "1"
    assert (shown["Necessary"], shown["Analytics"], shown["Marketing"]) == (
        "Allowed",
        "Allowed",
        "Not allowed",
    )
    assert shown["Record"] == str(record["record_id"])
    assert shown["Receipt"] == record["receipt"]
    # The date the visitor decided, in the widget's language.
    stored = await v.stored_consent(shop.site_key)
    expected = await v.page.evaluate("d => new Date(d).toLocaleString('en')", stored["decided_at"])
    assert shown["Decided on"] == expected
