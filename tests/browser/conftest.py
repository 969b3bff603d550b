"""Browser fixtures: Chromium through Playwright, the real app, and a host page on another origin.

The API runs on http://127.0.0.1:PORT (the real create_app against the test database); the
host page runs on http://localhost:OTHER with a strict CSP and hostile CSS, so every test sees the
widget the way a visitor on a merchant's site does.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import TestServer
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Route,
    async_playwright,
)

from tests.conftest import Tenant
from widget_server.web.widget.asset import add_widget_routes

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HOSTILE_CSS = """
* { all: unset !important; }
div { display: none !important; }
contact-consent-widget { display: none !important; opacity: 0 !important; }
button, input, dialog, section { visibility: hidden !important; }
"""
DEEP_ACTIVE = r"""() => {
  let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  if (!a) return null;
  const t = a.labels && a.labels.length ? a.labels[0].textContent : a.textContent || a.tagName;
  return t.replace(/\s*\*$/, '').trim();
}"""
ServerFactory = Callable[..., Awaitable[TestServer]]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


def find_chromium() -> str | None:
    """CHROMIUM_PATH, then Debian's /usr/bin/chromium; None means Playwright's own browser."""
    for candidate in (os.environ.get("CHROMIUM_PATH", ""), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str | None:
    path = find_chromium()
    if path is None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            own = p.chromium.executable_path
        if not Path(own).is_file():
            _unavailable(
                "no Chromium: set CHROMIUM_PATH, install Debian's chromium, or `playwright install`"
            )
    return path


@pytest.fixture
async def browser(chromium_path: str | None) -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        try:
            instance = await p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        except Exception as exc:  # a broken install is the same as a missing one
            _unavailable(f"Chromium does not start: {exc}")
        yield instance
        await instance.close()


BEACONS = web.AppKey("beacons", list)


@web.middleware
async def record_beacons(request: web.Request, handler: Any) -> web.StreamResponse:
    """Keep every beacon body as the server received it (beacons sent while a page unloads
    are invisible to Playwright's request events and routes)."""
    if request.method == "POST" and request.path.endswith("/events"):
        body = await request.read()
        request.app[BEACONS].append(json.loads(body or b"{}"))
        # The handler reads the body as a stream: give it a fresh one with the same bytes.
        replay = StreamReader(request.protocol, 2**16, loop=asyncio.get_running_loop())
        replay.feed_data(body)
        replay.feed_eof()
        request._payload = replay
    response: web.StreamResponse = await handler(request)
    return response


@pytest.fixture
async def api(
    aiohttp_server: ServerFactory, make_app: Callable[..., web.Application], db: asyncpg.Connection
) -> TestServer:
    """The real application on 127.0.0.1 (the widget's origin)."""
    app = make_app(rate_limit_per_minute=10_000)
    app[BEACONS] = []
    app.middlewares.append(record_beacons)
    if not any(r.canonical == "/widget.js" for r in app.router.resources()):
        add_widget_routes(app)  # until the app serves it itself (tests/test_widget_asset.py checks)
    return await aiohttp_server(app, host="127.0.0.1")


def origin_of(server: TestServer, host: str | None = None) -> str:
    return f"http://{host or server.host}:{server.port}"


DEFAULT_BODY = (
    '<main><h1>Shop</h1><div><p>Our products.</p></div><p><a href="/about">About us</a></p></main>'
)
# A page's own strict policy: only the widget's origin may run scripts and be fetched.
STRICT_CSP = "default-src 'self'; script-src {api}; connect-src {api}; style-src 'self'"
# A nonce-based policy (docs/widget.md) for pages with marked inline scripts.
NONCE_CSP = (
    "default-src 'self'; script-src 'nonce-{nonce}' {api} 'self'; connect-src {api}; "
    "style-src 'self'; frame-src 'self'"
)


@dataclass
class HostSite:
    """The merchant's page: another origin, strict CSP, hostile CSS, the pasted snippet.

    Tests may change the page: `body` (the page's own content), `head`, `css` (more host-page
    CSS), `csp` (the policy; None for the strict default, "" for none). In body, head and csp,
    {nonce} is the page's per-request nonce and {api} the widget's origin; `widget_nonce` gives
    the snippet the nonce too. /marked.js?name=N is a script that records that it ran
    (window.__ran), /frame an iframe's page.
    """

    server: TestServer
    api_origin: str
    site_key: str = ""
    body: str = DEFAULT_BODY
    head: str = ""
    css: str = ""
    csp: str | None = None
    widget_nonce: bool = False

    @property
    def origin(self) -> str:
        return origin_of(self.server, "localhost")

    def url(self, **options: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"{self.origin}/shop?{query}" if query else f"{self.origin}/shop"


def host_app(host: HostSite) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        nonce = secrets.token_urlsafe(12)
        attrs = {"data-site": host.site_key}
        for name in ("mode", "lang", "gtag"):
            if name in request.query:
                attrs[f"data-{name}"] = request.query[name]
        if host.widget_nonce:
            attrs["nonce"] = nonce
        snippet = " ".join(f'{k}="{escape(v)}"' for k, v in attrs.items())

        def fill(text: str) -> str:
            return text.replace("{nonce}", nonce).replace("{api}", host.api_origin)

        html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<link rel="stylesheet" href="/hostile.css"><link rel="stylesheet" href="/page.css">{fill(host.head)}</head>
<body>{fill(host.body)}
<script async src="{host.api_origin}/widget.js" {snippet}></script>
</body></html>"""
        headers = {}
        policy = STRICT_CSP if host.csp is None else host.csp
        if request.query.get("csp", "1") == "1" and policy:
            headers["Content-Security-Policy"] = fill(policy)
        return web.Response(text=html, content_type="text/html", headers=headers)

    async def css(request: web.Request) -> web.Response:
        return web.Response(text=HOSTILE_CSS, content_type="text/css")

    async def page_css(request: web.Request) -> web.Response:
        return web.Response(text=host.css, content_type="text/css")

    async def marked(request: web.Request) -> web.Response:
        name = json.dumps(request.query.get("name", "src"))
        code = f"(window.__ran = window.__ran || []).push({name});"
        return web.Response(text=code, content_type="text/javascript")

    async def frame(request: web.Request) -> web.Response:
        html = "<!doctype html><title>Video</title><p>The embedded video.</p>"
        return web.Response(text=html, content_type="text/html")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/shop", page)
    app.router.add_get("/shop/{rest:.*}", page)
    app.router.add_get("/hostile.css", css)
    app.router.add_get("/page.css", page_css)
    app.router.add_get("/marked.js", marked)
    app.router.add_get("/frame", frame)
    app.router.add_get("/favicon.ico", empty)
    return app


@pytest.fixture
async def host(aiohttp_server: ServerFactory, api: TestServer) -> HostSite:
    site = HostSite(server=None, api_origin=origin_of(api))  # type: ignore[arg-type]
    site.server = await aiohttp_server(host_app(site), host="127.0.0.1")
    return site


@pytest.fixture
async def shop(host: HostSite, make_tenant: Callable[..., Awaitable[Tenant]]) -> Tenant:
    """A merchant whose site allows the host page's origin and has policy version 1."""
    tenant = await make_tenant("Shop", origins=(host.origin,))
    host.site_key = tenant.site_key
    return tenant


@dataclass
class Visit:
    """One browser context and page, with every console error and page error collected."""

    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    async def deep_active(self) -> str | None:
        value: str | None = await self.page.evaluate(DEEP_ACTIVE)
        return value

    async def tab_to(self, name: str, limit: int = 40) -> None:
        """Press Tab until the focused element (inside the shadow root too) is `name`."""
        seen = []
        for _ in range(limit):
            await self.page.keyboard.press("Tab")
            current = await self.deep_active()
            seen.append(current)
            if current == name:
                return
        raise AssertionError(f"Tab never reached {name!r}; focus went through {seen}")

    async def storage(self) -> dict[str, Any]:
        """Everything the page could have stored: both storages, and all cookies."""
        stored: dict[str, Any] = await self.page.evaluate(
            "() => ({local: {...localStorage}, session: {...sessionStorage}, cookie: document.cookie})"
        )
        stored["cookies"] = await self.context.cookies()
        return stored

    async def stored_consent(self, site_key: str) -> Any:
        return await self.page.evaluate(f"() => JSON.parse(localStorage.getItem('cc:{site_key}'))")

    async def outbox(self, site_key: str) -> Any:
        """The outbox's entries, oldest first (stored as an object keyed by event id)."""
        box = await self.page.evaluate(
            f"() => JSON.parse(localStorage.getItem('cc:outbox:{site_key}'))"
        )
        if isinstance(box, dict):
            return sorted(box.values(), key=lambda e: e["t"])
        return box  # None, or whatever else is there

    async def shadow(self, script: str) -> Any:
        """Evaluate `script` with `root` bound to the widget's shadow root."""
        return await self.page.evaluate(
            "() => { const root = document.querySelector('contact-consent-widget').shadowRoot;"
            f" return {script}; }}"
        )


@pytest.fixture
async def visit(browser: Browser) -> Callable[..., Awaitable[Visit]]:
    """visit(url, **context options) -> Visit; the page is loaded and the widget script fetched."""

    async def open_page(url: str, **options: Any) -> Visit:
        context = await browser.new_context(**options)
        page = await context.new_page()
        result = Visit(context, page)

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error":
                result.errors.append(message.text)
            elif message.type == "warning":
                result.warnings.append(message.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: result.errors.append(f"pageerror: {exc}"))
        await page.goto(url)
        return result

    return open_page


async def eventually(
    probe: Callable[[], Awaitable[Any]], timeout: float = 10.0, interval: float = 0.1
) -> Any:
    """Poll until probe() returns something truthy (page.wait_for_function fails under CSP)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


async def consent_rows(db: asyncpg.Connection, tenant: Tenant) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            """SELECT event_id, visitor_id, action, surface, purposes, policy_version, gpc,
                      page_path
               FROM consent_records WHERE site_id = $1 AND event_id IS NOT NULL
               ORDER BY created_at""",
            tenant.site_id,
        )
    )


async def request_rows(db: asyncpg.Connection, tenant: Tenant) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            """SELECT event_id, visitor_id, fields, marketing_opt_in, status, policy_version
               FROM info_requests WHERE site_id = $1 ORDER BY created_at""",
            tenant.site_id,
        )
    )


async def change_config(page: Page, api_origin: str, **changes: Any) -> None:
    """Serve the page a site config with some keys changed (e.g. stats_mode, which the site
    settings do not hold yet), keeping the real answer's CORS headers."""

    async def handle(route: Route) -> None:
        response = await route.fetch()
        body = await response.json()
        body.update(changes)
        headers = {
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-encoding", "content-length", "etag")
        }
        await route.fulfill(status=response.status, headers=headers, json=body)

    await page.route(f"{api_origin}/v1/widget/*/config*", handle)


@pytest.fixture
def beacons(api: TestServer) -> list[dict[str, Any]]:
    """Every beacon body the widget API received during the test, in order."""
    return api.app[BEACONS]
