"""`widget-server demo`: one command that shows the whole product on this machine."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from pathlib import Path

import asyncpg

from widget_server.app import create_app
from widget_server.cli.commands import cmd_migrate, connection
from widget_server.domain.snippet import snippet
from widget_server.services import api_keys, merchants, policies, sites
from widget_server.settings import Secret, Settings
from widget_server.web.demo_page import host_page_app
from widget_server.web.serve import serve

DEMO_MERCHANT = "Demo merchant"
DEMO_SITE = "Demo site"
DEMO_POLICY = """# Terms and privacy notice

We keep what you send us through this form to answer you, and nothing else.
We never sell it. You can ask us to see or erase it at any time.

## What we store

Your consent choices, with the version of this text you saw, so we can prove them.
Anonymous visit counts, without your IP address.
"""


def _read(path: Path) -> str | None:
    return path.read_text().strip() if path.exists() else None


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600)
    path.write_text(text + "\n")


async def _demo_key(conn: asyncpg.Connection, merchant_id: uuid.UUID, key_file: Path) -> str:
    """Reuse the key kept in the data folder while it is still valid, else make a new one."""
    secret = _read(key_file)
    if secret and await api_keys.still_valid(conn, merchant_id, secret):
        return secret
    _, secret = await api_keys.create_key(conn, merchant_id, {"name": "demo"})
    _write_private(key_file, secret)
    return secret


async def prepare(url: str, settings: Settings, host_origin: str) -> tuple[str, str]:
    """Create or reuse the demo merchant, key, site and policy; returns (site_key, api_key)."""
    await cmd_migrate(url)
    async with connection(url) as conn:
        async with conn.transaction():
            merchant_id = await merchants.find_or_create(conn, DEMO_MERCHANT)
            key = await _demo_key(conn, merchant_id, settings.data_dir / "demo_api_key")
            site = await sites.find_or_create(conn, merchant_id, DEMO_SITE, [host_origin])
        if await policies.current_policy(conn, site["site_id"]) is None:
            await policies.publish_policy(
                conn, site, {"title": "Terms and privacy notice", "body": DEMO_POLICY}
            )
    return site["site_key"], key


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
