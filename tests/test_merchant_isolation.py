"""Tenant isolation: merchant B's key on every endpoint against merchant A's things is 404 and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.merchant_support import consent_record, insert_request, snapshot
from widget_server.web.merchant import ROUTES as OPERATIONS

Client = TestClient[Any, Any]
BODIES: dict[tuple[str, str], Any] = {
    ("PATCH", "/v1/sites/{site_key}"): {
        "name": "Taken over",
        "allowed_origins": ["https://evil.example"],
    },
    ("POST", "/v1/sites/{site_key}/policies"): {
        "title": "Evil",
        "body": "Mine now",
        "language": "en",
    },
    ("PATCH", "/v1/sites/{site_key}/requests/{request_id}"): {"status": "spam"},
}
SCOPED = [op for op in OPERATIONS if op.access == "key" and "{" in op.path]


@pytest.fixture
async def world(db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant) -> dict[str, Any]:
    """A has a request and a consent; B has its own; returns A's ids."""
    a_request = await insert_request(db, tenant, email="secret-a@example.com")
    a_consent = await consent_record(db, tenant, visitor_id="visitor_of_a")
    await insert_request(db, other_tenant, email="b@example.com")
    await consent_record(db, other_tenant, visitor_id="visitor_of_b")
    a_key = await db.fetchval(
        "SELECT key_id FROM api_keys WHERE merchant_id = $1", tenant.merchant_id
    )
    return {"request_id": a_request, "record_id": a_consent["record_id"], "key_id": a_key}


@pytest.mark.parametrize("op", SCOPED, ids=lambda op: f"{op.method} {op.path}")
async def test_every_scoped_endpoint_is_404_across_merchants(
    client: Client,
    db: asyncpg.Connection,
    tenant: Tenant,
    other_tenant: Tenant,
    world: dict[str, Any],
    op: Any,
) -> None:
    before = await snapshot(db)
    body = BODIES.get((op.method, op.path))
    # A's site with A's ids, and B's own site with A's ids.
    for site_key in (tenant.site_key, other_tenant.site_key):
        path = op.path.format(
            site_key=site_key, request_id=world["request_id"], key_id=world["key_id"]
        )
        if (
            site_key == other_tenant.site_key
            and "{request_id}" not in op.path
            and "{key_id}" not in op.path
        ):
            continue  # B's own site without a foreign id is B's business
        r = await client.request(op.method, path, json=body, headers=other_tenant.auth)
        assert r.status == 404, (path, await r.text())
        text = await r.text()
        assert "secret-a" not in text
        assert str(tenant.site_id) not in text
    assert await snapshot(db) == before


async def test_foreign_and_missing_sites_look_the_same(
    client: Client, tenant: Tenant, other_tenant: Tenant
) -> None:
    foreign = await client.get(f"/v1/sites/{tenant.site_key}/requests", headers=other_tenant.auth)
    missing = await client.get(
        "/v1/sites/st_00000000000000000000/requests", headers=other_tenant.auth
    )
    assert foreign.status == missing.status == 404
    assert await foreign.json() == await missing.json()


async def test_lists_and_exports_show_only_your_own(
    client: Client, tenant: Tenant, other_tenant: Tenant, world: dict[str, Any]
) -> None:
    sites = await (await client.get("/v1/sites", headers=other_tenant.auth)).json()
    assert [s["site_key"] for s in sites["data"]] == [other_tenant.site_key]
    keys = await (await client.get("/v1/api-keys", headers=other_tenant.auth)).json()
    assert str(world["key_id"]) not in [k["id"] for k in keys["data"]]
    assert len(keys["data"]) == 1
    for what in ("requests", "consents", "requests/export", "consents/export", "policies"):
        r = await client.get(f"/v1/sites/{other_tenant.site_key}/{what}", headers=other_tenant.auth)
        text = await r.text()
        assert r.status == 200
        assert "secret-a" not in text
        assert "visitor_of_a" not in text
        assert str(world["request_id"]) not in text
        assert str(world["record_id"]) not in text


async def test_a_cursor_of_one_merchant_is_useless_to_another(
    client: Client, db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant
) -> None:
    await client.post(
        "/v1/sites",
        json={"name": "A2", "allowed_origins": ["https://a2.example"]},
        headers=tenant.auth,
    )
    page = await (await client.get("/v1/sites?limit=1", headers=tenant.auth)).json()
    r = await client.get(
        "/v1/sites", params={"cursor": page["next_cursor"]}, headers=other_tenant.auth
    )
    assert r.status == 422


async def test_new_sites_and_keys_belong_to_the_caller(
    client: Client, db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant
) -> None:
    r = await client.post(
        "/v1/sites",
        json={"name": "B2", "allowed_origins": ["https://b2.example"]},
        headers=other_tenant.auth,
    )
    site = await r.json()
    owner = await db.fetchval("SELECT merchant_id FROM sites WHERE site_key = $1", site["site_key"])
    assert owner == other_tenant.merchant_id
    r = await client.post("/v1/api-keys", json={}, headers=other_tenant.auth)
    key_id = uuid.UUID((await r.json())["id"])
    assert (
        await db.fetchval("SELECT merchant_id FROM api_keys WHERE key_id = $1", key_id)
        == other_tenant.merchant_id
    )
    assert (await client.get(f"/v1/sites/{site['site_key']}", headers=tenant.auth)).status == 404
