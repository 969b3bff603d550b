"""/docs renders the OpenAPI document in a real browser, with nothing loaded from elsewhere."""

from __future__ import annotations

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from widget_server.web.merchant import ROUTES as OPERATIONS


async def test_docs_render_offline_in_a_browser(browser: Browser, api: TestServer) -> None:
    base = f"http://127.0.0.1:{api.port}"
    outside: list[str] = []
    problems: list[str] = []
    page = await browser.new_page()
    page.on("request", lambda req: None if req.url.startswith(base) else outside.append(req.url))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    await page.goto(f"{base}/docs")
    await page.locator(
        ".opblock-summary-path", has_text="/v1/sites/{site_key}/requests/export"
    ).first.wait_for()
    assert await page.locator(".opblock").count() >= len(OPERATIONS)
    assert await page.locator("text=Unable to render this definition").count() == 0
    assert outside == []
    assert problems == []
