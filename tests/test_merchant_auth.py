"""Keys on every merchant endpoint: missing, malformed, unknown, revoked and read-only keys."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.merchant_support import bearer, consent_record, insert_request, read_only_key, snapshot
from widget_server.domain import apikeys
from widget_server.web.merchant import ROUTES as OPERATIONS

Client = TestClient[Any, Any]
KEYED = [op for op in OPERATIONS if op.access == "key"]
WRITES = [op for op in KEYED if op.writes]


def op_id(op: Any) -> str:
    return f"{op.method} {op.path}"


async def concrete(db: asyncpg.Connection, tenant: Tenant, path: str) -> str:
    """The path with the tenant's own site, key and request filled in."""
    key_id = await db.fetchval(
        "SELECT key_id FROM api_keys WHERE merchant_id = $1 LIMIT 1", tenant.merchant_id
    )
    request_id = await db.fetchval(
        "SELECT request_id FROM info_requests WHERE site_id = $1 LIMIT 1", tenant.site_id
    )
    return path.format(site_key=tenant.site_key, key_id=key_id, request_id=request_id)


@pytest.fixture
async def seeded(db: asyncpg.Connection, tenant: Tenant) -> Tenant:
    await insert_request(db, tenant)
    await consent_record(db, tenant)
    return tenant


MALFORMED = [
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Token wsk_" + "a" * 43},
    {"Authorization": "Bearer not-a-key"},
    {"Authorization": "Bearer wsk_short"},
    {"Authorization": "Bearer wsk_" + "é" * 43},
    {"Authorization": "Bearer wsk_" + "a" * 100},
]


@pytest.mark.parametrize("op", KEYED, ids=op_id)
async def test_missing_malformed_unknown_keys_are_401(
    client: Client, db: asyncpg.Connection, seeded: Tenant, op: Any
) -> None:
    path = await concrete(db, seeded, op.path)
    before = await snapshot(db)
    unknown = {"Authorization": "Bearer wsk_" + secrets.token_urlsafe(32)}
    # Same lookup prefix as the real key, different secret: found by prefix, refused by the digest.
    wrong = {
        "Authorization": "Bearer "
        + seeded.key[:16]
        + secrets.token_urlsafe(32)[: len(seeded.key) - 16]
    }
    for headers in [{}, *MALFORMED, unknown, wrong]:
        r = await client.request(op.method, path, headers=headers, json={})
        assert r.status == 401, (headers, await r.text())
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
        body = await r.json()
        assert body["status"] == 401
        assert body["type"].endswith("/unauthorized")
    assert await snapshot(db) == before


@pytest.mark.parametrize("op", WRITES, ids=op_id)
async def test_read_only_key_cannot_write(
    client: Client, db: asyncpg.Connection, seeded: Tenant, op: Any
) -> None:
    key = await read_only_key(db, seeded)
    path = await concrete(db, seeded, op.path)
    before = await snapshot(db)
    r = await client.request(op.method, path, headers=bearer(key), json={"status": "done"})
    assert r.status == 403, await r.text()
    assert (await r.json())["type"].endswith("/forbidden")
    assert await snapshot(db) == before


@pytest.mark.parametrize("op", [op for op in KEYED if not op.writes], ids=op_id)
async def test_read_only_key_can_read(
    client: Client, db: asyncpg.Connection, seeded: Tenant, op: Any
) -> None:
    key = await read_only_key(db, seeded)
    r = await client.request(op.method, await concrete(db, seeded, op.path), headers=bearer(key))
    assert r.status == 200, await r.text()


@pytest.mark.parametrize("op", KEYED, ids=op_id)
async def test_revoked_key_is_401_on_the_next_request(
    client: Client, db: asyncpg.Connection, seeded: Tenant, op: Any
) -> None:
    r = await client.post("/v1/api-keys", json={"name": "temp"}, headers=seeded.auth)
    created = await r.json()
    assert (await client.get("/v1/sites", headers=bearer(created["secret"]))).status == 200
    r = await client.delete(f"/v1/api-keys/{created['id']}", headers=seeded.auth)
    assert r.status == 204
    path = await concrete(db, seeded, op.path)
    r = await client.request(op.method, path, headers=bearer(created["secret"]), json={})
    assert r.status == 401
    assert (await r.json())["detail"] == "This API key has been revoked."


async def test_public_documents_need_no_key(client: Client) -> None:
    for path in ("/openapi.json", "/docs"):
        assert (await client.get(path)).status == 200


async def test_last_used_at_is_written_at_most_once_a_minute(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    lookup = apikeys.lookup_of(tenant.key)
    assert await db.fetchval("SELECT last_used_at FROM api_keys WHERE lookup = $1", lookup) is None
    assert (await client.get("/v1/sites", headers=tenant.auth)).status == 200
    first = await db.fetchval("SELECT last_used_at FROM api_keys WHERE lookup = $1", lookup)
    assert first is not None
    assert (await client.get("/v1/sites", headers=tenant.auth)).status == 200
    assert await db.fetchval("SELECT last_used_at FROM api_keys WHERE lookup = $1", lookup) == first
    old = first - dt.timedelta(minutes=2)
    await db.execute("UPDATE api_keys SET last_used_at = $2 WHERE lookup = $1", lookup, old)
    assert (await client.get("/v1/sites", headers=tenant.auth)).status == 200
    assert await db.fetchval("SELECT last_used_at FROM api_keys WHERE lookup = $1", lookup) > old


async def test_a_key_can_revoke_itself(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    key_id = await db.fetchval(
        "SELECT key_id FROM api_keys WHERE merchant_id = $1", tenant.merchant_id
    )
    assert (await client.delete(f"/v1/api-keys/{key_id}", headers=tenant.auth)).status == 204
    assert (await client.get("/v1/sites", headers=tenant.auth)).status == 401


async def test_scheme_is_case_insensitive(client: Client, tenant: Tenant) -> None:
    r = await client.get("/v1/sites", headers={"Authorization": f"bearer {tenant.key}"})
    assert r.status == 200
