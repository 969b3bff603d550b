"""Sites through the merchant API: create, read, list, change (validated as a whole), disable."""

from __future__ import annotations

import io
import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, Tenant
from tests.merchant_support import read_only_key
from widget_server.domain.defaults import DEFAULT_THEME, default_form

Client = TestClient[Any, Any]
HOSTILE = (
    '<script>alert(1)</script> "\'; DROP TABLE sites; -- =HYPERLINK("x") \u202e\x07 é\u0301 🍰'
)


def site_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Bakery", "allowed_origins": ["https://bakery.example"]}
    body.update(changes)
    return body


async def create(client: Client, tenant: Tenant, **changes: Any) -> dict[str, Any]:
    r = await client.post("/v1/sites", json=site_body(**changes), headers=tenant.auth)
    assert r.status == 201, await r.text()
    data: dict[str, Any] = await r.json()
    return data


async def problem(
    client: Client, method: str, path: str, tenant: Tenant, status: int, **kwargs: Any
) -> Any:
    r = await client.request(
        method, path, headers={**tenant.auth, **kwargs.pop("headers", {})}, **kwargs
    )
    assert r.status == status, await r.text()
    assert r.headers["Content-Type"].startswith("application/problem+json")
    return await r.json()


async def test_create_gives_defaults_and_snippet(client: Client, tenant: Tenant) -> None:
    site = await create(client, tenant)
    assert site["site_key"].startswith("st_")
    assert site["allowed_origins"] == ["https://bakery.example"]
    assert site["default_locale"] == "en"
    assert site["time_zone"] == "UTC"
    assert [f["name"] for f in site["form"]["fields"]] == ["name", "email", "phone", "message"]
    assert site["form"]["marketing_opt_in"]["label"]["en"]
    assert [p["key"] for p in site["purposes"]] == ["necessary", "analytics", "marketing"]
    assert site["theme"] == DEFAULT_THEME
    assert site["policy_version"] is None
    assert site["disabled_at"] is None
    assert site["created_at"].endswith("Z")
    assert site["updated_at"].endswith("Z")
    assert site["snippet"] == (
        f'<script async src="http://widgets.test/widget.js" data-site="{site["site_key"]}"></script>'
    )
    assert site["policy_url"] == f"http://widgets.test/policy/{site['site_key']}"
    r = await client.get(f"/v1/sites/{site['site_key']}", headers=tenant.auth)
    assert r.status == 200
    assert await r.json() == site
    assert r.headers["Cache-Control"] == "no-store"


async def test_origins_are_normalised_and_deduplicated(client: Client, tenant: Tenant) -> None:
    site = await create(
        client,
        tenant,
        allowed_origins=[
            "HTTPS://Shop.Example:443/",
            "https://shop.example",
            "http://[::1]:8080",
            "http://LOCALHOST:80",
        ],
    )
    assert site["allowed_origins"] == [
        "https://shop.example",
        "http://[::1]:8080",
        "http://localhost",
    ]


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example/path",
        "https://shop.example?x=1",
        "https://shop.example#top",
        "https://user:pw@shop.example",
        "https://*.shop.example",
        "*",
        "ftp://shop.example",
        "shop.example",
        "https://",
        "https://shop.example:99999",
        "",
    ],
)
async def test_bad_origins_are_422(client: Client, tenant: Tenant, origin: str) -> None:
    body = await problem(
        client, "POST", "/v1/sites", tenant, 422, json=site_body(allowed_origins=[origin])
    )
    assert list(body["errors"]) == ["allowed_origins.0"]


async def test_custom_form_purposes_texts_theme(client: Client, tenant: Tenant) -> None:
    form = {
        "fields": [
            {"name": "email", "type": "email", "label": "E-mail", "required": True},
            {
                "name": "topic",
                "type": "select",
                "label": {"en": "Topic", "de": "Thema"},
                "options": ["Cakes", "Bread"],
            },
            {
                "name": "size",
                "type": "select",
                "label": "Size",
                "options": [{"value": "s", "label": {"en": "Small"}}],
            },
            {"name": "agree", "type": "checkbox", "label": "I am over 16", "required": True},
            {"name": "note", "type": "textarea", "label": "Note", "max_length": 10000},
        ],
        "marketing_opt_in": {"label": "News, please"},
    }
    site = await create(
        client,
        tenant,
        form=form,
        purposes=[{"key": "analytics"}, {"key": "video", "label": "Videos", "description": ""}],
        texts={"EN-gb": {"accept_all": "Accept everything"}},
        theme={"accent": "#000"},
        default_locale="de-ch",
        time_zone="Europe/Berlin",
        consent_expiry_days=180,
        retention_days=30,
        store_user_agent=False,
    )
    fields = site["form"]["fields"]
    # One table of types: a checkbox has no length, whoever reads the form.
    assert [f.get("max_length") for f in fields] == [254, 200, 200, None, 10000]
    assert "max_length" not in fields[3]
    assert fields[0]["required"] is True
    assert fields[1]["required"] is False
    assert [p["key"] for p in site["purposes"]] == ["necessary", "analytics", "video"]
    assert site["purposes"][0]["required"] is True
    assert site["purposes"][1]["label"]["en"] == "Analytics"
    assert site["texts"] == {"en-GB": {"accept_all": "Accept everything"}}
    assert site["theme"] == {**DEFAULT_THEME, "accent": "#000"}
    assert site["default_locale"] == "de-CH"
    assert site["time_zone"] == "Europe/Berlin"
    assert (site["consent_expiry_days"], site["retention_days"], site["store_user_agent"]) == (
        180,
        30,
        False,
    )


