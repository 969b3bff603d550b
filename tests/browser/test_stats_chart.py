"""The statistics chart in a real browser: it renders as an image, on its own and inside a page,
with its bars drawn and no accessibility violations."""

from __future__ import annotations

import base64

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser

from tests.browser.conftest import origin_of
from tests.conftest import Tenant
from tests.stats_support import Hit, StatsSite, ingest, utc
from tests.test_stats_api import add_consent

try:
    from axe_playwright_python.async_playwright import Axe
except ImportError:  # pragma: no cover
    Axe = None

BAR_PIXELS = """async (src) => {
  const img = new Image();
  img.src = src;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let bars = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] === 0x1d && d[i + 1] === 0x4e && d[i + 2] === 0xd8) bars++;
  return {width: img.naturalWidth, height: img.naturalHeight, bars};
}"""


@pytest.mark.parametrize("metric", ["pageviews", "consent_rate"])
async def test_the_chart_renders_in_a_browser(
    browser: Browser, api: TestServer, db: asyncpg.Connection, tenant: Tenant, metric: str
) -> None:
    hits = [
        Hit(utc(2024, 5, d, 10), "/", ip=f"203.0.113.{i}") for d in range(1, 8) for i in range(d)
    ]
    await ingest(db, StatsSite(tenant.site_id), hits)
    for d in range(1, 8):  # about half of each day's visitors answer the notice
        for i in range(d // 2 + 1):
            at = utc(2024, 5, d, 11)
            await add_consent(db, tenant, at, "accept_all", 1, f"v{d}-{i}", {"necessary": True})
    url = f"{origin_of(api)}/v1/sites/{tenant.site_key}/stats.svg?from=2024-05-01&to=2024-05-07&metric={metric}"
    context = await browser.new_context(
        extra_http_headers={"Authorization": f"Bearer {tenant.key}"}
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = await page.goto(url)
    assert response is not None
    assert response.status == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    shown = await page.evaluate(
        """() => {
          const svg = document.documentElement;
          const box = svg.getBoundingClientRect();
          return {ns: svg.namespaceURI, w: box.width, h: box.height,
                  title: document.querySelector('svg > title').textContent,
                  bars: [...document.querySelectorAll('rect')].filter(r => r.querySelector('title')).length,
                  scripts: document.querySelectorAll('script').length};
        }"""
    )
    assert shown["ns"] == "http://www.w3.org/2000/svg"
    assert (shown["w"], shown["h"]) == (640, 240)
    assert "2024-05-01 to 2024-05-07" in shown["title"]
    assert shown["bars"] == 7
    assert shown["scripts"] == 0
    body = await response.body()
    await context.close()

    # As an image in a page (what a dashboard would do): it decodes, and its bars have colour.
    plain = await browser.new_context()
    page = await plain.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    data_url = "data:image/svg+xml;base64," + base64.b64encode(body).decode()
    drawn = await page.evaluate(BAR_PIXELS, data_url)
    assert (drawn["width"], drawn["height"]) == (640, 240)
    assert drawn["bars"] > 500, drawn  # painted bars, not an empty frame
    if Axe is not None:
        await page.set_content(
            f"<!doctype html><html lang='en'><title>Stats</title><main><h1>Stats</h1>{body.decode()}</main></html>"
        )
        results = await Axe().run(page)
        assert [v["id"] for v in results.response["violations"]] == []
    await plain.close()
    assert errors == []
