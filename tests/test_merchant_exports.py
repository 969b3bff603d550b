"""Exports: streamed CSV and NDJSON, dynamic columns, formula neutralisation, exact NDJSON text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.merchant_support import T0, consent_record, insert_request, insert_requests
from widget_server.web.merchant.exports import BATCH, cell, neutralize

Client = TestClient[Any, Any]
FORMULAS = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil.example","x")']


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_starts_get_a_quote(text: str) -> None:
    assert neutralize(text) == "'" + text


@pytest.mark.parametrize("text", ["", "plain", "1-1", " =1", "a=b", "'=1"])
def test_other_text_is_unchanged(text: str) -> None:
    assert neutralize(text) == text


def test_cells() -> None:
    assert [cell(None), cell(True), cell(False), cell(3), cell({"a": "=x"})] == [
        "",
        "true",
        "false",
        "3",
        '{"a": "=x"}',
    ]
    assert cell(-5) == "'-5"


async def export(client: Client, tenant: Tenant, what: str, **params: str) -> tuple[Any, str]:
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/{what}/export", params=params, headers=tenant.auth
    )
    assert r.status == 200, await r.text()
    return r, await r.text()


async def test_requests_csv(client: Client, tenant: Tenant, db: asyncpg.Connection) -> None:
    hostile = {
        "name": "=cmd|' /C calc'!A0",
        "email": "ada@example.com",
        "message": '@SUM(1)\nline two, "quoted"',
    }
    await insert_request(db, tenant, fields=hostile, created_at=T0)
    extra = {"name": "Bob", "email": "bob@example.com", "message": "-2", "legacy_field": "+kept"}
    await insert_request(
        db, tenant, fields=extra, email="bob@example.com", created_at=T0 + dt.timedelta(seconds=1)
    )
    await insert_request(db, tenant, status="spam", created_at=T0 + dt.timedelta(seconds=2))
    r, text = await export(client, tenant, "requests", format="csv")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    today = dt.datetime.now(dt.UTC).strftime("%Y%m%d")
    assert (
        r.headers["Content-Disposition"]
        == f'attachment; filename="{tenant.site_key}-requests-{today}.csv"'
    )
    assert r.headers["Transfer-Encoding"] == "chunked"
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[-5:] == [
        "fields.name",
        "fields.email",
        "fields.phone",
        "fields.message",
        "fields.legacy_field",
    ]
    assert [row["fields.name"] for row in rows] == [
        "Bob",
        "'=cmd|' /C calc'!A0",
    ]  # spam left out, newest first
    assert rows[0]["fields.message"] == "'-2"
    assert rows[0]["fields.legacy_field"] == "'+kept"
    assert rows[1]["fields.message"] == '\'@SUM(1)\nline two, "quoted"'
    assert rows[1]["fields.legacy_field"] == ""
    assert rows[1]["fields.phone"] == ""
    assert rows[0]["email"] == "bob@example.com"
    assert rows[0]["status"] == "new"
    assert rows[0]["created_at"] == "2024-05-01T12:00:01.000000Z"
    _, spam = await export(client, tenant, "requests", format="csv", status="spam")
    assert len(list(csv.DictReader(io.StringIO(spam)))) == 1


async def test_requests_ndjson_keeps_text_exact(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    text_in = '=1+1 \u2028 <b>é</b>\t"\\ \U0001f370'
    request_id = await insert_request(
        db, tenant, fields={"name": text_in, "email": "a@b.example", "message": "-x"}
    )
    r, body = await export(client, tenant, "requests", format="ndjson")
    assert r.headers["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert r.headers["Content-Disposition"].endswith('.ndjson"')
    lines = body.split("\n")
    assert lines[-1] == ""
    assert len(lines) == 2
    item = json.loads(lines[0])
    assert item["id"] == str(request_id)
    assert item["fields"] == {"name": text_in, "email": "a@b.example", "message": "-x"}
    listed = await (
        await client.get(f"/v1/sites/{tenant.site_key}/requests", headers=tenant.auth)
    ).json()
    assert listed["data"] == [item]


async def test_large_export_streams_every_row_once(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    count = BATCH * 3 + 7
    await insert_requests(db, tenant, count)
    r = await client.get(
        f"/v1/sites/{tenant.site_key}/requests/export?format=csv", headers=tenant.auth
    )
    assert r.status == 200
    assert r.headers["Transfer-Encoding"] == "chunked"
    chunks = 0
    buffer = bytearray()
    async for chunk in r.content.iter_any():
        chunks += 1
        buffer += chunk
    rows = list(csv.DictReader(io.StringIO(buffer.decode())))
    assert chunks > 1
    assert len(rows) == count
    assert len({row["id"] for row in rows}) == count
    assert rows[0]["visitor_id"] == f"visitor_{count - 1:06d}"
    assert rows[-1]["visitor_id"] == "visitor_000000"
    _, ndjson = await export(
        client, tenant, "requests", format="ndjson", since="2024-05-01T12:00:10Z"
    )
    assert len(ndjson.splitlines()) == count - 10


async def test_consents_csv_and_ndjson(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    good = await consent_record(
        db,
        tenant,
        purposes={"necessary": True, "analytics": False, "video": True},
        user_agent="=evil",
    )
    await consent_record(db, tenant, action="reject_all", receipt="v1.forged", created_at=T0)
    r, text = await export(client, tenant, "consents")
    assert r.headers["Content-Disposition"].startswith(
        f'attachment; filename="{tenant.site_key}-consents-'
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[-4:] == [
        "purposes.necessary",
        "purposes.analytics",
        "purposes.marketing",
        "purposes.video",
    ]
    first, second = rows
    assert first["id"] == str(good["record_id"])
    assert first["verified"] == "true"
    assert (first["purposes.analytics"], first["purposes.marketing"], first["purposes.video"]) == (
        "false",
        "",
        "true",
    )
    assert first["user_agent"] == "'=evil"
    assert first["receipt"] == good["receipt"]
    assert second["verified"] == "false"
    assert second["action"] == "reject_all"
    _, body = await export(client, tenant, "consents", format="ndjson", action="accept_all")
    (line,) = body.splitlines()
    item = json.loads(line)
    assert item["user_agent"] == "=evil"
    assert item["verified"] is True


@pytest.mark.parametrize(
    "params",
    [{"format": "xlsx"}, {"since": "nope"}, {"format": "csv", "until": "2024-13-01"}],
)
async def test_bad_export_queries_are_422(
    client: Client, tenant: Tenant, params: dict[str, str]
) -> None:
    for what in ("requests", "consents"):
        r = await client.get(
            f"/v1/sites/{tenant.site_key}/{what}/export", params=params, headers=tenant.auth
        )
        assert r.status == 422
        assert r.headers["Content-Type"].startswith("application/problem+json")


async def test_empty_export_has_a_header_only(client: Client, tenant: Tenant) -> None:
    _, text = await export(client, tenant, "requests")
    assert text.splitlines() == [
        "id,created_at,updated_at,status,spam_reason,email,marketing_opt_in,visitor_id,policy_version,"
        "language,page_origin,page_path,page_url,fields.name,fields.email,fields.phone,fields.message"
    ]
    _, ndjson = await export(client, tenant, "consents", format="ndjson")
    assert ndjson == ""
