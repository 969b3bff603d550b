"""How fast consent notices show, side by side: ContactConsent, cookieconsent v3, Klaro and
tarteaucitron on the same host page in the same Chromium (medians of 5 fresh visits each).

    python bench/widget_timing.py [--runs 5]

Creates a scratch database on the Postgres server of TEST_DATABASE_URL (default
postgresql://root@127.0.0.1:5432/postgres), starts `python -m widget_server serve` on it, serves
one host page per library from another origin, and drops the database at the end. The other
libraries are fetched once with `npm pack` into bench/.vendor/ (git-ignored, never committed).

Printed per library: when the notice is shown (at least 90% of it inside the viewport, at 90%
opacity or more), in ms after DOMContentLoaded, with and without prefers-reduced-motion, its
ratio to ours, and how many Tab presses reach its "accept" button. For ours also: ms from the
config's arrival (its responseEnd) to shown, and the config's size per content coding.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchutil import free_port, wait_ready, with_database  # noqa: E402
from widget_server.queries import merchants, policies, sites  # noqa: E402

from widget_server.db import connect, migrate  # noqa: E402

DEFAULT_SERVER = "postgresql://root@127.0.0.1:5432/postgres"
VENDOR = ROOT / "bench" / ".vendor"
PACKAGES = {
    "cookieconsent": "vanilla-cookieconsent@3",
    "klaro": "klaro",
    "tarteaucitron": "tarteaucitronjs",
}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
INTRO = "We ask before we use anything beyond what this site needs to work."
CONTENT = "<main><h1>Shop</h1><p>Our products.</p><p><a href='/about'>About us</a></p></main>"

# How each library is put on the page, and how its notice is found once drawn.
LIBRARIES: dict[str, dict[str, str]] = {
    "ContactConsent": {
        "head": "",
        "body": '<script async src="{api}/widget.js" data-site="{site}"></script>',
        "find": "(() => { const h = document.querySelector('contact-consent-widget');"
        " return h && h.shadowRoot && h.shadowRoot.querySelector('.bn'); })()",
    },
    "cookieconsent v3": {
        "head": '<link rel="stylesheet" href="/vendor/cookieconsent/dist/cookieconsent.css">',
        "body": """<script src="/vendor/cookieconsent/dist/cookieconsent.umd.js"></script>
