"""Per-site CORS and the origin rule for writes: the matrix of origins, methods and types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant
from tests.widget_support import beacon_body, consent_body, post, request_body
from widget_server.keys import DB

REFUSED = [
    None,
    "null",
    "https://shop.example.evil.test",
    "https://evil-shop.example",
    "https://evilshop.example",
    "https://sub.shop.example",
    "http://shop.example",
    "https://shop.example:8443",
    "https://shop.exampl",
    "https://other.example",  # allowed on the other tenant's site, not on this one
    "https://shop.example, https://evil.example",
    "shop.example",
    "",
    "https://SHOP.example",
    "https://shop.example/",
    "https://shop.example:443",
    "https://shop.example.",
    "https://user@shop.example",
]
WRITES = ["consents", "requests", "events"]


def body_for(kind: str, tenant: Tenant) -> dict[str, Any]:
    if kind == "consents":
        return consent_body(tenant)
    if kind == "requests":
        return request_body(tenant)
    return beacon_body()


async def count_rows(db: asyncpg.Connection) -> int:
    total = 0
    for table in ("consent_records", "info_requests", "stats_facts", "stats_visitor_hashes"):
        total += await db.fetchval(f"SELECT count(*) FROM {table}")
    return total


@pytest.mark.parametrize("kind", WRITES)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
@pytest.mark.parametrize("origin", REFUSED)
async def test_writes_from_other_origins_are_403_without_a_grant(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    other_tenant: Tenant,
    kind: str,
    content_type: str,
    origin: str | None,
) -> None:
    r = await post(
        client,
        tenant.site_key,
        kind,
        body_for(kind, tenant),
        origin=origin,
        content_type=content_type,
    )
    assert r.status == 403
    assert r.content_type == "application/problem+json"
    assert "Access-Control-Allow-Origin" not in r.headers
    assert r.headers["Vary"] == "Origin"
    assert await count_rows(db) == 0


@pytest.mark.parametrize("kind", WRITES)
@pytest.mark.parametrize("origin", [HOST_ORIGIN, "https://www.shop.example"])
async def test_writes_from_allowed_origins_get_the_exact_origin_back(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    make_tenant: Any,
    kind: str,
    origin: str,
) -> None:
    tenant = await make_tenant("Two", origins=(HOST_ORIGIN, "https://www.shop.example"))
    r = await post(client, tenant.site_key, kind, body_for(kind, tenant), origin=origin)
    assert r.status in (201, 202), await r.text()
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert r.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert "Retry-After" in r.headers["Access-Control-Expose-Headers"]


async def test_errors_to_allowed_origins_are_readable(
    client: TestClient[Any, Any], tenant: Tenant
) -> None:
    """The widget must be able to read a 409 or 422 to act on it."""
    r = await post(client, tenant.site_key, "consents", consent_body(tenant, policy_version=7))
    assert r.status == 409
    assert r.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
    r = await post(client, tenant.site_key, "consents", "{oops")
    assert r.status == 400
    assert r.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN


@pytest.mark.parametrize("path", ["config", *WRITES])
async def test_preflight_grants_allowed_origin_only(
    client: TestClient[Any, Any], tenant: Tenant, path: str
) -> None:
    url = f"/v1/widget/{tenant.site_key}/{path}"
    asks = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    r = await client.options(url, headers={"Origin": HOST_ORIGIN, **asks})
    assert r.status == 204
    assert r.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
    assert r.headers["Access-Control-Max-Age"] == "7200"
    assert r.headers["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert "Content-Type" in r.headers["Access-Control-Allow-Headers"]
    assert r.headers["Vary"] == "Origin"
    assert "Access-Control-Allow-Credentials" not in r.headers
    for origin in ("https://shop.example.evil.test", "null", "https://evil-shop.example"):
        r = await client.options(url, headers={"Origin": origin, **asks})
        assert "Access-Control-Allow-Origin" not in r.headers
        assert "Access-Control-Allow-Methods" not in r.headers
        assert r.headers["Vary"] == "Origin"
    # Asking for a header or method we do not take: no grant of methods/headers.
    r = await client.options(
        url,
        headers={"Origin": HOST_ORIGIN, "Access-Control-Request-Method": "DELETE"},
    )
    assert "Access-Control-Allow-Methods" not in r.headers
    r = await client.options(
        url,
        headers={**asks, "Origin": HOST_ORIGIN, "Access-Control-Request-Headers": "authorization"},
    )
    assert "Access-Control-Allow-Headers" not in r.headers


async def test_preflight_for_unknown_site_is_404(
    client: TestClient[Any, Any], tenant: Tenant
) -> None:
    r = await client.options(
        "/v1/widget/st_nope/consents",
        headers={"Origin": HOST_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert r.status == 404
    assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("origin", REFUSED)
async def test_config_answers_everyone_but_grants_only_allowed(
    client: TestClient[Any, Any], tenant: Tenant, other_tenant: Tenant, origin: str | None
) -> None:
    headers = {} if origin is None else {"Origin": origin}
    r = await client.get(f"/v1/widget/{tenant.site_key}/config", headers=headers)
    assert r.status == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    # The answer differs by origin (the grant) and by content coding (it is compressed).
    assert r.headers["Vary"] == "Accept-Encoding, Origin"
    r = await client.get(f"/v1/widget/{tenant.site_key}/config", headers={"Origin": HOST_ORIGIN})
    assert r.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN


async def test_a_site_key_reaches_only_its_own_site(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant
) -> None:
    """B's origin writing with A's key is refused; B's writes land on B only."""
    r = await post(
        client,
        tenant.site_key,
        "consents",
        consent_body(tenant, page_url="https://other.example/"),
        origin="https://other.example",
    )
    assert r.status == 403
    r = await post(
        client,
        other_tenant.site_key,
        "consents",
        consent_body(other_tenant, page_url="https://other.example/"),
        origin="https://other.example",
    )
    assert r.status == 201
    site_ids = [row["site_id"] for row in await db.fetch("SELECT site_id FROM consent_records")]
    assert site_ids == [other_tenant.site_id]


async def test_a_503_to_an_allowed_origin_is_readable(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    tenant: Tenant,
) -> None:
    """With the database out of reach the widget must still see the 503 and its Retry-After."""
    app = make_app(db_pool_size=1, db_acquire_timeout=0.2)
    client = await aiohttp_client(app)
    r = await client.get(f"/v1/widget/{tenant.site_key}/config")  # the site is now cached
    assert r.status == 200
    async with app[DB].connection():  # the pool's only connection is taken
        r = await post(client, tenant.site_key, "consents", consent_body(tenant))
    assert r.status == 503
    assert r.content_type == "application/problem+json"
    assert r.headers["Retry-After"]
    assert r.headers["Access-Control-Allow-Origin"] == HOST_ORIGIN
    assert r.headers["Access-Control-Expose-Headers"] == "Retry-After"
    assert r.headers["Vary"] == "Origin"
    async with app[DB].connection():
        r = await post(client, tenant.site_key, "consents", consent_body(tenant), origin=None)
    assert r.status == 403  # the origin rule comes first and needs no database
