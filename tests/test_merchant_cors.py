"""CORS on the merchant API: off by default; for configured origins only, with Authorization allowed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from widget_server.settings import Settings

Client = TestClient[Any, Any]
ADMIN = "https://admin.example"
PREFLIGHT = {
    "Origin": ADMIN,
    "Access-Control-Request-Method": "PATCH",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_off_by_default(client: Client, tenant: Tenant) -> None:
    r = await client.options(f"/v1/sites/{tenant.site_key}", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in r.headers
    r = await client.get("/v1/sites", headers={**tenant.auth, "Origin": ADMIN})
    assert r.status == 200
    assert "Access-Control-Allow-Origin" not in r.headers


async def test_configured_origins_get_a_grant(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
    tenant: Tenant,
) -> None:
    client = await aiohttp_client(make_app(merchant_cors_origins=(ADMIN,)))
    r = await client.options(f"/v1/sites/{tenant.site_key}", headers=PREFLIGHT)
    assert r.status == 200, await r.text()
    assert r.headers["Access-Control-Allow-Origin"] == ADMIN
    allowed = {h.strip().lower() for h in r.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type"} <= allowed
    assert "PATCH" in r.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in r.headers
    r = await client.get("/v1/sites", headers={**tenant.auth, "Origin": ADMIN})
    assert r.status == 200
    assert r.headers["Access-Control-Allow-Origin"] == ADMIN
    assert "Origin" in r.headers["Vary"]
    assert "X-Request-Id" in r.headers["Access-Control-Expose-Headers"]
    # Errors carry the grant too, so the admin page can read them.
    r = await client.get("/v1/sites", headers={"Origin": ADMIN})
    assert r.status == 401
    assert r.headers["Access-Control-Allow-Origin"] == ADMIN
    # Any other origin gets nothing.
    r = await client.options(
        f"/v1/sites/{tenant.site_key}", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert "Access-Control-Allow-Origin" not in r.headers
    r = await client.get(
        "/v1/sites", headers={**tenant.auth, "Origin": "https://admin.example.evil.test"}
    )
    assert "Access-Control-Allow-Origin" not in r.headers
    # The widget API keeps its own per-site rules.
    r = await client.get(f"/v1/widget/{tenant.site_key}/config", headers={"Origin": ADMIN})
    assert "Access-Control-Allow-Origin" not in r.headers


async def test_a_configured_default_port_matches_what_browsers_send(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
    tenant: Tenant,
) -> None:
    # A browser never sends the default port; the setting is read through the same normaliser.
    configured = Settings.from_env(
        {
            "WIDGET_SECRET_KEY": "s" * 40,
            "WIDGET_MERCHANT_CORS_ORIGINS": "HTTPS://Admin.Example:443/",
        }
    ).merchant_cors_origins
    assert configured == (ADMIN,)
    client = await aiohttp_client(make_app(merchant_cors_origins=configured))
    r = await client.options(f"/v1/sites/{tenant.site_key}", headers=PREFLIGHT)
    assert r.status == 200, await r.text()
    assert r.headers["Access-Control-Allow-Origin"] == ADMIN
