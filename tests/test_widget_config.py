"""GET /v1/widget/SITE_KEY/config: shape, languages, ETag, and a cache that follows changes."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import brotli
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.dbutil import publish
from widget_server.domain.texts import DEFAULT_TEXTS
from widget_server.services import policies

FORM = {
    "fields": [
        {
            "name": "name",
            "type": "text",
            "label": {"en": "Your name", "de": "Ihr Name"},
            "required": True,
            "max_length": 80,
        },
        {
            "name": "plan",
            "type": "select",
            "label": "Plan",
            "required": False,
            "options": [{"value": "pro", "label": {"en": "Pro", "de": "Profi"}}, "basic"],
        },
    ],
    "marketing_opt_in": None,
}


async def config(client: TestClient[Any, Any], site_key: str, **params: str) -> Any:
    r = await client.get(f"/v1/widget/{site_key}/config", params=params)
    assert r.status == 200, await r.text()
    return await r.json()


async def test_default_site_config_has_the_contract_shape(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    r = await client.get(f"/v1/widget/{tenant.site_key}/config")
    assert r.status == 200
    assert r.content_type == "application/json"
    body = await r.json()
    assert set(body) == {
        "site_key",
        "name",
        "locale",
        "policy",
        "purposes",
        "form",
        "texts",
        "theme",
        "consent_expiry_days",
        "stats_mode",
    }
    assert body["stats_mode"] == "always"
    assert (body["site_key"], body["name"], body["locale"]) == (tenant.site_key, "Alpha site", "en")
    policy = await policies.current_policy(db, tenant.site_id)
    assert policy is not None
    assert body["policy"] == {
        "version": 1,
        "title": "Terms and privacy",
        "body": "We keep what you send us.\n\nNothing else.",
        "summary": "We keep what you send us.",
        "text": "We keep what you send us.\n\nNothing else.",
        "language": "en",
        "url": f"http://widgets.test/policy/{tenant.site_key}",
        "sha256": policy["sha256"],
        "published_at": policy["published_at"]
        .isoformat(timespec="microseconds")
        .replace("+00:00", "Z"),
    }
    assert body["purposes"][0] == {
        "key": "necessary",
        "label": "Necessary",
        "description": "Needed for the site to work. Always on.",
        "required": True,
    }
    assert [p["key"] for p in body["purposes"]] == ["necessary", "analytics", "marketing"]
    assert [(f["name"], f["type"], f["required"]) for f in body["form"]["fields"]] == [
        ("name", "text", True),
        ("email", "email", True),
        ("phone", "tel", False),
        ("message", "textarea", True),
    ]
    assert body["form"]["fields"][1]["label"] == "E-mail"
    assert body["form"]["marketing_opt_in"] == {"label": DEFAULT_TEXTS["en"]["marketing_opt_in"]}
    assert body["texts"]["accept_all"] == "Accept all"
    assert body["consent_expiry_days"] == 365
    assert body["theme"]["accent"]


async def test_languages_fall_back_to_the_site_default_then_english(
    client: TestClient[Any, Any], make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    t = await make_tenant(
        "Lang",
        default_locale="fr",
        form=FORM,
        texts={"de": {"accept_all": "Alles klar"}, "fr": {"send": "Expédier"}},
    )
    de = await config(client, t.site_key, lang="de-AT")
    assert de["locale"] == "de"
    assert de["texts"]["accept_all"] == "Alles klar"
    assert de["texts"]["reject_all"] == "Alle ablehnen"
    assert de["purposes"][1]["label"] == "Statistik"
    assert de["form"]["fields"][0]["label"] == "Ihr Name"
    assert de["form"]["fields"][1]["options"] == [
        {"value": "pro", "label": "Profi"},
        {"value": "basic", "label": "basic"},
    ]
    assert de["form"]["marketing_opt_in"] is None
    # Unknown language: the site's default (French); its labels missing a French text: English.
    xx = await config(client, t.site_key, lang="xx")
    assert xx["locale"] == "fr"
    assert xx["texts"]["send"] == "Expédier"
    assert xx["texts"]["accept_all"] == "Tout accepter"
    assert xx["form"]["fields"][0]["label"] == "Your name"
    assert (await config(client, t.site_key, lang="<script>"))["locale"] == "fr"
    assert (await config(client, t.site_key))["locale"] == "fr"


async def test_site_without_policy_has_policy_null(
    client: TestClient[Any, Any], make_tenant: Callable[..., Awaitable[Tenant]]
) -> None:
    t = await make_tenant("NoPolicy", policy=False)
    assert (await config(client, t.site_key))["policy"] is None


async def test_summary_is_plain_text_of_the_first_paragraph(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    body = "# Heading\n\nWe **keep** what you [send](https://x.example) us,\nand `nothing` else.\n\nMore."
    await publish(db, tenant.site_id, title="T", body=body, language="en")
    got = await config(client, tenant.site_key)
    assert got["policy"]["summary"] == "We keep what you send us, and nothing else."
    assert got["policy"]["body"] == body


async def test_text_is_the_policy_without_markdown_syntax(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    # The widget's full-text view shows `text` with textContent only: no syntax may be left.
    body = (
        "# Terms\n\nWe **keep** what you [send](https://x.example) us,\nand `nothing` else.\n\n"
        "## What we *store*\n\n- Your choices\n- Visit counts\n\n3. three\n4. four\n\n"
        "> Quoted ___words___.\n\n---\n\n```\nx = 1\n```\n\n<b>not html</b> ![logo](l.png)"
    )
    await publish(db, tenant.site_id, title="Terms", body=body, language="en")
    got = (await config(client, tenant.site_key))["policy"]
    assert got["body"] == body
    assert got["text"] == (
        # The heading that repeats the title is left out; other headings are paragraphs.
        "We keep what you send us, and nothing else.\n\nWhat we store\n\n"
        "• Your choices\n\n• Visit counts\n\n3. three\n\n4. four\n\nQuoted words.\n\n"
        "x = 1\n\n<b>not html</b> logo"
    )
    await publish(db, tenant.site_id, title="Other", body="# Terms\n\nA", language="en")
    assert (await config(client, tenant.site_key))["policy"]["text"] == "Terms\n\nA"


async def test_unknown_and_disabled_sites_are_404(
    client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    for key in ("st_00000000000000000000", "../../etc/passwd", "x" * 300):
        r = await client.get(f"/v1/widget/{key}/config")
        assert r.status == 404
    await db.execute("UPDATE sites SET disabled_at = now() WHERE site_id = $1", tenant.site_id)
    r = await client.get(f"/v1/widget/{tenant.site_key}/config")
    assert r.status == 404
    assert r.content_type == "application/problem+json"


async def test_etag_and_304(client: TestClient[Any, Any], tenant: Tenant) -> None:
    url = f"/v1/widget/{tenant.site_key}/config"
    r = await client.get(url)
    etag = r.headers["ETag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert "max-age=" in r.headers["Cache-Control"]
    assert "public" in r.headers["Cache-Control"]
    for sent in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        r = await client.get(url, headers={"If-None-Match": sent})
        assert r.status == 304, sent
        assert r.headers["ETag"] == etag
        assert await r.read() == b""
    r = await client.get(url, headers={"If-None-Match": '"something-else"'})
    assert r.status == 200
    # Another language is another representation, with another tag.
    r = await client.get(url, params={"lang": "de"})
    assert r.headers["ETag"] != etag


@pytest.mark.parametrize(
    ("accept", "coding"), [("gzip, deflate, br", "br"), ("gzip", "gzip"), ("identity", None)]
)
async def test_config_is_compressed_and_keeps_its_etag(
    client: TestClient[Any, Any], tenant: Tenant, accept: str, coding: str | None
) -> None:
    url = f"/v1/widget/{tenant.site_key}/config"
    plain = await client.get(url, headers={"Accept-Encoding": "identity"}, auto_decompress=False)
    body = await plain.read()
    r = await client.get(url, headers={"Accept-Encoding": accept}, auto_decompress=False)
    assert r.status == 200
    assert r.headers.get("Content-Encoding") == coding
    assert r.headers["ETag"] == plain.headers["ETag"]
    assert [v.strip() for v in r.headers["Vary"].split(",")] == ["Accept-Encoding", "Origin"]
    sent = await r.read()
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](sent)
    assert decoded == body
    if coding is not None:
        assert len(sent) * 2 < len(body)
    r = await client.get(
        url, headers={"Accept-Encoding": accept, "If-None-Match": plain.headers["ETag"]}
    )
    assert r.status == 304


async def test_theme_pairs_without_enough_contrast_fall_back_to_the_defaults(
    client: TestClient[Any, Any],
    make_tenant: Callable[..., Awaitable[Tenant]],
    db: asyncpg.Connection,
) -> None:
    # The widget trusts the theme it gets: the server keeps each pair readable (WCAG AA), also
    # for a theme stored before the API refused unreadable ones (written here directly).
    low = {"accent": "#777777", "accent_text": "#888", "background": "#000", "text": "#fff"}
    t = await make_tenant("Theme")
    await db.execute("UPDATE sites SET theme = $2 WHERE site_id = $1", t.site_id, low)
    theme = (await config(client, t.site_key))["theme"]
    assert theme == {
        "accent": "#1d4ed8",
        "accent_text": "#ffffff",
        "background": "#000",
        "text": "#fff",
    }


async def test_fields_carry_their_autocomplete(
    client: TestClient[Any, Any], tenant: Tenant
) -> None:
    fields = (await config(client, tenant.site_key))["form"]["fields"]
    assert [(f["name"], f["autocomplete"]) for f in fields] == [
        ("name", "name"),
        ("email", "email"),
        ("phone", "tel"),
        ("message", None),
    ]


async def wait_for_change(
    client: TestClient[Any, Any], url: str, old: str, attempts: int = 400
) -> dict[str, Any]:
    """Notifications arrive asynchronously: ask again until the answer changes (or give up)."""
    for _ in range(attempts):
        r = await client.get(url)
        if r.headers["ETag"] != old:
            body: dict[str, Any] = await r.json()
            return body
        await asyncio.sleep(0.025)
    raise AssertionError("the cached config never changed")


@pytest.fixture
async def long_cache_client(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
) -> TestClient[Any, Any]:
    # An hour-long TTL: only a notification can make the next answer differ.
    return await aiohttp_client(make_app(config_cache_seconds=3600.0))


async def test_cache_follows_policy_and_site_changes_made_elsewhere(
    long_cache_client: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant
) -> None:
    client = long_cache_client
    url = f"/v1/widget/{tenant.site_key}/config"
    first = await client.get(url)
    assert (await first.json())["policy"]["version"] == 1

    # Without triggers (replication role), a change is invisible: the answer really is cached.
    await db.execute("SET session_replication_role = replica")
    try:
        await db.execute("UPDATE sites SET name = 'Renamed' WHERE site_id = $1", tenant.site_id)
    finally:
        await db.execute("SET session_replication_role = DEFAULT")
    r = await client.get(url)
    assert (await r.json())["name"] == "Alpha site"
    assert r.headers["ETag"] == first.headers["ETag"]

    # Publishing through the queries on another connection notifies every process.
    await publish(db, tenant.site_id, title="Second", body="New text.", language="en")
    changed = await wait_for_change(client, url, first.headers["ETag"])
    assert changed["policy"]["version"] == 2
    assert changed["policy"]["title"] == "Second"
    assert changed["name"] == "Renamed"

    # A site update notifies too: disabling makes it 404.
    await db.execute("UPDATE sites SET disabled_at = now() WHERE site_id = $1", tenant.site_id)
    for _ in range(400):
        r = await client.get(url)
        if r.status == 404:
            break
        await asyncio.sleep(0.025)
    assert r.status == 404


async def test_ttl_is_a_safety_net(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
    tenant: Tenant,
) -> None:
    client = await aiohttp_client(make_app(config_cache_seconds=0.05))
    url = f"/v1/widget/{tenant.site_key}/config"
    await client.get(url)
    await db.execute("SET session_replication_role = replica")
    try:
        await db.execute("UPDATE sites SET name = 'Silent' WHERE site_id = $1", tenant.site_id)
    finally:
        await db.execute("SET session_replication_role = DEFAULT")
    await asyncio.sleep(0.1)
    assert (await (await client.get(url)).json())["name"] == "Silent"
