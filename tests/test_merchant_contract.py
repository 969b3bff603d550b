"""Black-box checks of the merchant API against the public contract (section 3 and 4)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant
from tests.merchant_support import bearer, insert_request, insert_requests, read_only_key, snapshot
from tests.widget_support import consent_body, request_body
from widget_server.web.merchant import ROUTES as OPERATIONS

Client = TestClient[Any, Any]
SITE_SCOPED = [op for op in OPERATIONS if "{site_key}" in op.path]
# Writes that name something (a POST to a collection names nothing of anyone's).
NAMING_WRITES = [op for op in OPERATIONS if op.access == "key" and op.writes and "{" in op.path]


def op_id(op: Any) -> str:
    return f"{op.method} {op.path}"


async def through_the_widget(client: Client, tenant: Tenant) -> tuple[str, str]:
    """A consent and an info request sent as a browser would; their ids."""
    r = await client.post(
        f"/v1/widget/{tenant.site_key}/consents",
        json=consent_body(tenant),
        headers={"Origin": HOST_ORIGIN},
    )
    assert r.status == 201, await r.text()
    consent = (await r.json())["id"]
    r = await client.post(
        f"/v1/widget/{tenant.site_key}/requests",
        json=request_body(tenant),
        headers={"Origin": HOST_ORIGIN},
    )
    assert r.status == 201, await r.text()
    return consent, (await r.json())["id"]


# -- another merchant's anything is 404, never 403: also for a read-only key that tries to write


@pytest.mark.parametrize("op", NAMING_WRITES, ids=op_id)
async def test_a_read_key_writing_to_another_merchants_things_gets_404(
    client: Client,
    db: asyncpg.Connection,
    tenant: Tenant,
    other_tenant: Tenant,
    op: Any,
) -> None:
    request_id = await insert_request(db, tenant, email="secret-a@example.com")
    a_key = await db.fetchval(
        "SELECT key_id FROM api_keys WHERE merchant_id = $1", tenant.merchant_id
    )
    b_read = await read_only_key(db, other_tenant)
    before = await snapshot(db)
    path = op.path.format(site_key=tenant.site_key, request_id=request_id, key_id=a_key)
    r = await client.request(op.method, path, headers=bearer(b_read), json={"status": "done"})
    assert r.status == 404, await r.text()
    assert (await r.json())["type"].endswith("/not-found")
    # B's own site, A's request: still A's, still 404.
    if "{request_id}" in op.path:
        own = op.path.format(site_key=other_tenant.site_key, request_id=request_id)
        r = await client.request(op.method, own, headers=bearer(b_read), json={"status": "done"})
        assert r.status == 404, await r.text()
    assert await snapshot(db) == before


async def test_a_read_key_on_its_own_things_still_gets_403(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    key = await read_only_key(db, tenant)
    r = await client.delete(f"/v1/sites/{tenant.site_key}", headers=bearer(key))
    assert r.status == 403


# -- hostile path segments are a 404, not a 500


@pytest.mark.parametrize("op", SITE_SCOPED, ids=op_id)
@pytest.mark.parametrize("site_key", ["%00", "st_%00x", "%ED%A0%80"])
async def test_site_keys_postgres_cannot_hold_are_404(
    client: Client, tenant: Tenant, op: Any, site_key: str
) -> None:
    path = op.path.replace("{site_key}", site_key).format(
        request_id="01a2122e-55cf-7908-836d-e4f73a97db9c"
    )
    r = await client.request(op.method, path, headers=tenant.auth, json={"status": "done"})
    assert r.status == 404, await r.text()
    assert r.headers["Content-Type"].startswith("application/problem+json")


# -- HEAD answers like GET, without a body


async def test_head_works_wherever_get_does(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    request_id = await insert_request(db, tenant)
    for op in OPERATIONS:
        if op.method != "GET":
            continue
        path = op.path.format(site_key=tenant.site_key, request_id=request_id)
        r = await client.head(path, headers=tenant.auth)
        assert r.status == 200, (path, r.status)
        assert await r.read() == b""
        if op.access == "key":
            assert (await client.head(path)).status == 401


# -- what the widget was sent from: page_url, as the contract names it (origin and path)


async def test_items_carry_the_page_url_kept_as_origin_and_path(
    client: Client, tenant: Tenant
) -> None:
    consent_id, request_id = await through_the_widget(client, tenant)
    page_url = f"{HOST_ORIGIN}/pricing"  # the query string and fragment sent were dropped
    site = f"/v1/sites/{tenant.site_key}"
    consents = await (await client.get(f"{site}/consents", headers=tenant.auth)).json()
    mine = [c for c in consents["data"] if c["id"] == consent_id]
    assert [c["page_url"] for c in mine] == [page_url]
    assert all(c["page_url"] == page_url for c in consents["data"])
    item = await (await client.get(f"{site}/requests/{request_id}", headers=tenant.auth)).json()
    assert item["page_url"] == page_url
    for what in ("requests", "consents"):
        r = await client.get(f"{site}/{what}/export", params={"format": "csv"}, headers=tenant.auth)
        rows = list(csv.DictReader(io.StringIO(await r.text())))
        assert {row["page_url"] for row in rows} == {page_url}
        r = await client.get(
            f"{site}/{what}/export", params={"format": "ndjson"}, headers=tenant.auth
        )
        lines = [json.loads(line) for line in (await r.text()).splitlines()]
        assert {line["page_url"] for line in lines} == {page_url}


# -- since/until: an offset's `+` left unencoded in a hand-written URL arrives as a space


async def test_an_unencoded_plus_in_an_offset_is_read_as_plus(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    await insert_requests(db, tenant, 3)  # 2024-05-01T12:00:00Z, :01, :02
    path = f"/v1/sites/{tenant.site_key}/requests"
    r = await client.get(path + "?since=2024-05-01T14:00:01+02:00", headers=tenant.auth)
    assert r.status == 200, await r.text()
    assert len((await r.json())["data"]) == 2
    r = await client.get(path + "?until=2024-05-01T14:00:01.000+02:00", headers=tenant.auth)
    assert len((await r.json())["data"]) == 2


# -- a POST with no body at all is an empty object (a key with the defaults)


async def test_a_post_without_any_body_takes_the_defaults(client: Client, tenant: Tenant) -> None:
    r = await client.post("/v1/api-keys", headers=tenant.auth)
    assert r.status == 201, await r.text()
    assert (await r.json())["scopes"] == ["read", "write"]
    r = await client.post("/v1/sites", headers=tenant.auth)
    assert r.status == 422
    assert set((await r.json())["errors"]) == {"name"}


# -- policies: the sha256 is verifiable from what the document says


async def test_policy_sha256_is_documented_and_verifiable(client: Client, tenant: Tenant) -> None:
    doc = await (await client.get("/openapi.json")).json()
    described = doc["components"]["schemas"]["Policy"]["properties"]["sha256"]["description"]
    assert "UTF-8" in described
    assert "hex" in described
    publish = doc["paths"]["/v1/sites/{site_key}/policies"]["post"]["description"]
    assert "sha256" in publish
    title, body = "Terms é\r\n", "Line one\r\n\n  Line two  \n"
    r = await client.post(
        f"/v1/sites/{tenant.site_key}/policies",
        json={"title": title, "body": body, "language": "en"},
        headers=tenant.auth,
    )
    assert r.status == 201
    policy = await r.json()
    assert policy["version"] == tenant.policy_version + 1
    assert policy["sha256"] == hashlib.sha256((title + "\n" + body).encode("utf-8")).hexdigest()
    config = await (await client.get(f"/v1/widget/{tenant.site_key}/config")).json()
    assert config["policy"]["sha256"] == policy["sha256"]


# -- lists: default page size


async def test_lists_default_to_50(client: Client, tenant: Tenant, db: asyncpg.Connection) -> None:
    await insert_requests(db, tenant, 51)
    page = await (
        await client.get(f"/v1/sites/{tenant.site_key}/requests", headers=tenant.auth)
    ).json()
    assert len(page["data"]) == 50
    assert page["next_cursor"] is not None
    rest = await (
        await client.get(
            f"/v1/sites/{tenant.site_key}/requests",
            params={"cursor": page["next_cursor"], "limit": "500"},
            headers=tenant.auth,
        )
    ).json()
    assert len(rest["data"]) == 1
    assert rest["next_cursor"] is None


# -- exports carry the request id like every other answer


async def test_exports_carry_the_request_id(client: Client, tenant: Tenant) -> None:
    for what in ("requests", "consents"):
        r = await client.get(
            f"/v1/sites/{tenant.site_key}/{what}/export",
            headers={**tenant.auth, "X-Request-Id": "trace-12345678"},
        )
        assert r.status == 200
        assert r.headers["X-Request-Id"] == "trace-12345678"


# -- `/requests/export` is no request id: a 405 there advertises only what it supports


async def test_export_paths_are_not_taken_for_request_ids(client: Client, tenant: Tenant) -> None:
    for what in ("requests", "consents"):
        r = await client.delete(f"/v1/sites/{tenant.site_key}/{what}/export", headers=tenant.auth)
        assert r.status == 405
        assert set(r.headers["Allow"].split(",")) == {"GET", "HEAD"}
        assert r.headers["Content-Type"].startswith("application/problem+json")


# -- what the document promises about texts, the validation keeps (and the other way round)


async def test_localized_texts_keep_to_the_documented_language_tags(
    client: Client, tenant: Tenant
) -> None:
    long_tag = "aa-" + "-".join(["00000000"] * 4)  # well-formed, but over BCP 47's 35 characters
    purposes = [{"key": "video", "label": {"en": "Video", long_tag: "Video"}}]
    r = await client.post(
        "/v1/sites",
        json={"name": "S", "allowed_origins": ["https://s.example"], "purposes": purposes},
        headers=tenant.auth,
    )
    assert r.status == 422, await r.text()
    assert "purposes.0.label" in (await r.json())["errors"]
    doc = await (await client.get("/openapi.json")).json()
    texts = doc["components"]["schemas"]["SiteInput"]["properties"]["texts"]
    assert texts["maxProperties"] == 50
    assert "maxLength" not in texts
    assert "notice_title" in texts["additionalProperties"]["propertyNames"]["enum"]