<script>CookieConsent.run({hideFromBots: false,
  categories: {necessary: {enabled: true, readOnly: true}, analytics: {}, marketing: {}},
  language: {default: 'en', translations: {en: {
    consentModal: {title: 'Your privacy', description: '%s', acceptAllBtn: 'Accept all',
      acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Choose'},
    preferencesModal: {title: 'Privacy choices', acceptAllBtn: 'Accept all',
      acceptNecessaryBtn: 'Reject all', savePreferencesBtn: 'Save choices', sections: []}}}}
});</script>""".replace("%s", INTRO),
        "find": "document.querySelector('#cc-main .cm')",
    },
    "Klaro": {
        "head": "",
        "body": """<script>window.klaroConfig = {version: 1, lang: 'en', mustConsent: false,
  acceptAll: true, services: [{name: 'stats', purposes: ['analytics']},
  {name: 'ads', purposes: ['marketing']}],
  translations: {en: {consentNotice: {description: '%s'}, ok: 'Accept all'}}};</script>
<script src="/vendor/klaro/dist/klaro.js"></script>""".replace("%s", INTRO),
        "find": "document.querySelector('.klaro .cookie-notice')",
    },
    "tarteaucitron": {
        "head": "",
        "body": """<script src="/vendor/tarteaucitron/tarteaucitron.js"></script>
<script>tarteaucitron.init({privacyUrl: '', orientation: 'bottom', showAlertSmall: false,
  cookieslist: false, AcceptAllCta: true, DenyAllCta: true, highPrivacy: true,
  mandatory: false, useExternalCss: false});
(tarteaucitron.job = tarteaucitron.job || []).push('youtube');</script>""",
        "find": "document.getElementById('tarteaucitronAlertBig')",
    },
}
# Runs in every page before its scripts: DOMContentLoaded, then each frame until the notice is
# shown (90% inside the viewport, effective opacity at least 0.9).
PROBE = """(() => {
  const t = window.__t = {};
  document.addEventListener('DOMContentLoaded', () => { t.dcl = performance.now(); });
  new MutationObserver(() => { t.added = t.added || (document.querySelector('contact-consent-widget') && performance.now()); })
    .observe(document, {childList: true, subtree: true});
  const find = () => %s;
  const opacity = el => { let o = 1;
    for (let e = el; e; e = e.parentElement || (e.getRootNode() && e.getRootNode().host))
      o *= parseFloat(getComputedStyle(e).opacity);
    return o; };
  const shown = el => { const r = el.getBoundingClientRect();
    if (!r.width || !r.height || !el.checkVisibility({visibilityProperty: true})) return false;
    const inside = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
    return inside >= 0.9 * Math.min(r.height, innerHeight) && opacity(el) >= 0.9; };
  const frame = () => { const el = find();
    if (el && shown(el)) { t.shown = performance.now(); return; }
    requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
})();"""
DEEP_ACTIVE = """() => { let a = document.activeElement;
  while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
  return a ? (a.textContent || a.value || '').trim() : ''; }"""


def fetch_vendor() -> None:
    """npm pack the other libraries into bench/.vendor once (never committed)."""
    VENDOR.mkdir(parents=True, exist_ok=True)
    npm = shutil.which("npm")
    for name, spec in PACKAGES.items():
        target = VENDOR / name
        if target.is_dir():
            continue
        if npm is None:
            raise SystemExit(f"npm is needed once to fetch {spec} into {VENDOR}")
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                [npm, "pack", spec, "--pack-destination", tmp],
                capture_output=True,
                text=True,
                check=True,
            )
            tgz = Path(tmp) / done.stdout.strip().splitlines()[-1]
            with tarfile.open(tgz) as archive:
                archive.extractall(tmp, filter="data")
            shutil.move(str(Path(tmp) / "package"), target)
        print(f"fetched {spec} into {target}")


def vendor_versions() -> dict[str, str]:
    import json

    return {
        name: json.loads((VENDOR / name / "package.json").read_text())["version"]
        for name in PACKAGES
    }


def host_app(api: str, site_key: str) -> web.Application:
    async def page(request: web.Request) -> web.Response:
        lib = LIBRARIES[request.match_info["name"]]
        body = lib["body"].replace("{api}", api).replace("{site}", site_key)
        html = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Shop</title>{lib["head"]}</head><body>{CONTENT}{body}</body></html>"""
        return web.Response(text=html, content_type="text/html")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/lib/{name}", page)
    app.router.add_get("/favicon.ico", empty)
    app.router.add_static("/vendor", VENDOR)
    return app


async def create_site(url: str, origin: str) -> str:
    conn = await connect(url)
    try:
        merchant_id = await merchants.create_merchant(conn, "Bench timing")
        site = await sites.create_site(
            conn, merchant_id, name="Bench timing", allowed_origins=[origin]
        )
        await policies.publish(
            conn,
            site["site_id"],
            title="Terms and privacy",
            body="We keep what you send us.\n\nNothing else.",
            language="en",
        )
        return str(site["site_key"])
    finally:
        await conn.close()


async def visit(browser: Any, url: str, name: str, reduced: bool) -> dict[str, float]:
    context = await browser.new_context(reduced_motion="reduce" if reduced else "no-preference")
    try:
        page = await context.new_page()
        await page.add_init_script(PROBE % LIBRARIES[name]["find"])
        await page.goto(url)
        for _ in range(200):
            t = await page.evaluate("() => window.__t")
            if "shown" in t and "dcl" in t:
                break
            await asyncio.sleep(0.05)
        else:
            raise RuntimeError(f"{name}: the notice was not shown within 10 s")
        result = {"after_dcl": t["shown"] - t["dcl"]}
        if name == "ContactConsent":
            script, config = await page.evaluate(
                "() => ['/widget.js', '/config'].map(p => performance.getEntriesByType('resource')"
                ".find(e => e.name.includes(p))).map(e => [e.startTime, e.responseEnd])"
            )
            result["after_config"] = t["shown"] - config[1]
            if os.environ.get("TIMELINE"):
                print(
                    f"dcl {t['dcl']:.0f} script {script[0]:.0f}-{script[1]:.0f} "
                    f"config {config[0]:.0f}-{config[1]:.0f} added {t.get('added') or 0:.0f} shown {t['shown']:.0f}"
                )
        return result
    finally:
        await context.close()


async def tabs_to_accept(browser: Any, url: str) -> int | None:
    context = await browser.new_context()
    try:
        page = await context.new_page()
        await page.goto(url)
        await page.wait_for_timeout(1500)
        for presses in range(1, 16):
            await page.keyboard.press("Tab")
            text = (await page.evaluate(DEEP_ACTIVE)).lower()
            if "accept" in text and "necessary" not in text:
                return presses
        return None
    finally:
        await context.close()


async def config_sizes(api: str, site_key: str) -> dict[str, int]:
    sizes = {}
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        for coding in ("identity", "gzip", "br"):
            url = f"{api}/v1/widget/{site_key}/config?lang=en"
            async with session.get(url, headers={"Accept-Encoding": coding}) as r:
                sizes[coding] = len(await r.read())
    return sizes


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def measure(args: argparse.Namespace, url: str) -> None:
    from playwright.async_api import async_playwright

    host_port, api_port = free_port(), free_port()
    host_origin, api = f"http://127.0.0.1:{host_port}", f"http://localhost:{api_port}"
    site_key = await create_site(url, host_origin)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WIDGET_SECRET_KEY": secrets.token_urlsafe(48),
        "WIDGET_HOST": "127.0.0.1",
        "WIDGET_PORT": str(api_port),
        "WIDGET_PUBLIC_URL": api,
        "WIDGET_LOG_LEVEL": "WARNING",
        "WIDGET_RATE_LIMIT_PER_MINUTE": str(10**6),
    }
    runner = web.AppRunner(host_app(api, site_key))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", host_port).start()
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "widget_server", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            async with aiohttp.ClientSession() as session:
                await wait_ready(session, f"http://127.0.0.1:{api_port}", server)
            sizes = await config_sizes(f"http://127.0.0.1:{api_port}", site_key)
            async with async_playwright() as p:
                browser = await p.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                    args=CHROMIUM_ARGS,
                )
                results: dict[tuple[str, bool], list[dict[str, float]]] = defaultdict(list)
                names = list(LIBRARIES)
                for run in range(args.runs):
                    # Rotate the order each round, so drift on a shared machine evens out.
                    order = names[run % len(names) :] + names[: run % len(names)]
                    for name in order:
                        for reduced in (False, True):
                            page_url = f"{host_origin}/lib/{name}"
                            results[name, reduced].append(
                                await visit(browser, page_url, name, reduced)
                            )
                tabs = {n: await tabs_to_accept(browser, f"{host_origin}/lib/{n}") for n in names}
                await browser.close()
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            await runner.cleanup()
    report(results, tabs, sizes, args.runs)


