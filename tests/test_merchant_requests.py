"""Info requests through the merchant API: filters, keyset pages under concurrent inserts, status, delete."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant
from tests.merchant_support import T0, ids, insert_request, insert_requests
from tests.widget_support import request_body

Client = TestClient[Any, Any]


def path(tenant: Tenant, rest: str = "") -> str:
    return f"/v1/sites/{tenant.site_key}/requests{rest}"


async def listed(client: Client, tenant: Tenant, **params: str) -> dict[str, Any]:
    r = await client.get(path(tenant), params=params, headers=tenant.auth)
    assert r.status == 200, await r.text()
    data: dict[str, Any] = await r.json()
    return data


async def test_a_request_sent_through_the_widget_reads_back(client: Client, tenant: Tenant) -> None:
    hostile = '=cmd|"/c calc"!A1 <img src=x onerror=alert(1)> \u202e'
    body = request_body(
        tenant, fields={"name": hostile, "email": "Ada@Example.COM", "message": "Hi\n\tthere"}
    )
    r = await client.post(
        f"/v1/widget/{tenant.site_key}/requests", json=body, headers={"Origin": HOST_ORIGIN}
    )
    assert r.status == 201, await r.text()
    sent = await r.json()
    page = await listed(client, tenant)
    assert ids(page["data"]) == [sent["id"]]
    item = page["data"][0]
    assert item["fields"]["name"] == hostile
    assert item["fields"]["message"] == "Hi\n\tthere"
    assert item["email"] == "ada@example.com"
    assert item["status"] == "new"
    assert item["page_origin"] == HOST_ORIGIN
    assert item["page_path"] == "/pricing"
    assert item["created_at"] == sent["created_at"]
    r = await client.get(path(tenant, f"/{sent['id']}"), headers=tenant.auth)
    assert await r.json() == item


async def test_filters(client: Client, tenant: Tenant, db: asyncpg.Connection) -> None:
    day = dt.timedelta(days=1)
    a = await insert_request(db, tenant, email="Ada@Example.com", created_at=T0)
    b = await insert_request(
        db, tenant, email="bob@example.com", status="done", created_at=T0 + day
    )
    s = await insert_request(
        db, tenant, email="ada@example.com", status="spam", created_at=T0 + 2 * day
    )
    assert ids((await listed(client, tenant))["data"]) == [str(b), str(a)]
    assert ids((await listed(client, tenant, include_spam="true"))["data"]) == [
        str(s),
        str(b),
        str(a),
    ]
    assert ids((await listed(client, tenant, status="spam"))["data"]) == [str(s)]
    assert ids((await listed(client, tenant, status="done"))["data"]) == [str(b)]
    assert ids((await listed(client, tenant, email="ADA@example.COM"))["data"]) == [str(a)]
    assert ids(
        (await listed(client, tenant, email="ada@example.com", include_spam="1"))["data"]
    ) == [str(s), str(a)]
    assert ids((await listed(client, tenant, since="2024-05-02"))["data"]) == [str(b)]
    assert ids((await listed(client, tenant, until="2024-05-01"))["data"]) == [str(a)]
    assert ids((await listed(client, tenant, until="2024-05-01T12:00:00Z"))["data"]) == [str(a)]
    assert ids((await listed(client, tenant, until="2024-05-01T11:59:59.999999Z"))["data"]) == []
    assert ids(
        (
            await listed(
                client, tenant, since="2024-05-01T14:00:00+02:00", until="2024-05-02T12:00:00Z"
            )
        )["data"]
    ) == [
        str(b),
        str(a),
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"cursor": "garbage"},
        {"cursor": "eyJhIjoxfQ"},
        {"since": "yesterday"},
        {"since": "2024-05-01T10:00:00"},
        {"since": "2024-02-30"},
        {"until": "2024-13-01T00:00:00Z"},
        {"since": "2024-05-02", "until": "2024-05-01"},
        {"status": "archived"},
        {"include_spam": "maybe"},
    ],
)
async def test_bad_query_is_422(client: Client, tenant: Tenant, params: dict[str, str]) -> None:
    r = await client.get(path(tenant), params=params, headers=tenant.auth)
    assert r.status == 422, await r.text()
    assert (await r.json())["errors"]


async def test_unknown_query_parameters_are_ignored(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    await insert_requests(db, tenant, 3)
    plain = await client.get(path(tenant), headers=tenant.auth)
    extra = await client.get(path(tenant), params={"sort": "asc", "_": "123"}, headers=tenant.auth)
    assert extra.status == 200, await extra.text()
    assert (await extra.json())["data"] == (await plain.json())["data"]


async def test_repeated_parameter_is_422(client: Client, tenant: Tenant) -> None:
    r = await client.get(path(tenant) + "?status=new&status=done", headers=tenant.auth)
    assert r.status == 422


async def test_pages_lose_and_repeat_nothing_while_rows_arrive(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    await insert_requests(db, tenant, 25)
    expected = [
        r["request_id"]
        for r in await db.fetch("SELECT request_id FROM info_requests ORDER BY created_at DESC")
    ]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await listed(client, tenant, limit="7", **({"cursor": cursor} if cursor else {}))
        seen += ids(page["data"])
        pages += 1
        # New requests arrive between pages: newer than everything listed, they belong to no later page.
        await insert_request(db, tenant)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 4
    assert seen == [str(x) for x in expected]
    assert len(set(seen)) == len(seen)


async def test_cursor_is_bound_to_its_list(
    client: Client, tenant: Tenant, other_tenant: Tenant, db: asyncpg.Connection
) -> None:
    await insert_requests(db, tenant, 3)
    page = await listed(client, tenant, limit="1")
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/consents",
        params={"cursor": page["next_cursor"]},
        headers=tenant.auth,
    )
    assert r.status == 422
    tampered = page["next_cursor"][:-2] + ("AA" if not page["next_cursor"].endswith("AA") else "BB")
    r = await client.get(path(tenant), params={"cursor": tampered}, headers=tenant.auth)
    assert r.status == 422


async def test_status_changes_and_delete(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    request_id = await insert_request(db, tenant, created_at=T0)
    one = path(tenant, f"/{request_id}")
    r = await client.patch(one, json={"status": "spam"}, headers=tenant.auth)
    assert r.status == 200
    item = await r.json()
    assert item["status"] == "spam"
    assert item["updated_at"] > item["created_at"]
    assert (await listed(client, tenant))["data"] == []
    for body in ({"status": "closed"}, {"status": None}, {}, {"status": "done", "email": "x@y.z"}):
        assert (await client.patch(one, json=body, headers=tenant.auth)).status == 422
    r = await client.patch(one, json={"status": "done"}, headers=tenant.auth)
    assert (await r.json())["status"] == "done"
    assert (await client.delete(one, headers=tenant.auth)).status == 204
    assert (await client.get(one, headers=tenant.auth)).status == 404
    assert (await client.delete(one, headers=tenant.auth)).status == 404
    assert (await client.patch(one, json={"status": "new"}, headers=tenant.auth)).status == 404
    for bad in (str(uuid.uuid4()), "nope"):
        assert (await client.get(path(tenant, f"/{bad}"), headers=tenant.auth)).status == 404


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
async def test_the_ends_of_the_calendar_are_bounds_not_errors(
    client: Client, tenant: Tenant, db: asyncpg.Connection, zone: str
) -> None:
    await client.patch(
        f"/v1/sites/{tenant.site_key}", json={"time_zone": zone}, headers=tenant.auth
    )
    request_id = str(await insert_request(db, tenant, created_at=T0))
    everything = [
        {"since": "0001-01-01"},
        {"until": "9999-12-31"},
        {"until": "9999-12-31T23:59:59.999999Z"},
        {"since": "0001-01-01T00:00:00+14:00", "until": "9999-12-31T23:59:59-12:00"},
    ]
    for params in everything:
        for what in ("requests", "consents", "requests/export", "consents/export"):
            r = await client.get(
                f"/v1/sites/{tenant.site_key}/{what}", params=params, headers=tenant.auth
            )
            assert r.status == 200, (params, what, await r.text())
        assert ids((await listed(client, tenant, **params))["data"]) == [request_id]
    for params in ({"since": "9999-12-31"}, {"until": "0001-01-01"}):
        assert (await listed(client, tenant, **params))["data"] == []
