"""The OpenAPI document and /docs: valid 3.1, every route described, real answers conform, renders offline."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import jsonschema_rs
from aiohttp.test_utils import TestClient
from schemathesis.specs.openapi.definitions import OPENAPI_31

from tests.conftest import Tenant
from tests.merchant_support import consent_record, insert_request
from widget_server.web.merchant import ROUTES as OPERATIONS

Client = TestClient[Any, Any]
UNDOCUMENTED = re.compile(
    r"^/docs/|^/widget\.[^/]+\.js$"
)  # the docs' own assets; pinned script copies


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


async def test_every_route_is_described(client: Client) -> None:
    doc = await document(client)
    registered = set()
    for resource in client.app.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter") or ""
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)  # aiohttp regex placeholders -> plain ones
        if UNDOCUMENTED.match(path):
            continue
        for route in resource:
            if route.method not in ("OPTIONS", "HEAD"):
                registered.add((route.method.lower(), path))
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert registered <= documented, registered - documented
    merchant = {(op.method.lower(), op.path) for op in OPERATIONS}
    assert merchant <= registered
    widget = {("get", "/v1/widget/{site_key}/config"), ("post", "/v1/widget/{site_key}/consents")}
    assert widget | {("get", "/widget.js"), ("get", "/healthz"), ("get", "/readyz")} <= documented


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