def report(
    results: dict[tuple[str, bool], list[dict[str, float]]],
    tabs: dict[str, int | None],
    sizes: dict[str, int],
    runs: int,
) -> None:
    versions = vendor_versions()
    ours = median([r["after_dcl"] for r in results["ContactConsent", False]])
    ours_reduced = median([r["after_dcl"] for r in results["ContactConsent", True]])
    print(
        f"\nNotice shown, ms after DOMContentLoaded (median of {runs} fresh visits, Chromium, "
        f"{os.cpu_count()} CPUs shared with the servers)"
    )
    header = f"{'library':<26}{'shown':>8}{'reduced motion':>16}{'x ours':>8}{'x ours (rm)':>13}"
    print(header + f"{'Tabs to accept':>16}")
    for name in LIBRARIES:
        label = name if name == "ContactConsent" else f"{name} {versions[_package(name)]}"
        normal = median([r["after_dcl"] for r in results[name, False]])
        reduced = median([r["after_dcl"] for r in results[name, True]])
        presses = tabs[name] if tabs[name] is not None else "-"
        print(
            f"{label:<26}{normal:>8.0f}{reduced:>16.0f}{normal / ours:>8.2f}"
            f"{reduced / ours_reduced:>13.2f}{presses!s:>16}"
        )
    after_config = [r["after_config"] for k in (False, True) for r in results["ContactConsent", k]]
    print(
        f"\nContactConsent: shown {median(after_config):.0f} ms after the config arrived "
        f"(median of {len(after_config)}, max {max(after_config):.0f})"
    )
    print(
        "site config answer: "
        + ", ".join(f"{coding} {size} bytes" for coding, size in sizes.items())
    )


def _package(name: str) -> str:
    return {"cookieconsent v3": "cookieconsent", "Klaro": "klaro"}.get(name, name)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh visits per library (5)")
    args = parser.parse_args()
    fetch_vendor()
    server_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    name = f"widget_bench_timing_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    try:
        conn = await connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        await measure(args, url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
