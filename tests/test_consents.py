"""POST /v1/widget/SITE_KEY/consents: resolution, proof fields, idempotency, the 409 and 422s."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TEST_SECRET, Tenant
from tests.dbutil import publish
from tests.widget_support import VISITOR, consent_body, post
from widget_server.domain import receipts
from widget_server.domain.errors import NotFound
from widget_server.services import policies
from widget_server.services.consents import verify_record
from widget_server.web.widget.state import SITE_CACHE

UA = "Mozilla/5.0 (X11; Linux x86_64) TestBrowser/1.0"


async def records(db: asyncpg.Connection, tenant: Tenant) -> list[asyncpg.Record]:
    return list(
        await db.fetch(
            "SELECT * FROM consent_records WHERE site_id = $1 ORDER BY record_id", tenant.site_id
        )
    )


async def test_a_decision_is_stored_with_every_proof_field(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = consent_body(tenant, widget_version="1.2.3", language="de-CH")
    r = await post(
        client,
        tenant.site_key,
        "consents",
        body,
        headers={"User-Agent": UA, "X-Forwarded-For": "203.0.113.9"},
    )
    assert r.status == 201, await r.text()
    answer = await r.json()
    assert set(answer) == {"id", "created_at", "receipt"}
    [row] = await records(db, tenant)
    policy = await policies.current_policy(db, tenant.site_id)
    assert policy is not None
    assert str(row["record_id"]) == answer["id"]
    assert row["record_id"].version == 7
    assert str(row["event_id"]) == body["event_id"]
    assert row["visitor_id"] == VISITOR
    assert row["action"] == "accept_all"
    assert row["surface"] == "banner"
    assert row["purposes"] == {"necessary": True, "analytics": True, "marketing": True}
    assert row["policy_version"] == policy["version"]
    assert row["policy_sha256"] == policy["sha256"]
    assert row["language"] == "de-CH"
    assert (row["page_origin"], row["page_path"]) == ("https://shop.example", "/pricing")
    assert row["gpc"] is False
    assert row["user_agent"] == UA
    assert row["widget_version"] == "1.2.3"
    assert row["request_id"] is None
    created = row["created_at"]
    assert answer["created_at"] == created.isoformat(timespec="microseconds").replace("+00:00", "Z")
    assert abs(created - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert row["valid_until"] == created + dt.timedelta(days=365)
    assert row["receipt"] == answer["receipt"]
    assert receipts.verify(TEST_SECRET, dict(row.items()))
    # No address of the client, direct or forwarded, anywhere in the row.
    assert not any("127.0.0.1" in str(v) or "203.0.113.9" in str(v) for v in row.values())


@pytest.mark.parametrize(
    ("action", "given", "gpc", "expected"),
    [
        ("accept_all", {}, False, {"necessary": True, "analytics": True, "marketing": True}),
        (
            "accept_all",
            {"marketing": False},
            False,
            {"necessary": True, "analytics": True, "marketing": True},
        ),
        ("accept_all", {}, True, {"necessary": True, "analytics": True, "marketing": False}),
        (
            "reject_all",
            {"analytics": True, "marketing": True},
            False,
            {"necessary": True, "analytics": False, "marketing": False},
        ),
        (
            "withdraw",
            {"analytics": True},
            False,
            {"necessary": True, "analytics": False, "marketing": False},
        ),
        (
            "custom",
            {"analytics": True},
            False,
            {"necessary": True, "analytics": True, "marketing": False},
        ),
        (
            "custom",
            {"necessary": False, "marketing": True},
            False,
            {"necessary": True, "analytics": False, "marketing": True},
        ),
        (
            "custom",
            {"marketing": True},
            True,
            {"necessary": True, "analytics": False, "marketing": True},
        ),
        ("custom", {}, True, {"necessary": True, "analytics": False, "marketing": False}),
    ],
)
async def test_the_server_decides_each_purpose(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    action: str,
    given: dict[str, bool],
    gpc: bool,
    expected: dict[str, bool],
) -> None:
    headers = {"Sec-GPC": "1"} if gpc else {}
    body = consent_body(tenant, action=action, purposes=given)
    r = await post(client, tenant.site_key, "consents", body, headers=headers)
    assert r.status == 201, await r.text()
    [row] = await records(db, tenant)
    assert row["purposes"] == expected
    assert row["gpc"] is gpc
    assert row["action"] == action


@pytest.mark.parametrize("signal", [True, False, "yes"])
async def test_gpc_from_the_body_counts_like_the_header(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, signal: Any
) -> None:
    # Browsers that expose navigator.globalPrivacyControl but send no Sec-GPC header.
    body = {**consent_body(tenant, action="accept_all"), "gpc": signal}
    r = await post(client, tenant.site_key, "consents", body)
    if not isinstance(signal, bool):
        assert r.status == 422
        assert "gpc" in (await r.json())["errors"]
        assert await records(db, tenant) == []
        return
    assert r.status == 201, await r.text()
    [row] = await records(db, tenant)
    assert row["gpc"] is signal
    assert row["purposes"]["marketing"] is (not signal)


async def test_the_body_cannot_switch_off_the_gpc_header(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = {**consent_body(tenant, action="accept_all"), "gpc": False}
    r = await post(client, tenant.site_key, "consents", body, headers={"Sec-GPC": "1"})
    assert r.status == 201, await r.text()
    [row] = await records(db, tenant)
    assert row["gpc"] is True
    assert row["purposes"]["marketing"] is False


async def test_unknown_purpose_is_422_and_nothing_is_stored(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = consent_body(tenant, action="custom", purposes={"analytics": True, "telemetry": True})
    r = await post(client, tenant.site_key, "consents", body)
    assert r.status == 422
    problem = await r.json()
    assert r.content_type == "application/problem+json"
    assert problem["errors"] == {"purposes.telemetry": ["Unknown purpose."]}
    assert await records(db, tenant) == []


async def test_stale_policy_is_409_and_current_one_is_accepted(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await publish(db, tenant.site_id, title="New terms", body="Changed.", language="en")
    r = await post(client, tenant.site_key, "consents", consent_body(tenant))
    assert r.status == 409
    problem = await r.json()
    assert problem["status"] == 409
    assert problem["current_version"] == 2
    r = await post(client, tenant.site_key, "consents", consent_body(tenant, policy_version=2))
    assert r.status == 201
    [row] = await records(db, tenant)
    assert row["policy_version"] == 2


async def test_site_without_policy_is_409(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    bare = await make_tenant("Bare", policy=False)
    r = await post(client, bare.site_key, "consents", consent_body(bare, policy_version=1))
    assert r.status == 409
    assert await records(db, bare) == []


async def test_same_event_again_gets_the_first_answer(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = consent_body(tenant)
    first = await post(client, tenant.site_key, "consents", body)
    assert first.status == 201
    # The policy moves on and the retry even says something else: the first answer stands.
    await publish(db, tenant.site_id, title="New terms", body="Changed.", language="en")
    again = await post(client, tenant.site_key, "consents", {**body, "action": "reject_all"})
    assert again.status == 200
    assert await again.json() == await first.json()
    [row] = await records(db, tenant)
    assert row["action"] == "accept_all"


async def test_a_retry_gets_the_first_answer_after_the_site_changed(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    """The answer to the first send was lost; meanwhile the merchant dropped a purpose."""
    body = consent_body(tenant, action="custom", purposes={"marketing": True})
    first = await post(client, tenant.site_key, "consents", body)
    assert first.status == 201
    await db.execute(
        """UPDATE sites SET purposes = '[{"key": "necessary", "required": true}]'
           WHERE site_id = $1""",
        tenant.site_id,
    )
    client.app[SITE_CACHE].invalidate(tenant.site_key)
    again = await post(client, tenant.site_key, "consents", body)
    assert again.status == 200, await again.text()
    assert await again.read() == await first.read()
    fresh = await post(client, tenant.site_key, "consents", {**body, "event_id": str(uuid.uuid4())})
    assert fresh.status == 422  # a new decision about a purpose that is gone is refused
    assert len(await records(db, tenant)) == 1


async def test_concurrent_duplicates_store_one_row(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = consent_body(tenant)
    responses = await asyncio.gather(
        *(post(client, tenant.site_key, "consents", body) for _ in range(6))
    )
    statuses = sorted(r.status for r in responses)
    assert statuses == [200, 200, 200, 200, 200, 201]
    answers = [await r.json() for r in responses]
    assert all(a == answers[0] for a in answers)
    assert len(await records(db, tenant)) == 1


async def test_event_ids_are_per_site(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    other_tenant: Tenant,
) -> None:
    event_id = str(uuid.uuid4())
    a = await post(client, tenant.site_key, "consents", consent_body(tenant, event_id=event_id))
    b = await post(
        client,
        other_tenant.site_key,
        "consents",
        consent_body(other_tenant, event_id=event_id, page_url="https://other.example/x"),
        origin="https://other.example",
    )
    assert (a.status, b.status) == (201, 201)
    assert (await a.json())["id"] != (await b.json())["id"]
    assert len(await records(db, tenant)) == 1
    [row_b] = await records(db, other_tenant)
    assert row_b["page_origin"] == "https://other.example"


async def test_surface_language_and_widget_version_header(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = consent_body(
        tenant, surface="preferences", action="custom", purposes={"analytics": True}
    )
    r = await post(client, tenant.site_key, "consents", body, headers={"X-Widget-Version": "9.9"})
    assert r.status == 201
    [row] = await records(db, tenant)
    assert (row["surface"], row["language"], row["widget_version"]) == ("preferences", "en", "9.9")


async def test_user_agent_is_a_per_site_switch_and_truncated(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    keeps = await make_tenant("Keeps")
    drops = await make_tenant("Drops", store_user_agent=False)
    long_ua = "Agent/" + "x" * 1000
    for t in (keeps, drops):
        r = await post(
            client, t.site_key, "consents", consent_body(t), headers={"User-Agent": long_ua}
        )
        assert r.status == 201
    [kept] = await records(db, keeps)
    [dropped] = await records(db, drops)
    assert kept["user_agent"] == long_ua[:512]
    assert dropped["user_agent"] is None
    assert receipts.verify(TEST_SECRET, dict(dropped.items()))


@pytest.mark.parametrize(
    "page_url",
    [
        "https://evil.example/pricing",
        "https://shop.example.evil.test/",
        "http://shop.example/",
        "javascript:alert(1)",
        "data:text/html,hi",
        "not a url",
        "//shop.example/x",
        "https://shop.example/" + "a" * 3000,
    ],
)
async def test_page_url_must_be_on_an_allowed_origin(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, page_url: str
) -> None:
    r = await post(client, tenant.site_key, "consents", consent_body(tenant, page_url=page_url))
    assert r.status == 422
    assert "page_url" in (await r.json())["errors"]
    assert await records(db, tenant) == []


async def test_disabled_and_unknown_sites_are_404(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    r = await post(client, "st_doesnotexist00000000", "consents", consent_body(tenant))
    assert r.status == 404
    await db.execute("UPDATE sites SET disabled_at = now() WHERE site_id = $1", tenant.site_id)
    r = await post(client, tenant.site_key, "consents", consent_body(tenant))
    assert r.status == 404
    assert (await r.json())["status"] == 404
    assert await records(db, tenant) == []


async def test_verify_consent_detects_tampering(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    r = await post(client, tenant.site_key, "consents", consent_body(tenant, action="reject_all"))
    record_id = uuid.UUID((await r.json())["id"])
    ok, row = await verify_record(db, TEST_SECRET, record_id)
    assert ok
    assert row["record_id"] == record_id
    # Someone with database access rewrites the decision, bypassing the append-only trigger.
    await db.execute("SET session_replication_role = replica")
    try:
        await db.execute(
            """UPDATE consent_records SET purposes = '{"necessary": true, "analytics": true,
               "marketing": true}' WHERE record_id = $1""",
            record_id,
        )
    finally:
        await db.execute("SET session_replication_role = DEFAULT")
    ok, row = await verify_record(db, TEST_SECRET, record_id)
    assert not ok
    assert row["record_id"] == record_id
    assert await verify_record(db, "another-secret-" + "y" * 40, record_id) == (False, row)
    with pytest.raises(NotFound):
        await verify_record(db, TEST_SECRET, uuid.uuid4())