FIELD = {"name": "topic", "type": "text", "label": "Topic"}


@pytest.mark.parametrize(
    ("form", "where"),
    [
        ({"fields": []}, "form.fields"),
        ({"fields": [FIELD, FIELD]}, "form.fields"),
        ({"fields": [{**FIELD, "type": "color"}]}, "form.fields.0.type"),
        ({"fields": [{**FIELD, "label": ""}]}, "form.fields.0.label"),
        ({"fields": [{**FIELD, "label": "   "}]}, "form.fields.0.label"),
        ({"fields": [{**FIELD, "label": {}}]}, "form.fields.0.label"),
        ({"fields": [{**FIELD, "label": {"en": ""}}]}, "form.fields.0.label"),
        ({"fields": [{**FIELD, "label": {"not a tag!": "x"}}]}, "form.fields.0.label"),
        ({"fields": [{**FIELD, "name": "hp"}]}, "form.fields.0.name"),
        ({"fields": [{**FIELD, "name": "Topic"}]}, "form.fields.0.name"),
        ({"fields": [{**FIELD, "name": "a" * 41}]}, "form.fields.0.name"),
        ({"fields": [{**FIELD, "max_length": 0}]}, "form.fields.0.max_length"),
        ({"fields": [{**FIELD, "max_length": 10001}]}, "form.fields.0.max_length"),
        ({"fields": [{**FIELD, "max_length": "50"}]}, "form.fields.0.max_length"),
        ({"fields": [{**FIELD, "required": "yes"}]}, "form.fields.0.required"),
        ({"fields": [{**FIELD, "type": "select"}]}, "form.fields.0.options"),
        ({"fields": [{**FIELD, "type": "select", "options": []}]}, "form.fields.0.options"),
        ({"fields": [{**FIELD, "type": "select", "options": ["a", "a"]}]}, "form.fields.0.options"),
        ({"fields": [{**FIELD, "options": ["a"]}]}, "form.fields.0.options"),
        ({"fields": [{**FIELD, "placeholder": "x"}]}, "form.fields.0.placeholder"),
        ({"fields": [{"name": "email", "type": "text", "label": "E-mail"}]}, "form.fields.0.type"),
        ({"fields": [FIELD], "marketing_opt_in": {"label": "News"}}, "form.marketing_opt_in"),
        ({"fields": [FIELD], "marketing_opt_in": {"label": ""}}, "form.marketing_opt_in.label"),
    ],
)
async def test_bad_forms_are_422(
    client: Client, tenant: Tenant, form: dict[str, Any], where: str
) -> None:
    body = await problem(client, "POST", "/v1/sites", tenant, 422, json=site_body(form=form))
    assert where in body["errors"], body["errors"]


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 5}, "name"),
        ({"allowed_origins": "https://shop.example"}, "allowed_origins"),
        ({"default_locale": "english please"}, "default_locale"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"purposes": [{"key": "necessary", "required": False}]}, "purposes.0.required"),
        ({"purposes": [{"key": "video"}]}, "purposes.0.label"),
        ({"purposes": [{"key": "analytics"}, {"key": "analytics"}]}, "purposes"),
        ({"texts": {"en": {"no_such_text": "x"}}}, "texts"),
        ({"texts": {"en": {"accept_all": ""}}}, "texts"),
        ({"theme": {"accent": "red"}}, "theme.accent"),
        ({"theme": {"border": "#000000"}}, "theme.border"),
        ({"consent_expiry_days": 0}, "consent_expiry_days"),
        ({"retention_days": 1.5}, "retention_days"),
        ({"store_user_agent": "false"}, "store_user_agent"),
        ({"site_key": "st_mine"}, "site_key"),
        ({"unknown": 1}, "unknown"),
    ],
)
async def test_bad_sites_are_422(
    client: Client, tenant: Tenant, changes: dict[str, Any], where: str
) -> None:
    body = await problem(client, "POST", "/v1/sites", tenant, 422, json=site_body(**changes))
    assert body["status"] == 422
    assert where in body["errors"], body["errors"]


