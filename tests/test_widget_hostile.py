"""Hostile input to the widget API: refused cleanly (4xx, never 500) or stored exactly."""

from __future__ import annotations

import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.widget_support import beacon_body, consent_body, post, request_body

HOSTILE = {
    "html": "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "sql": "Robert'); DROP TABLE info_requests;--",
    "csv": '=HYPERLINK("http://evil.example","click")',
    "csv_plus": "+1+1",
    "csv_minus": "-2+3",
    "csv_at": "@SUM(A1:A9)",
    "rtl": "abc\u202edcba\u202c",
    "zero_width": "zero\u200bwidth\u200d\ufeff",
    "emoji": "👩🏽‍💻 🇩🇪",
    "tab_newline": "line 1\n\tline 2",
    "quotes": "\"'`\\",
    "nbsp": "a\u00a0b",
}


async def test_hostile_strings_are_stored_byte_for_byte(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    ids = []
    for text in HOSTILE.values():
        fields = {"name": text.replace("\n", " "), "email": "a@b.example", "message": text}
        r = await post(client, tenant.site_key, "requests", request_body(tenant, fields=fields))
        assert r.status == 201, (text, await r.text())
        ids.append((await r.json())["id"])
    stored = await db.fetch(
        """SELECT request_id::text AS id, convert_to(fields->>'message', 'UTF8') AS raw,
                  fields->>'message' AS message
           FROM info_requests WHERE site_id = $1""",
        tenant.site_id,
    )
    by_id = {row["id"]: row for row in stored}
    for request_id, text in zip(ids, HOSTILE.values(), strict=True):
        assert by_id[request_id]["raw"] == text.encode()
        assert by_id[request_id]["message"] == text
    # The SQL fragment did what SQL fragments in data should do: nothing.
    assert await db.fetchval("SELECT count(*) FROM info_requests") == len(HOSTILE)


async def test_nfd_input_is_stored_as_nfc(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    nfd = "Cafe\u0301 Zu\u0308rich"
    fields = {"name": nfd, "email": "a@b.example", "message": nfd}
    r = await post(client, tenant.site_key, "requests", request_body(tenant, fields=fields))
    assert r.status == 201
    message = await db.fetchval("SELECT fields->>'message' FROM info_requests")
    assert message == "Café Zürich"
    assert len(message) == len("Café Zürich")


@pytest.mark.parametrize(
    "text",
    ["nul\x00byte", "esc\x1b[31m", "del\x7f", "c1\x85", "bell\x07", "cr\r"],
)
async def test_control_characters_are_422(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, text: str
) -> None:
    fields = {"name": "A", "email": "a@b.example", "message": text}
    r = await post(client, tenant.site_key, "requests", request_body(tenant, fields=fields))
    assert r.status == 422
    assert list((await r.json())["errors"]) == ["fields.message"]
    assert await db.fetchval("SELECT count(*) FROM info_requests") == 0


@pytest.mark.parametrize("kind", ["consents", "requests", "events"])
async def test_lone_surrogates_are_422_not_500(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, kind: str
) -> None:
    bodies = {
        "consents": consent_body(tenant, visitor_id="VISITOR_ID"),
        "requests": request_body(tenant, visitor_id="VISITOR_ID"),
        "events": beacon_body(referrer="VISITOR_ID"),
    }
    text = json.dumps(bodies[kind]).replace("VISITOR_ID", "abcdefgh\\ud800")
    r = await post(client, tenant.site_key, kind, text)
    assert r.status == 422, await r.text()
    problem = await r.json()
    assert problem["errors"]
    # Also as a field name: the error must still be valid UTF-8 JSON.
    text = json.dumps(bodies[kind])[:-1] + ', "\\udc80x": 1}'
    r = await post(client, tenant.site_key, kind, text)
    assert r.status == 422
    assert "\\udc80x" in (await r.json())["errors"]


@pytest.mark.parametrize("kind", ["consents", "requests", "events"])
@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ("{", 400),
        ("{'single': 'quotes'}", 400),
        ("", 400),
        ("NaN", 400),
        ('{"a": 1e999999}', 422),
        ("[" * 100_000 + "]" * 100_000, 413),
        ("[" * 20_000 + "]" * 20_000, 400),
        ("[]", 422),
        ('"just a string"', 422),
        ("null", 422),
        ("{}", 422),
    ],
)
async def test_malformed_bodies(
    client: TestClient[Any, Any], tenant: Tenant, kind: str, payload: str, status: int
) -> None:
    r = await post(client, tenant.site_key, kind, payload)
    assert r.status == status, await r.text()
    problem = await r.json()
    assert r.content_type == "application/problem+json"
    assert problem["status"] == status
    assert "Traceback" not in problem["detail"]


@pytest.mark.parametrize("kind", ["consents", "requests", "events"])
async def test_content_types_and_size(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, kind: str
) -> None:
    body = {
        "consents": consent_body(tenant),
        "requests": request_body(tenant),
        "events": beacon_body(),
    }[kind]
    r = await post(client, tenant.site_key, kind, body, content_type="text/plain;charset=UTF-8")
    assert r.status in (201, 202), await r.text()
    for ctype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/html",
    ):
        r = await post(client, tenant.site_key, kind, body, content_type=ctype)
        assert r.status == 415, ctype
    big = dict(body, padding="x" * (64 * 1024))
    r = await post(client, tenant.site_key, kind, big)
    assert r.status == 413
    # Too large is too large, whoever sends it: the size is known before anything is read.
    for origin in (None, "null", "https://shop.example.evil.test"):
        r = await post(client, tenant.site_key, kind, big, origin=origin)
        assert r.status == 413, origin
        assert r.content_type == "application/problem+json"
        assert "Access-Control-Allow-Origin" not in r.headers


async def test_stored_data_survives_hostile_neighbours(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    r = await post(client, tenant.site_key, "requests", request_body(tenant))
    before = await db.fetchrow("SELECT * FROM info_requests")
    for text in HOSTILE.values():
        await post(client, tenant.site_key, "requests", request_body(tenant, fields={"x": text}))
        await post(client, tenant.site_key, "consents", consent_body(tenant, visitor_id=text))
    assert await db.fetchrow("SELECT * FROM info_requests") == before
    assert r.status == 201
