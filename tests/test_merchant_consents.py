"""The consent log through the merchant API: every proof field, receipts checked again, filters, pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant
from tests.merchant_support import T0, consent_record, ids
from tests.widget_support import consent_body

Client = TestClient[Any, Any]
PROOF_FIELDS = {
    "id",
    "event_id",
    "visitor_id",
    "action",
    "surface",
    "purposes",
    "policy_version",
    "policy_sha256",
    "language",
    "page_origin",
    "page_path",
    "page_url",
    "gpc",
    "user_agent",
    "widget_version",
    "request_id",
    "created_at",
    "valid_until",
    "receipt",
    "verified",
}


async def listed(client: Client, tenant: Tenant, **params: str) -> dict[str, Any]:
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/consents", params=params, headers=tenant.auth
    )
    assert r.status == 200, await r.text()
    data: dict[str, Any] = await r.json()
    return data


async def test_a_decision_from_the_widget_shows_its_proof(client: Client, tenant: Tenant) -> None:
    body = consent_body(tenant, action="custom", purposes={"analytics": True, "marketing": False})
    r = await client.post(
        f"/v1/widget/{tenant.site_key}/consents",
        json=body,
        headers={"Origin": HOST_ORIGIN, "Sec-GPC": "1", "User-Agent": "TestBrowser/1.0"},
    )
    assert r.status == 201, await r.text()
    sent = await r.json()
    (item,) = (await listed(client, tenant))["data"]
    assert set(item) == PROOF_FIELDS
    assert item["id"] == sent["id"]
    assert item["receipt"] == sent["receipt"]
    assert item["created_at"] == sent["created_at"]
    assert item["verified"] is True
    assert item["action"] == "custom"
    assert item["gpc"] is True
    assert item["purposes"] == {"necessary": True, "analytics": True, "marketing": False}
    assert item["event_id"] == body["event_id"]
    assert item["visitor_id"] == body["visitor_id"]
    assert item["policy_version"] == tenant.policy_version
    assert len(item["policy_sha256"]) == 64
    assert (item["page_origin"], item["page_path"]) == (HOST_ORIGIN, "/pricing")
    assert item["user_agent"] == "TestBrowser/1.0"
    assert item["valid_until"] > item["created_at"]
    assert item["valid_until"].endswith("Z")


async def test_a_forged_receipt_shows_unverified(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    good = await consent_record(db, tenant, created_at=T0)
    bad = await consent_record(
        db, tenant, created_at=T0 + dt.timedelta(seconds=1), receipt="v1.forged"
    )
    items = {i["id"]: i for i in (await listed(client, tenant))["data"]}
    assert items[str(good["record_id"])]["verified"] is True
    assert items[str(bad["record_id"])]["verified"] is False


async def test_filters(client: Client, tenant: Tenant, db: asyncpg.Connection) -> None:
    day = dt.timedelta(days=1)
    a = await consent_record(
        db, tenant, visitor_id="visitor_aaaa", action="accept_all", created_at=T0
    )
    b = await consent_record(
        db, tenant, visitor_id="visitor_bbbb", action="reject_all", created_at=T0 + day
    )
    r = await client.post(
        f"/v1/sites/{tenant.site_key}/policies",
        json={"title": "T2", "body": "B2", "language": "en"},
        headers=tenant.auth,
    )
    assert r.status == 201
    c = await consent_record(
        db, tenant, visitor_id="visitor_aaaa", action="withdraw", created_at=T0 + 2 * day
    )
    a_id, b_id, c_id = (str(x["record_id"]) for x in (a, b, c))
    assert ids((await listed(client, tenant))["data"]) == [c_id, b_id, a_id]
    assert ids((await listed(client, tenant, visitor_id="visitor_aaaa"))["data"]) == [c_id, a_id]
    assert ids((await listed(client, tenant, action="reject_all"))["data"]) == [b_id]
    assert ids((await listed(client, tenant, policy_version="2"))["data"]) == [c_id]
    assert ids((await listed(client, tenant, since="2024-05-02", until="2024-05-02"))["data"]) == [
        b_id
    ]
    for bad in (
        {"action": "maybe"},
        {"policy_version": "x"},
        {"policy_version": "0"},
        {"until": "soon"},
    ):
        r = await client.get(
            f"/v1/sites/{tenant.site_key}/consents", params=bad, headers=tenant.auth
        )
        assert r.status == 422


async def test_dates_are_days_in_the_site_time_zone(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    r = await client.patch(
        f"/v1/sites/{tenant.site_key}", json={"time_zone": "America/New_York"}, headers=tenant.auth
    )
    assert r.status == 200
    # 02:00 UTC on 2 May is still 1 May in New York.
    late = await consent_record(db, tenant, created_at=dt.datetime(2024, 5, 2, 2, 0, tzinfo=dt.UTC))
    assert ids((await listed(client, tenant, since="2024-05-01", until="2024-05-01"))["data"]) == [
        str(late["record_id"])
    ]
    assert (await listed(client, tenant, since="2024-05-02"))["data"] == []


async def test_pages_stay_stable_while_records_arrive(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    made = [
        await consent_record(db, tenant, created_at=T0 + dt.timedelta(seconds=i)) for i in range(12)
    ]
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await listed(client, tenant, limit="5", **({"cursor": cursor} if cursor else {}))
        seen += ids(page["data"])
        await consent_record(db, tenant)  # a new decision between pages
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [str(m["record_id"]) for m in reversed(made)]