async def test_consent_log_is_append_only(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await post(client, tenant.site_key, "consents", consent_body(tenant))
    with pytest.raises(asyncpg.exceptions.RestrictViolationError):
        await db.execute("UPDATE consent_records SET action = 'reject_all'")


@pytest.mark.parametrize(
    ("changes", "error_field"),
    [
        ({"action": "accept_some"}, "action"),
        ({"action": None}, "action"),
        ({"action": "accept_terms"}, "action"),  # only the form writes those
        ({"surface": "form"}, "surface"),
        ({"purposes": ["analytics"]}, "purposes"),
        ({"purposes": {"analytics": "yes"}}, "purposes.analytics"),
        ({"purposes": {"analytics": 1}}, "purposes.analytics"),
        ({"language": "english please"}, "language"),
        ({"widget_version": "v" * 65}, "widget_version"),
        ({"visitor_id": "<script>x</script>"}, "visitor_id"),
        ({"visitor_id": "abcdefgh\n"}, "visitor_id"),
        ({"visitor_id": ""}, "visitor_id"),
        ({"visitor_id": "x" * 129}, "visitor_id"),
        ({"visitor_id": "two words"}, "visitor_id"),
        ({"event_id": 12345}, "event_id"),
        ({"policy_version": 0}, "policy_version"),
        ({"page_url": None}, "page_url"),
        ({"receipt": "v1.forged"}, "receipt"),
        ({"gpc": 1}, "gpc"),
    ],
)
async def test_consent_validation(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    changes: dict[str, Any],
    error_field: str,
) -> None:
    r = await post(client, tenant.site_key, "consents", consent_body(tenant, **changes))
    assert r.status == 422, await r.text()
    problem = await r.json()
    assert problem["type"].endswith("/validation-error")
    assert list(problem["errors"]) == [error_field]
    assert await records(db, tenant) == []


@pytest.mark.parametrize(
    "visitor_id", ["v1", "a", "visitor-1", "3f2b8c1e-9d4a-4b7e-8f00-1a2b3c4d5e6f", "x" * 128]
)
async def test_any_plain_visitor_id_is_kept(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, visitor_id: str
) -> None:
    # The contract leaves the visitor id's form to the client; the widget's own is a UUID.
    r = await post(client, tenant.site_key, "consents", consent_body(tenant, visitor_id=visitor_id))
    assert r.status == 201, await r.text()
    [row] = await records(db, tenant)
    assert row["visitor_id"] == visitor_id


@pytest.mark.parametrize(
    "missing", ["event_id", "visitor_id", "policy_version", "action", "page_url"]
)
async def test_required_consent_fields(
    client: TestClient[Any, Any], tenant: Tenant, missing: str
) -> None:
    body = consent_body(tenant)
    del body[missing]
    r = await post(client, tenant.site_key, "consents", body)
    assert r.status == 422
    assert (await r.json())["errors"] == {missing: ["Missing data for required field."]}
