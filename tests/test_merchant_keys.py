"""API keys and policies through the merchant API: secrets shown once, scopes, versions and hashes."""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.merchant_support import bearer

Client = TestClient[Any, Any]


async def test_create_shows_the_secret_once(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    r = await client.post(
        "/v1/api-keys", json={"name": "CRM sync", "scopes": ["read"]}, headers=tenant.auth
    )
    assert r.status == 201, await r.text()
    key = await r.json()
    assert key["secret"].startswith("wsk_")
    assert len(key["secret"]) >= 47
    assert key["secret"].startswith(key["prefix"])
    assert key["scopes"] == ["read"]
    assert key["name"] == "CRM sync"
    assert key["last_used_at"] is None
    assert key["revoked_at"] is None
    stored = await db.fetchrow("SELECT secret_sha256 FROM api_keys WHERE key_id = $1", key["id"])
    assert stored is not None
    assert stored["secret_sha256"] == hashlib.sha256(key["secret"].encode()).digest()
    r = await client.get("/v1/api-keys", headers=tenant.auth)
    listed = (await r.json())["data"]
    assert next(k["id"] for k in listed) == key["id"]
    assert all("secret" not in k for k in listed)
    assert key["secret"] not in await r.text()
    assert (await client.get("/v1/sites", headers=bearer(key["secret"]))).status == 200


async def test_defaults_and_write_implies_read(client: Client, tenant: Tenant) -> None:
    r = await client.post("/v1/api-keys", json={}, headers=tenant.auth)
    assert (await r.json())["scopes"] == ["read", "write"]
    r = await client.post("/v1/api-keys", json={"scopes": ["write"]}, headers=tenant.auth)
    assert (await r.json())["scopes"] == ["read", "write"]


@pytest.mark.parametrize(
    "body",
    [
        {"scopes": []},
        {"scopes": ["admin"]},
        {"scopes": "read"},
        {"name": 1},
        {"name": "x" * 201},
        {"secret": "wsk_x"},
    ],
)
async def test_bad_key_requests_are_422(
    client: Client, tenant: Tenant, body: dict[str, Any]
) -> None:
    r = await client.post("/v1/api-keys", json=body, headers=tenant.auth)
    assert r.status == 422


async def test_revoke_is_idempotent_and_listed(client: Client, tenant: Tenant) -> None:
    key = await (await client.post("/v1/api-keys", json={"name": "x"}, headers=tenant.auth)).json()
    for _ in range(2):
        assert (await client.delete(f"/v1/api-keys/{key['id']}", headers=tenant.auth)).status == 204
    listed = (await (await client.get("/v1/api-keys", headers=tenant.auth)).json())["data"]
    revoked = next(k for k in listed if k["id"] == key["id"])
    assert revoked["revoked_at"].endswith("Z")
    for bad in ("00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert (await client.delete(f"/v1/api-keys/{bad}", headers=tenant.auth)).status == 404


async def test_key_list_pages(client: Client, tenant: Tenant) -> None:
    made = [
        (
            await (
                await client.post("/v1/api-keys", json={"name": str(i)}, headers=tenant.auth)
            ).json()
        )["id"]
        for i in range(4)
    ]
    r = await client.get("/v1/api-keys", params={"limit": "3"}, headers=tenant.auth)
    first = await r.json()
    r = await client.get(
        "/v1/api-keys", params={"limit": "3", "cursor": first["next_cursor"]}, headers=tenant.auth
    )
    second = await r.json()
    assert second["next_cursor"] is None
    assert [k["id"] for k in first["data"] + second["data"]][:4] == list(reversed(made))
    assert len(first["data"]) + len(second["data"]) == 5


POLICY = {
    "title": "Terms and privacy",
    "body": "We keep what you send.\n\n**Nothing else.**",
    "language": "en",
}


async def test_publish_and_list_policies(client: Client, tenant: Tenant) -> None:
    path = f"/v1/sites/{tenant.site_key}/policies"
    r = await client.post(path, json={**POLICY, "language": "DE-ch"}, headers=tenant.auth)
    assert r.status == 201, await r.text()
    policy = await r.json()
    assert policy["version"] == 2
    assert policy["language"] == "de-CH"
    assert (
        policy["sha256"]
        == hashlib.sha256(f"{POLICY['title']}\n{POLICY['body']}".encode()).hexdigest()
    )
    assert policy["published_at"].endswith("Z")
    assert policy["url"] == f"http://widgets.test/policy/{tenant.site_key}/2"
    assert (policy["title"], policy["body"]) == (POLICY["title"], POLICY["body"])
    r = await client.get(path, params={"limit": "1"}, headers=tenant.auth)
    page = await r.json()
    assert [p["version"] for p in page["data"]] == [2]
    r = await client.get(path, params={"cursor": page["next_cursor"]}, headers=tenant.auth)
    rest = await r.json()
    assert [p["version"] for p in rest["data"]] == [1]
    assert rest["next_cursor"] is None
    site = await (await client.get(f"/v1/sites/{tenant.site_key}", headers=tenant.auth)).json()
    assert site["policy_version"] == 2
    config = await (await client.get(f"/v1/widget/{tenant.site_key}/config")).json()
    assert config["policy"]["version"] == 2


@pytest.mark.parametrize(
    "body",
    [
        {**POLICY, "title": ""},
        {**POLICY, "body": ""},
        {**POLICY, "language": "not a language"},
        {"title": "x"},
        {**POLICY, "version": 7},
        {**POLICY, "body": 5},
    ],
)
async def test_bad_policies_are_422(client: Client, tenant: Tenant, body: dict[str, Any]) -> None:
    r = await client.post(f"/v1/sites/{tenant.site_key}/policies", json=body, headers=tenant.auth)
    assert r.status == 422


async def test_policy_cursor_of_another_site_is_422(client: Client, tenant: Tenant) -> None:
    await client.post(f"/v1/sites/{tenant.site_key}/policies", json=POLICY, headers=tenant.auth)
    page = await (
        await client.get(f"/v1/sites/{tenant.site_key}/policies?limit=1", headers=tenant.auth)
    ).json()
    other = await (
        await client.post(
            "/v1/sites",
            json={"name": "B", "allowed_origins": ["https://b.example"]},
            headers=tenant.auth,
        )
    ).json()
    r = await client.get(
        f"/v1/sites/{other['site_key']}/policies",
        params={"cursor": page["next_cursor"]},
        headers=tenant.auth,
    )
    assert r.status == 422
    assert "cursor" in (await r.json())["errors"]


async def test_policy_language_defaults_to_the_site_locale(
    client: Client, make_tenant: Any
) -> None:
    t = await make_tenant("Lang", default_locale="de", policy=False)
    r = await client.post(
        f"/v1/sites/{t.site_key}/policies", json={"title": "AGB", "body": "Text"}, headers=t.auth
    )
    assert r.status == 201, await r.text()
    assert (await r.json())["language"] == "de"
    assert (await r.json())["version"] == 1
