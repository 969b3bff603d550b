"""`widget-server demo`: one command that shows the whole product on this machine."""

from __future__ import annotations

import dataclasses
import html
import sys
import uuid
from pathlib import Path

import asyncpg
from aiohttp import web

from widget_server import apikeys
from widget_server.app import create_app
from widget_server.commands import cmd_migrate, snippet
from widget_server.db import connect
from widget_server.queries import merchants, policies, sites
from widget_server.runner import serve
from widget_server.settings import Secret, Settings

DEMO_MERCHANT = "Demo merchant"
DEMO_SITE = "Demo site"
DEMO_POLICY = """# Terms and privacy notice

We keep what you send us through this form to answer you, and nothing else.
We never sell it. You can ask us to see or erase it at any time.

## What we store

Your consent choices, with the version of this text you saw, so we can prove them.
Anonymous visit counts, without your IP address.
"""

HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Demo shop</title>
<link rel="stylesheet" href="/host.css">
</head>
<body>
<h1>Demo shop</h1>
<p>This page lives on another origin than the widget server, under a strict
Content-Security-Policy. The widget below comes from one script tag:</p>
<pre>{snippet_text}</pre>
{snippet}
</body>
</html>
"""
HOST_CSS = "body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; }\n"


def _read(path: Path) -> str | None:
    return path.read_text().strip() if path.exists() else None


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text + "\n")


async def _demo_key(conn: asyncpg.Connection, merchant_id: uuid.UUID, key_file: Path) -> str:
    """Reuse the key kept in the data folder while it is still valid, else make a new one."""
    secret = _read(key_file)
    if secret:
        row = await conn.fetchrow(
            "SELECT secret_sha256 FROM api_keys WHERE lookup = $1 AND merchant_id = $2 AND revoked_at IS NULL",
            apikeys.lookup_of(secret),
            merchant_id,
        )
        if row is not None and apikeys.matches(secret, row["secret_sha256"]):
            return secret
    _, secret = await merchants.create_key(conn, merchant_id, name="demo")
    _write_private(key_file, secret)
    return secret


async def prepare(url: str, settings: Settings, host_origin: str) -> tuple[str, str]:
    """Create or reuse the demo merchant, key, site and policy; returns (site_key, api_key)."""
    await cmd_migrate(url)
    conn = await connect(url)
    try:
        async with conn.transaction():
            merchant_id = await merchants.find_merchant_by_name(conn, DEMO_MERCHANT)
            if merchant_id is None:
                merchant_id = await merchants.create_merchant(conn, DEMO_MERCHANT)
            key = await _demo_key(conn, merchant_id, settings.data_dir / "demo_api_key")
            site = await sites.find_site(conn, merchant_id, DEMO_SITE)
            if site is None:
                site = await sites.create_site(
                    conn, merchant_id, name=DEMO_SITE, allowed_origins=[host_origin]
                )
            elif host_origin not in site["allowed_origins"]:
                await conn.execute(
                    "UPDATE sites SET allowed_origins = $2, updated_at = now() WHERE site_id = $1",
                    site["site_id"],
                    [host_origin],
                )
        if await policies.current(conn, site["site_id"]) is None:
            await policies.publish(
                conn,
                site["site_id"],
                title="Terms and privacy notice",
                body=DEMO_POLICY,
                language="en",
            )
    finally:
        await conn.close()
    return site["site_key"], key


def host_page_app(public_url: str, site_key: str) -> web.Application:
    """The demo shop: another origin, a strict CSP, and the snippet."""
    tag = snippet(public_url, site_key)
    page = HOST_PAGE.format(snippet_text=html.escape(tag), snippet=tag)
    csp = (
        f"default-src 'self'; script-src {public_url}; connect-src {public_url}; "
        "style-src 'self'; img-src 'self'; frame-ancestors 'none'"
    )

    async def index(request: web.Request) -> web.Response:
        return web.Response(
            text=page, content_type="text/html", headers={"Content-Security-Policy": csp}
        )

    async def no_icon(request: web.Request) -> web.Response:
        # Browsers ask for it; an empty answer keeps the console free of 404s.
        return web.Response(status=204)

    async def css(request: web.Request) -> web.Response:
        return web.Response(text=HOST_CSS, content_type="text/css")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/host.css", css)
    app.router.add_get("/favicon.ico", no_icon)
    return app


async def run_demo(settings: Settings, url: str, host_port: int) -> None:
    host_origin = f"http://localhost:{host_port}"
    site_key, key = await prepare(url, settings, host_origin)
    api = create_app(dataclasses.replace(settings, database_url=Secret(url)))
    host = host_page_app(settings.public_url, site_key)

    async def ready(urls: list[str]) -> None:
        lines = [
            "",
            "widget-server demo is ready.",
            f"  API:          {settings.public_url}   (OpenAPI: {settings.public_url}/docs)",
            f"  Demo page:    {host_origin}/   (another origin, strict CSP)",
            f"  Site key:     {site_key}",
            f"  API key:      {key}",
            f"  Snippet:      {snippet(settings.public_url, site_key)}",
            f"  Try:          curl -H 'Authorization: Bearer {key}' {settings.public_url}/v1/sites",
            "Press Ctrl-C to stop.",
            "",
        ]
        print("\n".join(lines), flush=True)

    await serve(
        [(api, settings.host, settings.port), (host, "localhost", host_port)], on_ready=ready
    )
    print("widget-server demo stopped.", file=sys.stderr)
