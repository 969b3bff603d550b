"""POST /v1/widget/SITE_KEY/requests: form rules, spam, opt-in, one transaction, exactly once."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import TEST_SECRET, Tenant
from tests.dbutil import publish
from tests.widget_support import VISITOR, consent_body, post, request_body
from widget_server.domain import receipts
from widget_server.web.widget.state import SITE_CACHE

CUSTOM_FORM = {
    "fields": [
        {
            "name": "company",
            "type": "text",
            "label": {"en": "Company"},
            "required": True,
            "max_length": 20,
        },
        {
            "name": "contact",
            "type": "email",
            "label": "E-mail",
            "required": False,
            "max_length": 254,
        },
        {
            "name": "size",
            "type": "select",
            "label": "Size",
            "required": True,
            "options": [{"value": "s", "label": {"en": "Small"}}, "m"],
        },
        {"name": "terms", "type": "checkbox", "label": "I agree", "required": True},
        {"name": "newsletter", "type": "checkbox", "label": "Also news", "required": False},
        {"name": "notes", "type": "textarea", "label": "Notes", "required": False},
    ],
    "marketing_opt_in": {"label": {"en": "News please"}},
}
NO_OPT_IN_FORM = {
    "fields": [{"name": "email", "type": "email", "label": "E-mail", "required": True}],
    "marketing_opt_in": None,
}


async def rows(db: asyncpg.Connection, table: str, tenant: Tenant) -> list[asyncpg.Record]:
    return list(await db.fetch(f"SELECT * FROM {table} WHERE site_id = $1", tenant.site_id))


async def test_a_request_is_stored_with_its_consent_record(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = request_body(tenant)
    r = await post(client, tenant.site_key, "requests", body, headers={"User-Agent": "UA/1"})
    assert r.status == 201, await r.text()
    answer = await r.json()
    assert set(answer) == {"id", "created_at"}
    [req] = await rows(db, "info_requests", tenant)
    assert str(req["request_id"]) == answer["id"]
    assert req["request_id"].version == 7
    assert str(req["event_id"]) == body["event_id"]
    assert req["fields"] == body["fields"]  # verbatim, e-mail case included
    assert req["email"] == "ada@example.com"
    assert (req["status"], req["spam_reason"], req["marketing_opt_in"]) == ("new", None, False)
    assert (req["page_origin"], req["page_path"]) == ("https://shop.example", "/pricing")
    assert (req["policy_version"], req["language"]) == (1, "en")
    [rec] = await rows(db, "consent_records", tenant)
    assert (rec["action"], rec["surface"], rec["event_id"]) == ("accept_terms", "form", None)
    assert rec["purposes"] == {"necessary": True}
    assert rec["request_id"] == req["request_id"]
    assert rec["visitor_id"] == VISITOR
    assert rec["policy_version"] == 1
    assert rec["created_at"] == req["created_at"]
    assert rec["user_agent"] == "UA/1"
    assert receipts.verify(TEST_SECRET, dict(rec.items()))
    assert await rows(db, "marketing_permissions", tenant) == []


async def test_opt_in_grants_and_only_a_new_opt_in_regrants(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    r = await post(client, tenant.site_key, "requests", request_body(tenant, marketing_opt_in=True))
    assert r.status == 201
    [perm] = await rows(db, "marketing_permissions", tenant)
    [req] = await rows(db, "info_requests", tenant)
    [rec] = await rows(db, "consent_records", tenant)
    assert (perm["email"], perm["status"]) == ("ada@example.com", "granted")
    assert perm["source_request_id"] == req["request_id"]
    assert perm["source_record_id"] == rec["record_id"]
    assert perm["granted_at"] == req["created_at"]
    contact_id = perm["contact_id"]

    await db.execute(
        """UPDATE marketing_permissions SET status = 'opted_out', opted_out_at = now(),
           opt_out_source = 'test' WHERE site_id = $1""",
        tenant.site_id,
    )
    # Unticked: nothing about the permission changes.
    r = await post(client, tenant.site_key, "requests", request_body(tenant))
    assert r.status == 201
    [perm] = await rows(db, "marketing_permissions", tenant)
    assert perm["status"] == "opted_out"
    opted_out_at = perm["opted_out_at"]

    # Ticked again, with the address in other letter case: granted again, the opt-out kept as history.
    body = request_body(tenant, marketing_opt_in=True)
    body["fields"]["email"] = "ADA@example.com"
    r = await post(client, tenant.site_key, "requests", body)
    assert r.status == 201
    new_id = (await r.json())["id"]
    [perm] = await rows(db, "marketing_permissions", tenant)
    assert perm["status"] == "granted"
    assert str(perm["source_request_id"]) == new_id
    assert perm["opted_out_at"] == opted_out_at
    assert perm["contact_id"] == contact_id


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"email": "a@b.example", "message": "hi"}, "fields.name"),
        ({"name": "  ", "email": "a@b.example", "message": "hi"}, "fields.name"),
        ({"name": "A", "email": "not-an-address", "message": "hi"}, "fields.email"),
        ({"name": "A", "email": "a@b", "message": "hi"}, "fields.email"),
        ({"name": "A", "email": "a@b.example\n", "message": "hi"}, "fields.email"),
        ({"name": "A", "email": "a@b.example", "message": "x" * 5001}, "fields.message"),
        ({"name": "A", "email": "a@b.example", "message": "hi", "fax": "1"}, "fields.fax"),
        ({"name": 7, "email": "a@b.example", "message": "hi"}, "fields.name"),
        ({"name": ["A"], "email": "a@b.example", "message": "hi"}, "fields.name"),
        ({"name": "A\nB", "email": "a@b.example", "message": "hi"}, "fields.name"),
        ({"name": "A", "email": "a@b.example", "message": "bell\x07"}, "fields.message"),
        ({"name": "A", "email": "a@b.example", "message": "cr\r\nlf"}, "fields.message"),
        ({"name": "A", "email": "a@b.example", "message": "hi", "phone": "1" * 41}, "fields.phone"),
    ],
)
async def test_fields_follow_the_form_config(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    fields: dict[str, Any],
    error_field: str,
) -> None:
    r = await post(client, tenant.site_key, "requests", request_body(tenant, fields=fields))
    assert r.status == 422, await r.text()
    problem = await r.json()
    assert list(problem["errors"]) == [error_field]
    assert await rows(db, "info_requests", tenant) == []


@pytest.mark.parametrize(
    ("changes", "error_field"),
    [
        ({"fields": "name=A"}, "fields"),
        ({"elapsed_ms": "9000"}, "elapsed_ms"),
        ({"elapsed_ms": None}, "elapsed_ms"),
        ({"marketing_opt_in": "true"}, "marketing_opt_in"),
        ({"visitor_id": ""}, "visitor_id"),
        ({"visitor_id": "a" * 129}, "visitor_id"),
        ({"visitor_id": "spaces are bad"}, "visitor_id"),
        ({"event_id": "not-a-uuid"}, "event_id"),
        ({"policy_version": "1"}, "policy_version"),
        ({"policy_version": 1.5}, "policy_version"),
        ({"policy_version": True}, "policy_version"),
        ({"extra": 1}, "extra"),
    ],
)
async def test_top_level_rules(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    changes: dict[str, Any],
    error_field: str,
) -> None:
    r = await post(client, tenant.site_key, "requests", request_body(tenant, **changes))
    assert r.status == 422
    assert error_field in (await r.json())["errors"]
    assert await rows(db, "info_requests", tenant) == []


async def test_lenient_where_clients_differ_harmlessly(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    # What a browser's own form would send, or a hand-written client reasonably might:
    # a short visitor id, an empty honeypot as null, an address with blanks around it (a browser
    # strips those from type=email), and optional fields left empty (the same as left out).
    t = await make_tenant("Lenient", form=CUSTOM_FORM)
    fields = {
        "company": "Initech",
        "contact": " Ada@Example.com ",
        "size": "m",
        "terms": True,
        "notes": "",
    }
    r = await post(
        client,
        t.site_key,
        "requests",
        request_body(t, visitor_id="v1", hp=None, fields=fields, marketing_opt_in=True),
    )
    assert r.status == 201, await r.text()
    [req] = await rows(db, "info_requests", t)
    assert (req["status"], req["visitor_id"], req["email"]) == ("new", "v1", "ada@example.com")
    assert req["fields"] == {
        "company": "Initech",
        "contact": "Ada@Example.com",
        "size": "m",
        "terms": True,
    }
    assert len(await rows(db, "marketing_permissions", t)) == 1
    # An optional e-mail or choice left empty is no address and no choice, not a wrong one.
    for empty in ("", "   "):
        fields = {"company": "Initech", "contact": empty, "size": "s", "terms": True}
        r = await post(client, t.site_key, "requests", request_body(t, fields=fields))
        assert r.status == 201, await r.text()
    # Required ones still are required, blank or not.
    fields = {"company": " ", "size": "", "terms": True}
    r = await post(client, t.site_key, "requests", request_body(t, fields=fields))
    assert r.status == 422
    assert set((await r.json())["errors"]) == {"fields.company", "fields.size"}


async def test_missing_elapsed_ms_is_422(client: TestClient[Any, Any], tenant: Tenant) -> None:
    body = request_body(tenant)
    del body["elapsed_ms"]
    r = await post(client, tenant.site_key, "requests", body)
    assert r.status == 422
    assert (await r.json())["errors"] == {"elapsed_ms": ["Missing data for required field."]}


async def test_custom_form_types(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    t = await make_tenant("Custom", form=CUSTOM_FORM)
    good = {
        "company": "Initech",
        "size": "s",
        "terms": True,
        "newsletter": False,
        "notes": "a\n\tb",
    }
    r = await post(client, t.site_key, "requests", request_body(t, fields=good))
    assert r.status == 201, await r.text()
    [req] = await rows(db, "info_requests", t)
    assert req["fields"] == good
    assert req["email"] is None
    bad = {
        "company": "x" * 21,
        "size": "xl",
        "terms": False,
        "newsletter": "yes",
        "contact": "nope",
    }
    r = await post(client, t.site_key, "requests", request_body(t, fields=bad))
    assert r.status == 422
    assert set((await r.json())["errors"]) == {
        "fields.company",
        "fields.size",
        "fields.terms",
        "fields.newsletter",
        "fields.contact",
    }
    # Opt-in ticked without an address to keep it for: refused.
    r = await post(
        client, t.site_key, "requests", request_body(t, fields=good, marketing_opt_in=True)
    )
    assert r.status == 422
    assert list((await r.json())["errors"]) == ["marketing_opt_in"]


async def test_opt_in_on_a_site_without_one_is_422(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    t = await make_tenant("NoOptIn", form=NO_OPT_IN_FORM)
    body = request_body(t, fields={"email": "a@b.example"}, marketing_opt_in=True)
    r = await post(client, t.site_key, "requests", body)
    assert r.status == 422
    assert list((await r.json())["errors"]) == ["marketing_opt_in"]
    r = await post(client, t.site_key, "requests", {**body, "marketing_opt_in": False})
    assert r.status == 201


@pytest.mark.parametrize(
    ("changes", "reason"),
    [({"hp": "http://spam.example"}, "honeypot"), ({"elapsed_ms": 1499}, "too_fast")],
)
async def test_spam_is_answered_like_success_and_stored_as_spam(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    changes: dict[str, Any],
    reason: str,
) -> None:
    r = await post(
        client, tenant.site_key, "requests", request_body(tenant, marketing_opt_in=True, **changes)
    )
    assert r.status == 201
    assert set(await r.json()) == {"id", "created_at"}
    [req] = await rows(db, "info_requests", tenant)
    assert (req["status"], req["spam_reason"]) == ("spam", reason)
    assert await rows(db, "marketing_permissions", tenant) == []


async def test_fill_time_boundary_is_not_spam(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    r = await post(client, tenant.site_key, "requests", request_body(tenant, elapsed_ms=1500))
    assert r.status == 201
    [req] = await rows(db, "info_requests", tenant)
    assert req["status"] == "new"


async def test_stale_policy_is_409(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await publish(db, tenant.site_id, title="T2", body="B2", language="en")
    r = await post(client, tenant.site_key, "requests", request_body(tenant))
    assert r.status == 409
    assert await rows(db, "info_requests", tenant) == []
    assert await rows(db, "consent_records", tenant) == []


async def test_repeats_and_concurrent_duplicates_store_one_request(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = request_body(tenant, marketing_opt_in=True)
    responses = await asyncio.gather(
        *(post(client, tenant.site_key, "requests", body) for _ in range(6))
    )
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 200, 201]
    answers = [await r.json() for r in responses]
    assert all(a == answers[0] for a in answers)
    again = await post(client, tenant.site_key, "requests", body)
    assert (again.status, await again.json()) == (200, answers[0])
    assert len(await rows(db, "info_requests", tenant)) == 1
    assert len(await rows(db, "consent_records", tenant)) == 1
    assert len(await rows(db, "marketing_permissions", tenant)) == 1


async def test_a_retry_gets_the_first_answer_after_the_form_changed(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    """The answer to the first send was lost; meanwhile the merchant dropped the opt-in."""
    body = request_body(tenant, marketing_opt_in=True)
    first = await post(client, tenant.site_key, "requests", body)
    assert first.status == 201
    await db.execute(
        """UPDATE sites SET form = jsonb_set(form, '{marketing_opt_in}', 'null')
           WHERE site_id = $1""",
        tenant.site_id,
    )
    client.app[SITE_CACHE].invalidate(tenant.site_key)
    again = await post(client, tenant.site_key, "requests", body)
    assert again.status == 200, await again.text()
    assert await again.read() == await first.read()
    assert len(await rows(db, "info_requests", tenant)) == 1


@pytest.fixture
async def failing_table(
    db: asyncpg.Connection, request: pytest.FixtureRequest
) -> AsyncIterator[str]:
    """A real constraint that refuses rows for one address, so a write fails mid-transaction."""
    table, column = request.param
    await db.execute(
        f"ALTER TABLE {table} ADD CONSTRAINT test_refuse CHECK ({column} NOT LIKE '%refused%') NOT VALID"
    )
    try:
        yield table
    finally:
        await db.execute(f"ALTER TABLE {table} DROP CONSTRAINT test_refuse")


@pytest.mark.parametrize(
    "failing_table",
    [("marketing_permissions", "email"), ("consent_records", "visitor_id")],
    indirect=True,
)
async def test_a_failure_in_any_part_stores_nothing(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, failing_table: str
) -> None:
    body = request_body(tenant, marketing_opt_in=True, visitor_id="refused_visitor")
    body["fields"]["email"] = "refused@example.com"
    r = await post(client, tenant.site_key, "requests", body)
    assert r.status == 500
    assert "Traceback" not in await r.text()
    for table in ("info_requests", "consent_records", "marketing_permissions"):
        assert await rows(db, table, tenant) == [], table


@pytest.fixture
def proxied_app(make_app: Callable[..., web.Application]) -> Callable[..., web.Application]:
    def factory(**changes: Any) -> web.Application:
        return make_app(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),), **changes)

    return factory


async def test_per_site_ceiling_limits_requests_but_not_consents(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    proxied_app: Callable[..., web.Application],
    db: asyncpg.Connection,
    tenant: Tenant,
) -> None:
    client = await aiohttp_client(proxied_app(requests_per_site_per_hour=2))
    statuses = []
    for i in range(3):
        r = await post(
            client,
            tenant.site_key,
            "requests",
            request_body(tenant),
            headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
        )
        statuses.append(r.status)
    assert statuses == [201, 201, 429]
    assert int(r.headers["Retry-After"]) >= 1
    assert (await r.json())["status"] == 429
    assert len(await rows(db, "info_requests", tenant)) == 2
    # A busy site's consents are never limited as a whole.
    for i in range(5):
        r = await post(
            client,
            tenant.site_key,
            "consents",
            consent_body(tenant),
            headers={"X-Forwarded-For": f"198.51.100.{i + 10}"},
        )
        assert r.status == 201
