"""Public pages: the policy (safe Markdown, versions, headers) and one-click unsubscribe."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import TEST_SECRET, Tenant
from tests.dbutil import publish
from tests.widget_support import post, request_body
from widget_server.domain.tokens import (
    make_unsubscribe_token,
    read_unsubscribe_token,
    unsubscribe_url,
)

HOSTILE_BODY = """## Your data

We keep **what you send**.

<script>alert('x')</script>
<img src=x onerror=alert(1)>

[click](javascript:alert(1)) and [home](https://shop.example/)
"""


def assert_safe_headers(headers: Any) -> None:
    csp = headers["Content-Security-Policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-")
    assert "script-src" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"


async def test_current_policy_page(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await publish(db, tenant.site_id, title="Datenschutz <v2>", body=HOSTILE_BODY, language="de")
    r = await client.get(f"/policy/{tenant.site_key}")
    assert r.status == 200
    assert r.content_type == "text/html"
    assert_safe_headers(r.headers)
    html = await r.text()
    assert '<html lang="de">' in html
    assert "<title>Datenschutz &lt;v2&gt;</title>" in html
    assert "<h1>Datenschutz &lt;v2&gt;</h1>" in html
    assert "<h3>Your data</h3>" in html  # the body's headings sit below the page's h1
    assert "<strong>what you send</strong>" in html
    assert "<script" not in html
    assert "<img" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html
    assert '<a href="https://shop.example/">home</a>' in html
    # Every version, newest first, each linked and dated; the current one marked.
    links = re.findall(rf'href="/policy/{tenant.site_key}/(\d+)"', html)
    assert links == ["2", "1"]
    assert "aktuell" in html
    assert html.count("<time datetime=") == 3


async def test_earlier_version_page(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    await publish(db, tenant.site_id, title="Second", body="Two.", language="en")
    r = await client.get(f"/policy/{tenant.site_key}/1")
    assert r.status == 200
    assert_safe_headers(r.headers)
    html = await r.text()
    assert "<h1>Terms and privacy</h1>" in html
    assert "We keep what you send us." in html
    assert "This is an earlier version." in html
    assert f'href="/policy/{tenant.site_key}"' in html
    r = await client.get(f"/policy/{tenant.site_key}/2")
    html = await r.text()
    assert "<h1>Second</h1>" in html
    assert "earlier version" not in html


async def test_a_heading_that_repeats_the_title_is_not_shown_twice(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = "# Terms  and privacy\n\nWe keep it.\n\n# Terms and privacy\n\nAgain."
    await publish(db, tenant.site_id, title="Terms and privacy", body=body, language="en")
    html = await (await client.get(f"/policy/{tenant.site_key}")).text()
    article = html[html.index("<article>") : html.index("</article>")]
    assert article == ("<article>\n<p>We keep it.</p>\n<h2>Terms and privacy</h2>\n<p>Again.</p>\n")
    assert html.count("<h1>Terms and privacy</h1>") == 1
    # Any other first heading stays.
    await publish(db, tenant.site_id, title="Other", body=body, language="en")
    html = await (await client.get(f"/policy/{tenant.site_key}")).text()
    assert "<article>\n<h2>Terms  and privacy</h2>" in html


@pytest.mark.parametrize("path", ["/policy/st_unknown", "/policy/{key}/3", "/policy/{key}/0"])
async def test_missing_policy_pages_are_404(
    client: TestClient[Any, Any], tenant: Tenant, path: str
) -> None:
    r = await client.get(path.format(key=tenant.site_key))
    assert r.status == 404
    assert r.content_type == "text/html"
    assert_safe_headers(r.headers)


async def test_site_without_policy_and_disabled_site_are_404(
    client: TestClient[Any, Any],
    db: asyncpg.Connection,
    tenant: Tenant,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    bare = await make_tenant("Bare", policy=False)
    assert (await client.get(f"/policy/{bare.site_key}")).status == 404
    await db.execute("UPDATE sites SET disabled_at = now() WHERE site_id = $1", tenant.site_id)
    assert (await client.get(f"/policy/{tenant.site_key}")).status == 404


def test_tokens_carry_ids_not_the_address() -> None:
    site_id, contact_id = uuid.uuid4(), uuid.uuid4()
    token = make_unsubscribe_token(TEST_SECRET, site_id, contact_id)
    assert read_unsubscribe_token(TEST_SECRET, token) == (site_id, contact_id)
    assert read_unsubscribe_token("another-secret-" + "z" * 40, token) is None
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert read_unsubscribe_token(TEST_SECRET, flipped) is None
    assert read_unsubscribe_token(TEST_SECRET, token + "!") is None
    assert read_unsubscribe_token(TEST_SECRET, "") is None
    url = unsubscribe_url("https://w.example/", TEST_SECRET, site_id, contact_id)
    assert url == f"https://w.example/u/{token}"


async def opted_in_contact(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> asyncpg.Record:
    r = await post(client, tenant.site_key, "requests", request_body(tenant, marketing_opt_in=True))
    assert r.status == 201
    row = await db.fetchrow(
        "SELECT * FROM marketing_permissions WHERE site_id = $1", tenant.site_id
    )
    assert row is not None
    return row


async def test_one_click_unsubscribe(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    perm = await opted_in_contact(client, db, tenant)
    token = make_unsubscribe_token(TEST_SECRET, tenant.site_id, perm["contact_id"])
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"ada" not in raw.lower()
    assert "ada" not in token.lower()

    # GET (as a mail scanner would) changes nothing.
    r = await client.get(f"/u/{token}")
    assert r.status == 200
    assert_safe_headers(r.headers)
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    html = await r.text()
    assert '<form method="post">' in html
    assert "Alpha site" in html
    assert "ada@example.com" not in html.lower()
    status = await db.fetchval("SELECT status FROM marketing_permissions")
    assert status == "granted"

    r = await client.post(f"/u/{token}", data={"List-Unsubscribe": "One-Click"})
    assert r.status == 200
    assert_safe_headers(r.headers)
    row = await db.fetchrow("SELECT * FROM marketing_permissions")
    assert row is not None
    assert (row["status"], row["opt_out_source"]) == ("opted_out", "unsubscribe_link")
    first_time = row["opted_out_at"]
    assert first_time is not None

    # Again: still 200, the first opt-out's time kept; the GET page now says it is done.
    r = await client.post(f"/u/{token}")
    assert r.status == 200
    assert await db.fetchval("SELECT opted_out_at FROM marketing_permissions") == first_time
    html = await (await client.get(f"/u/{token}")).text()
    assert "<form" not in html


async def test_unsubscribe_works_for_disabled_sites(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    perm = await opted_in_contact(client, db, tenant)
    await db.execute("UPDATE sites SET disabled_at = now() WHERE site_id = $1", tenant.site_id)
    token = make_unsubscribe_token(TEST_SECRET, tenant.site_id, perm["contact_id"])
    assert (await client.post(f"/u/{token}")).status == 200
    assert await db.fetchval("SELECT status FROM marketing_permissions") == "opted_out"


async def test_invalid_tokens_are_404_and_change_nothing(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant
) -> None:
    perm = await opted_in_contact(client, db, tenant)
    forged = make_unsubscribe_token("wrong-secret-" + "q" * 40, tenant.site_id, perm["contact_id"])
    cross_site = make_unsubscribe_token(TEST_SECRET, other_tenant.site_id, perm["contact_id"])
    unknown = make_unsubscribe_token(TEST_SECRET, tenant.site_id, uuid.uuid4())
    for token in (forged, cross_site, unknown, "garbage", "x" * 200):
        for method in ("GET", "POST"):
            r = await client.request(method, f"/u/{token}")
            assert r.status == 404, (method, token)
            assert r.content_type == "text/html"
    assert await db.fetchval("SELECT status FROM marketing_permissions") == "granted"


@pytest.mark.parametrize(
    "path", ["/policy/%00", "/policy/%00/1", "/policy/a%20b", "/policy/" + "k" * 300]
)
async def test_impossible_site_keys_are_404(client: TestClient[Any, Any], path: str) -> None:
    r = await client.get(path)
    assert r.status == 404