async def test_required_fields_and_body_errors(client: Client, tenant: Tenant) -> None:
    body = await problem(client, "POST", "/v1/sites", tenant, 422, json={})
    assert set(body["errors"]) == {"name"}
    await problem(client, "POST", "/v1/sites", tenant, 422, json=[1, 2])
    await problem(
        client,
        "POST",
        "/v1/sites",
        tenant,
        400,
        data=b'{"name": ',
        headers={"Content-Type": "application/json"},
    )
    await problem(
        client,
        "POST",
        "/v1/sites",
        tenant,
        400,
        data=b"",
        headers={"Content-Type": "application/json"},
    )
    await problem(
        client,
        "POST",
        "/v1/sites",
        tenant,
        415,
        data=b"name=x",
        headers={"Content-Type": "text/plain"},
    )
    big = io.BytesIO(json.dumps(site_body(name="x" * (1024 * 1024 + 1))).encode())
    await problem(
        client,
        "POST",
        "/v1/sites",
        tenant,
        413,
        data=big,
        headers={"Content-Type": "application/json"},
    )


async def test_hostile_strings_are_stored_verbatim(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    form = {
        "fields": [{"name": "email", "type": "email", "label": HOSTILE}],
        "marketing_opt_in": {"label": HOSTILE},
    }
    site = await create(client, tenant, name=HOSTILE, form=form)
    assert site["name"] == HOSTILE
    assert site["form"]["fields"][0]["label"] == HOSTILE
    stored = await db.fetchrow("SELECT name, form FROM sites WHERE site_key = $1", site["site_key"])
    assert stored is not None
    assert stored["name"] == HOSTILE
    assert stored["form"]["marketing_opt_in"]["label"] == HOSTILE


@pytest.mark.parametrize("text", ["a\u0000b", "\ud800"])
async def test_text_postgres_cannot_hold_is_422(client: Client, tenant: Tenant, text: str) -> None:
    raw = json.dumps(site_body(name=text)).encode()  # json.dumps escapes both as \u sequences
    body = await problem(
        client,
        "POST",
        "/v1/sites",
        tenant,
        422,
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert "name" in body["errors"]
    r = await client.get("/v1/sites", params={"cursor": text}, headers=tenant.auth)
    assert r.status == 422


async def test_patch_is_partial_and_validated_as_a_whole(client: Client, tenant: Tenant) -> None:
    site = await create(client, tenant)
    path = f"/v1/sites/{site['site_key']}"
    r = await client.patch(
        path, json={"name": "Bakery & Café", "theme": {"text": "#222"}}, headers=tenant.auth
    )
    assert r.status == 200, await r.text()
    changed = await r.json()
    assert changed["name"] == "Bakery & Café"
    assert changed["theme"] == {**DEFAULT_THEME, "text": "#222"}
    assert changed["form"] == site["form"]
    assert changed["allowed_origins"] == site["allowed_origins"]
    assert changed["updated_at"] > site["updated_at"]
    # Taking the email field away while the opt-in stays is caught by the whole-site check.
    only_name = {
        "fields": [{"name": "name", "type": "text", "label": "Name"}],
        "marketing_opt_in": {"label": "x"},
    }
    body = await problem(client, "PATCH", path, tenant, 422, json={"form": only_name})
    assert "form.marketing_opt_in" in body["errors"]
    await problem(
        client, "PATCH", path, tenant, 422, json={"allowed_origins": ["https://a.example/x"]}
    )
    await problem(client, "PATCH", path, tenant, 422, json={"name": None})
    await problem(client, "PATCH", path, tenant, 422, json=["name"])
    await problem(client, "PATCH", path, tenant, 422, json={"created_at": "2020-01-01T00:00:00Z"})
    r = await client.get(path, headers=tenant.auth)
    assert (await r.json())["name"] == "Bakery & Café"
    r = await client.patch(path, json={}, headers=tenant.auth)
    assert r.status == 200


async def test_delete_disables_and_the_widget_api_then_404s(client: Client, tenant: Tenant) -> None:
    path = f"/v1/widget/{tenant.site_key}/config"
    assert (await client.get(path)).status == 200
    r = await client.delete(f"/v1/sites/{tenant.site_key}", headers=tenant.auth)
    assert r.status == 204
    assert (await client.get(path)).status == 404
    r = await client.get(f"/v1/sites/{tenant.site_key}", headers=tenant.auth)
    assert (await r.json())["disabled_at"].endswith("Z")
    # Deleting again changes nothing and says the same.
    assert (await client.delete(f"/v1/sites/{tenant.site_key}", headers=tenant.auth)).status == 204
    assert (await client.delete("/v1/sites/st_nonexistent", headers=tenant.auth)).status == 404


async def test_list_pages_newest_first(client: Client, tenant: Tenant) -> None:
    made = [(await create(client, tenant, name=f"Site {i}"))["site_key"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        r = await client.get("/v1/sites", params=params, headers=tenant.auth)
        assert r.status == 200
        page = await r.json()
        assert len(page["data"]) <= 2
        seen += [s["site_key"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [*reversed(made), tenant.site_key]


async def test_default_form_matches_the_contract(client: Client, tenant: Tenant) -> None:
    site = await create(client, tenant)
    assert site["form"] == json.loads(json.dumps(default_form()))


async def test_created_site_works_for_the_widget(client: Client, tenant: Tenant) -> None:
    site = await create(client, tenant, allowed_origins=[HOST_ORIGIN])
    r = await client.post(
        f"/v1/sites/{site['site_key']}/policies",
        json={"title": "Terms", "body": "Text", "language": "en"},
        headers=tenant.auth,
    )
    assert r.status == 201
    r = await client.get(f"/v1/widget/{site['site_key']}/config")
    assert r.status == 200
    config = await r.json()
    assert config["policy"]["version"] == 1
    assert [f["name"] for f in config["form"]["fields"]] == ["name", "email", "phone", "message"]


async def test_read_only_key_cannot_create(
    client: Client, tenant: Tenant, db: asyncpg.Connection
) -> None:
    key = await read_only_key(db, tenant)
    r = await client.post("/v1/sites", json=site_body(), headers={"Authorization": f"Bearer {key}"})
    assert r.status == 403
    assert (
        await db.fetchval("SELECT count(*) FROM sites WHERE merchant_id = $1", tenant.merchant_id)
        == 1
    )


async def test_a_site_needs_only_a_name(client: Client, tenant: Tenant) -> None:
    r = await client.post("/v1/sites", json={"name": "Bare"}, headers=tenant.auth)
    assert r.status == 201, await r.text()
    site = await r.json()
    assert site["allowed_origins"] == []
    assert site["default_locale"] == "en"
    # Without origins the widget may read the config, but no page can write.
    w = await client.post(
        f"/v1/widget/{site['site_key']}/events",
        json={"type": "pageview", "url": "https://shop.example/", "referrer": ""},
        headers={"Origin": "https://shop.example"},
    )
    assert w.status == 403


async def test_a_checkbox_has_no_length_and_the_widget_reads_the_same_table(
    client: TestClient[Any, Any], tenant: Tenant
) -> None:
    form = {
        "fields": [
            {"name": "email", "type": "email", "label": "E-mail", "required": True},
            {"name": "ok", "type": "checkbox", "label": "OK", "max_length": 5},
        ]
    }
    r = await client.post("/v1/sites", json={"name": "S", "form": form}, headers=tenant.auth)
    assert r.status == 422
    assert (await r.json())["errors"] == {"form.fields.1.max_length": ["A checkbox has no length."]}
    del form["fields"][1]["max_length"]
    form["fields"].append({"name": "note", "type": "textarea", "label": "Note"})
    r = await client.post(
        "/v1/sites",
        json={"name": "S", "form": form, "allowed_origins": ["https://shop.example"]},
        headers=tenant.auth,
    )
    assert r.status == 201, await r.text()
    key = (await r.json())["site_key"]
    config = await (await client.get(f"/v1/widget/{key}/config")).json()
    shown = {f["name"]: f["max_length"] for f in config["form"]["fields"]}
    assert shown == {"email": 254, "ok": None, "note": 5000}


async def test_a_theme_that_hides_text_is_refused(
    client: TestClient[Any, Any], tenant: Tenant
) -> None:
    r = await client.post(
        "/v1/sites",
        json={"name": "Grey", "theme": {"background": "#ffffff", "text": "#eeeeee"}},
        headers=tenant.auth,
    )
    assert r.status == 422
    assert list((await r.json())["errors"]) == ["theme.text"]
    r = await client.post(
        "/v1/sites", json={"name": "Dark", "theme": {"accent": "#000"}}, headers=tenant.auth
    )
    assert r.status == 201, await r.text()
