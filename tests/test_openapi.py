"""The OpenAPI document and /docs: valid 3.1, every route described, real answers conform, renders offline."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import jsonschema_rs
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.conftest import Tenant
from tests.merchant_support import consent_record, insert_request
from tests.widget_support import beacon_body, consent_body, post, request_body
from widget_server.web.merchant import ROUTES as OPERATIONS

Client = TestClient[Any, Any]


async def document(client: Client) -> dict[str, Any]:
    r = await client.get("/openapi.json")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("application/json")
    data: dict[str, Any] = await r.json()
    return data


def conforms(doc: dict[str, Any], schema: dict[str, Any], instance: Any) -> None:
    """Validate against a schema of the document, its $refs resolved within the document."""
    validator = jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]})
    errors = [str(e) for e in validator.iter_errors(instance)]
    assert not errors, errors


def response_schema(
    doc: dict[str, Any], path: str, method: str, status: str = "200"
) -> dict[str, Any]:
    schema: dict[str, Any] = doc["paths"][path][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    return schema


async def test_document_is_valid_openapi_3_1(client: Client) -> None:
    doc = await document(client)
    assert doc["openapi"] == "3.1.0"
    errors = [str(e) for e in jsonschema_rs.Draft202012Validator(OPENAPI_31).iter_errors(doc)]
    assert not errors, errors[:5]


def registered_routes(client: Client) -> set[tuple[str, str]]:
    """(method, path) of every route the router has, HEAD aside (it comes with GET)."""
    found = set()
    for resource in client.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or ""
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)  # aiohttp regex placeholders -> plain ones
        for route in resource:
            if route.method != "HEAD":
                found.add((route.method.lower(), path))
    return found


async def test_every_route_is_documented_and_every_documented_route_exists(
    client: Client,
) -> None:
    doc = await document(client)
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    registered = registered_routes(client)
    assert registered - documented == set()
    assert documented - registered == set()
    # The table holds what the product is: both APIs, the pages, health and the script.
    for needed in [
        ("get", "/widget.js"),
        ("get", "/v1/widget/{site_key}/config"),
        ("post", "/v1/widget/{site_key}/consents"),
        ("options", "/v1/widget/{site_key}/consents"),
        ("post", "/u/{token}"),
        ("get", "/policy/{site_key}/{version}"),
        ("get", "/healthz"),
    ]:
        assert needed in registered
    assert {(op.method.lower(), op.path) for op in OPERATIONS} <= registered


async def test_auth_errors_and_pagination_are_described(client: Client) -> None:
    doc = await document(client)
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "wsk_…",
        "description": "A merchant API key.",
    }
    for op in OPERATIONS:
        entry = doc["paths"][op.path][op.method.lower()]
        responses = entry["responses"]
        assert str(op.status) in responses
        if op.access != "key":
            assert entry["security"] == []
            continue
        assert entry["security"] == [{"bearer": []}]
        assert responses["401"] == {"$ref": "#/components/responses/Unauthorized"}
        assert ("403" in responses) == op.writes
        if "{" in op.path:
            assert "404" in responses
        names = {p["name"] for p in entry["parameters"]}
        if (
            op.path.endswith(("/requests", "/consents", "/policies", "/v1/sites", "/v1/api-keys"))
            and op.method == "GET"
        ):
            assert {"limit", "cursor"} <= names
    for name, response in doc["components"]["responses"].items():
        content = response["content"]["application/problem+json"]
        conforms(doc, content["schema"], content["example"])
        assert content["example"]["status"] in (400, 401, 403, 404, 409, 413, 415, 422, 429, 503), (
            name
        )
    assert doc["components"]["responses"]["RateLimited"]["headers"]["Retry-After"]


async def test_real_answers_conform(client: Client, db: asyncpg.Connection, tenant: Tenant) -> None:
    doc = await document(client)
    await insert_request(db, tenant)
    await consent_record(db, tenant)
    checks = [
        ("/v1/sites", "get"),
        ("/v1/sites/{site_key}", "get"),
        ("/v1/sites/{site_key}/policies", "get"),
        ("/v1/sites/{site_key}/requests", "get"),
        ("/v1/sites/{site_key}/consents", "get"),
        ("/v1/api-keys", "get"),
        ("/healthz", "get"),
    ]
    for path, method in checks:
        r = await client.request(method, path.format(site_key=tenant.site_key), headers=tenant.auth)
        assert r.status == 200
        conforms(doc, response_schema(doc, path, method), await r.json())
    r = await client.post(
        "/v1/sites",
        json={"name": "x", "allowed_origins": ["https://x.example"]},
        headers=tenant.auth,
    )
    conforms(doc, response_schema(doc, "/v1/sites", "post", "201"), await r.json())
    r = await client.post("/v1/api-keys", json={}, headers=tenant.auth)
    conforms(doc, response_schema(doc, "/v1/api-keys", "post", "201"), await r.json())
    r = await client.get(f"/v1/widget/{tenant.site_key}/config")
    conforms(doc, response_schema(doc, "/v1/widget/{site_key}/config", "get"), await r.json())
    problem = doc["components"]["schemas"]["Problem"]
    r = await client.post("/v1/sites", json={"allowed_origins": "x"}, headers=tenant.auth)
    conforms(doc, problem, await r.json())


async def test_docs_page_is_local_and_strict(client: Client) -> None:
    r = await client.get("/docs")
    assert r.status == 200
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert script_src.split() == ["script-src", "'self'"]
    assert "default-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    html = await r.text()
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert scripts
    assert all(body.strip() == "" for body in scripts)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert all(s.startswith("/docs/") for s in sources), sources
    for source in sources:
        asset = await client.get(source)
        assert asset.status == 200, source
    assert (
        (await client.get("/docs/static/swagger-ui-bundle.js"))
        .headers["Content-Type"]
        .startswith("text/javascript")
    )
    assert (await client.get("/docs/static/index.html")).status == 404
    assert (await client.get("/docs/static/..%2F__init__.py")).status == 404
    init = await (await client.get("/docs/init.js")).text()
    assert "validatorUrl: null" in init
    assert 'data-spec="/openapi.json"' in html


async def test_with_merchant_cors_the_preflights_are_documented_too(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
) -> None:
    client = await aiohttp_client(make_app(merchant_cors_origins=("https://admin.example",)))
    doc = await document(client)
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert documented == registered_routes(client)
    assert ("options", "/v1/sites/{site_key}") in documented


def body_schema(doc: dict[str, Any], path: str, method: str, status: str) -> dict[str, Any]:
    return response_schema(doc, path, method, status)


async def test_widget_answers_conform_to_the_document(
    client: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    """Every widget API answer, success and error, against the closed shapes documented."""
    doc = await document(client)
    base = "/v1/widget/{site_key}"
    r = await client.get(f"/v1/widget/{tenant.site_key}/config?lang=de")
    assert r.status == 200
    conforms(doc, body_schema(doc, f"{base}/config", "get", "200"), await r.json())
    for name, body in (("consents", consent_body(tenant)), ("requests", request_body(tenant))):
        first = await post(client, tenant.site_key, name, body)
        assert first.status == 201, await first.text()
        conforms(doc, body_schema(doc, f"{base}/{name}", "post", "201"), await first.json())
        again = await post(client, tenant.site_key, name, body)
        assert again.status == 200
        conforms(doc, body_schema(doc, f"{base}/{name}", "post", "200"), await again.json())
    r = await post(client, tenant.site_key, "events", beacon_body())
    assert r.status == 202
    assert "202" in doc["paths"][f"{base}/events"]["post"]["responses"]
    problem = doc["components"]["schemas"]["Problem"]
    for name, body in (
        ("consents", consent_body(tenant, policy_version=99)),
        ("requests", request_body(tenant, fields={"name": 1})),
    ):
        r = await post(client, tenant.site_key, name, body)
        assert str(r.status) in doc["paths"][f"{base}/{name}"]["post"]["responses"]
        conforms(doc, problem, await r.json())


async def test_the_config_shape_is_closed(client: Client, tenant: Tenant) -> None:
    """A member the code adds without the schema is refused by the document, not waved through."""
    doc = await document(client)
    schema = response_schema(doc, "/v1/widget/{site_key}/config", "get")
    config = await (await client.get(f"/v1/widget/{tenant.site_key}/config")).json()
    conforms(doc, schema, config)
    # The same answer with one member more (at the top, and inside the policy) does not conform.
    for bigger in (
        {**config, "surprise": True},
        {**config, "policy": {**config["policy"], "x": 1}},
    ):
        with pytest.raises(AssertionError):
            conforms(doc, schema, bigger)
