"""The info-request form in a real browser: keyboard use, validation, server errors, XSS, offline."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import asyncpg
from playwright.async_api import Route, expect

from tests.browser.conftest import HostSite, Visit, consent_rows, eventually, request_rows
from tests.conftest import Tenant

Visitor = Callable[..., Awaitable[Visit]]
XSS = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">"\'&amp;'


async def open_form(v: Visit) -> None:
    await v.page.get_by_role("button", name="Tell me more").click()
    await expect(v.page.get_by_role("dialog", name="Tell me more")).to_be_visible()


async def fill(
    v: Visit, name: str = "Ada", email: str = "ada@example.com", message: str = "Hi"
) -> None:
    await v.page.get_by_label("Name").fill(name)
    await v.page.get_by_label("E-mail").fill(email)
    await v.page.get_by_label("Message").fill(message)
    await v.page.wait_for_timeout(1600)  # a human takes a moment; faster is treated as spam


async def test_keyboard_only_request(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(mode="form"))
    await expect(v.page.get_by_role("button", name="Accept all")).to_have_count(0)
    await v.tab_to("Tell me more")
    await v.page.keyboard.press("Enter")
    await expect(v.page.get_by_role("dialog", name="Tell me more")).to_be_visible()
    assert await v.deep_active() == "Name"
    name, email, phone = (v.page.get_by_label(x) for x in ("Name", "E-mail", "Phone"))
    assert await name.get_attribute("autocomplete") == "name"
    assert await email.get_attribute("type") == "email"
    assert await email.get_attribute("autocomplete") == "email"
    assert await phone.get_attribute("type") == "tel"
    assert await phone.get_attribute("autocomplete") == "tel"
    await expect(v.page.get_by_label("Send me occasional news and offers.")).not_to_be_checked()
    await v.page.keyboard.type("Ada Lovelace")
    await v.tab_to("E-mail")
    await v.page.keyboard.type("ada@example.com")
    await v.tab_to("Message")
    await v.page.keyboard.type("Please call me.\nThanks")
    await v.tab_to("Send me occasional news and offers.")
    await v.page.keyboard.press("Space")
    await v.page.wait_for_timeout(1500)
    assert await v.storage() == {"local": {}, "session": {}, "cookie": "", "cookies": []}
    await v.tab_to("Send")
    await v.page.keyboard.press("Enter")
    await v.page.keyboard.press("Enter")  # a double submit must not make a second request
    status = v.page.get_by_role("status")
    await expect(status).to_have_text("Thank you. We received your request.")
    rows = await eventually(lambda: request_rows(db, shop))
    await v.page.wait_for_timeout(500)
    rows = await request_rows(db, shop)
    assert len(rows) == 1
    assert rows[0]["fields"] == {
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "message": "Please call me.\nThanks",
    }
    assert rows[0]["marketing_opt_in"] is True
    assert rows[0]["status"] == "new"
    stored = await v.stored_consent(shop.site_key)
    assert stored["visitor_id"] == rows[0]["visitor_id"]
    assert v.errors == []


async def test_validation_as_the_visitor_goes(visit: Visitor, host: HostSite, shop: Tenant) -> None:
    v = await visit(host.url(mode="form"))
    await open_form(v)
    await v.page.get_by_role("button", name="Send").click()
    name = v.page.get_by_label("Name")
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_be_focused()
    await expect(name).to_have_accessible_description("This field is required.")
    email = v.page.get_by_label("E-mail")
    await email.fill("not-an-address")
    await email.blur()
    await expect(email).to_have_accessible_description("Enter a valid e-mail address.")
    await email.fill("ok@example.com")
    await expect(email).to_have_attribute("aria-invalid", "false")
    await expect(email).to_have_accessible_description("")
    assert await v.storage() == {"local": {}, "session": {}, "cookie": "", "cookies": []}
    assert v.errors == []


async def test_server_errors_are_shown_at_their_fields(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(mode="form"))
    await open_form(v)
    await fill(v)

    async def break_email(route: Route) -> None:
        # What the browser checks passes; what the server checks does not.
        if route.request.method == "POST" and "/requests" in route.request.url:
            body = json.loads(route.request.post_data or "{}")
            body["fields"]["email"] = "ada@localhost"
            await route.continue_(post_data=json.dumps(body))
        else:
            await route.continue_()

    await v.page.route(f"{host.api_origin}/v1/widget/**", break_email)
    await v.page.get_by_role("button", name="Send").click()
    email = v.page.get_by_label("E-mail")
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_be_focused()
    await expect(email).to_have_accessible_description("Not a valid e-mail address.")
    await expect(v.page.get_by_label("Name")).to_have_attribute("aria-invalid", "false")
    assert await request_rows(db, shop) == []
    # Fixed, sent again: accepted, and the button is usable again.
    await v.page.unroute(f"{host.api_origin}/v1/widget/**")
    await v.page.get_by_role("button", name="Send").click()
    await expect(v.page.get_by_role("status")).to_have_text("Thank you. We received your request.")
    assert len(await request_rows(db, shop)) == 1


async def test_script_payloads_never_run_and_are_stored_verbatim(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    # No CSP on this page, so a payload that reached the DOM as HTML would really run.
    v = await visit(host.url(mode="form", csp="0"))
    await open_form(v)
    await fill(v, name=XSS, message=XSS + "\n\n" + XSS)
    await v.page.get_by_role("button", name="Send").click()
    await expect(v.page.get_by_role("status")).to_have_text("Thank you. We received your request.")
    rows = await eventually(lambda: request_rows(db, shop))
    assert rows[0]["fields"]["name"] == XSS
    assert rows[0]["fields"]["message"] == XSS + "\n\n" + XSS
    await v.page.wait_for_timeout(300)
    assert await v.page.evaluate("() => window.__pwned") is None
    images = await v.page.evaluate(
        "() => document.querySelectorAll('img').length"
        " + document.querySelector('contact-consent-widget').shadowRoot.querySelectorAll('img, script').length"
    )
    assert images == 0
    assert v.errors == []


async def test_offline_request_arrives_exactly_once(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(mode="form"))
    await open_form(v)
    await fill(v)
    pattern = f"{host.api_origin}/v1/widget/**"

    async def offline(route: Route) -> None:
        if route.request.method == "POST":
            await route.abort("internetdisconnected")
        else:
            await route.continue_()

    await v.page.route(pattern, offline)
    send = v.page.get_by_role("button", name="Sending…")
    await v.page.get_by_role("button", name="Send").click()
    await expect(v.page.get_by_role("status")).to_have_text(
        "You seem to be offline. We will send it as soon as you are back."
    )
    await expect(send).to_be_disabled()
    await send.click(force=True)  # disabled: no second request
    box = await v.outbox(shop.site_key)
    assert len(box) == 1
    await v.page.wait_for_timeout(1500)
    assert await request_rows(db, shop) == []
    await v.page.unroute(pattern)
    await v.context.set_offline(True)
    await v.context.set_offline(False)
    await expect(v.page.get_by_role("status")).to_have_text("Thank you. We received your request.")
    rows = await eventually(lambda: request_rows(db, shop))
    await v.page.wait_for_timeout(500)
    rows = await request_rows(db, shop)
    assert len(rows) == 1
    assert str(rows[0]["event_id"]) == box[0]["b"]["event_id"]
    # Submitting recorded the visitor's agreement to the policy shown, on the server's side.
    accepted = await db.fetchval(
        "SELECT count(*) FROM consent_records WHERE site_id = $1 AND action = 'accept_terms'",
        shop.site_id,
    )
    assert accepted == 1
    assert await consent_rows(db, shop) == []  # no widget consent decision was made


async def test_submitted_event_and_api(
    visit: Visitor, host: HostSite, shop: Tenant, db: asyncpg.Connection
) -> None:
    v = await visit(host.url(mode="consent"))
    await expect(v.page.get_by_role("button", name="Accept all")).to_be_visible()
    await v.page.get_by_role("button", name="Accept all").click()
    # data-mode=consent: no launcher, but the API still opens the form.
    await expect(v.page.get_by_role("button", name="Tell me more")).to_have_count(0)
    await v.page.evaluate(
        """() => { window.__sent = [];
          ContactConsent.on('submitted', d => __sent.push(d));
          ContactConsent.push(['openForm']); }"""
    )
    await expect(v.page.get_by_role("dialog", name="Tell me more")).to_be_visible()
    await fill(v)
    await v.page.get_by_role("button", name="Send").click()
    await expect(v.page.get_by_role("status")).to_have_text("Thank you. We received your request.")
    sent = await v.page.evaluate("() => __sent")
    rows = await request_rows(db, shop)
    assert len(rows) == 1
    assert len(sent) == 1
    assert sent[0]["id"]
    assert v.errors == []


async def test_queued_open_form_shows_the_built_in_labels_exactly(
    visit: Visitor, host: HostSite, shop: Tenant
) -> None:
    v = await visit("about:blank")
    # The contract's own pre-load snippet, run before the widget script arrives.
    await v.page.add_init_script(
        "window.ContactConsent = window.ContactConsent || []; ContactConsent.push(['openForm'])"
    )
    await v.page.goto(host.url())
    await expect(v.page.get_by_role("dialog", name="Tell me more")).to_be_visible()
    required = {"Name": True, "E-mail": True, "Phone": False, "Message": True}
    for label, needed in required.items():
        # The label's text and the field's accessible name are exactly the built-in word.
        field = v.page.get_by_label(label, exact=True)
        await expect(field).to_be_visible()
        await expect(v.page.get_by_role("textbox", name=label, exact=True)).to_be_visible()
        assert (await field.get_attribute("required") is not None) is needed
    await expect(v.page.get_by_role("button", name="Send", exact=True)).to_be_visible()
    await expect(v.page.get_by_label("Send me occasional news and offers.")).not_to_be_checked()
    # Required fields still carry a visible marker, drawn by the stylesheet.
    marks = await v.page.evaluate(
        """() => [...document.querySelector('contact-consent-widget').shadowRoot
                   .querySelectorAll('dialog label')]
                 .map(l => getComputedStyle(l, '::after').content)"""
    )
    assert [m != "none" for m in marks] == [True, True, False, True, False]
    assert v.errors == []
