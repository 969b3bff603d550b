"""The app shell: problem+json for every error, request ids, access log, health checks."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from widget_server.settings import Secret
from widget_server.web.http import WIDGET_BODY_LIMIT, json_response, read_json

PROBLEM = "application/problem+json"
Client = TestClient[Any, Any]


async def _echo(request: web.Request) -> web.Response:
    return json_response({"got": await read_json(request, limit=WIDGET_BODY_LIMIT)})


async def _boom(request: web.Request) -> web.Response:
    raise RuntimeError("secret internals /etc/passwd")


@pytest.fixture
async def probe_client(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: Any,
) -> Client:
    """The real app plus two probe routes, to drive the middleware through body parsing and a crash."""
    app = make_app()
    app.router.add_post("/_probe/echo", _echo)
    app.router.add_get("/_probe/boom", _boom)
    return await aiohttp_client(app)


async def assert_problem(resp: Any, status: int) -> dict[str, Any]:
    assert resp.status == status
    assert resp.content_type == PROBLEM
    body = await resp.json(content_type=PROBLEM)
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert "Traceback" not in json.dumps(body)
    return dict(body)


async def test_unknown_path_is_problem_404(client: Client) -> None:
    await assert_problem(await client.get("/no/such/thing"), 404)


async def test_wrong_method_is_problem_405_with_allow(client: Client) -> None:
    resp = await client.delete("/healthz")
    await assert_problem(resp, 405)
    assert "GET" in resp.headers["Allow"]


async def test_malformed_json_is_400(probe_client: Client) -> None:
    resp = await probe_client.post(
        "/_probe/echo", data=b'{"a": ', headers={"Content-Type": "application/json"}
    )
    body = await assert_problem(resp, 400)
    assert "not valid JSON" in body["detail"]


async def test_nan_and_invalid_utf8_are_400(probe_client: Client) -> None:
    for raw in (b'{"a": NaN}', b'{"a": "\xff"}', b""):
        resp = await probe_client.post(
            "/_probe/echo", data=raw, headers={"Content-Type": "application/json"}
        )
        await assert_problem(resp, 400)


async def test_wrong_content_type_is_415(probe_client: Client) -> None:
    resp = await probe_client.post(
        "/_probe/echo", data=b"a=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    await assert_problem(resp, 415)


async def test_oversize_body_is_413(probe_client: Client) -> None:
    big = json.dumps({"a": "x" * (WIDGET_BODY_LIMIT + 10)}).encode()
    resp = await probe_client.post(
        "/_probe/echo", data=big, headers={"Content-Type": "application/json"}
    )
    await assert_problem(resp, 413)


async def test_oversize_chunked_body_is_413(probe_client: Client) -> None:
    async def chunks() -> Any:
        yield b'{"a": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    resp = await probe_client.post(
        "/_probe/echo", data=chunks(), headers={"Content-Type": "application/json"}
    )
    await assert_problem(resp, 413)


async def test_valid_json_passes(probe_client: Client) -> None:
    resp = await probe_client.post("/_probe/echo", json={"a": [1, "ü"]})
    assert resp.status == 200
    assert await resp.json() == {"got": {"a": [1, "ü"]}}


async def test_crash_is_500_without_internals(
    probe_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        resp = await probe_client.get("/_probe/boom")
    body = await assert_problem(resp, 500)
    assert "passwd" not in json.dumps(body)
    assert "RuntimeError" not in json.dumps(body)
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


async def test_request_id_is_returned_and_echoed(client: Client) -> None:
    resp = await client.get("/healthz")
    generated = resp.headers["X-Request-Id"]
    assert len(generated) == 32
    resp = await client.get("/healthz", headers={"X-Request-Id": "abc-12345678"})
    assert resp.headers["X-Request-Id"] == "abc-12345678"
    resp = await client.get("/healthz", headers={"X-Request-Id": "<script>"})
    assert resp.headers["X-Request-Id"] != "<script>"


async def test_one_structured_access_line_without_ip_or_query(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="widget_server.access"):
        resp = await client.get(
            "/healthz?email=someone@example.com", headers={"Authorization": "Bearer wsk_secret"}
        )
    lines = [r for r in caplog.records if r.name == "widget_server.access"]
    assert len(lines) == 1
    fields = lines[0].fields  # type: ignore[attr-defined]
    assert fields["method"] == "GET"
    assert fields["route"] == "/healthz"
    assert fields["status"] == 200
    assert fields["request_id"] == resp.headers["X-Request-Id"]
    assert isinstance(fields["duration_ms"], float)
    from widget_server.runtime.logs import JsonFormatter

    text = JsonFormatter().format(lines[0])
    assert json.loads(text)["route"] == "/healthz"
    for leaked in ("127.0.0.1", "someone@example.com", "wsk_secret"):
        assert leaked not in text


async def test_unmatched_route_is_logged_as_template_not_path(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="widget_server.access"):
        await client.get("/v1/sites/someone@example.com/xyz")
    line = [r for r in caplog.records if r.name == "widget_server.access"][-1]
    assert "someone@example.com" not in JsonFormatterText(line)


def JsonFormatterText(record: logging.LogRecord) -> str:
    from widget_server.runtime.logs import JsonFormatter

    return JsonFormatter().format(record)


async def test_readyz_503_when_database_unreachable(
    aiohttp_client: Callable[..., Awaitable[Client]], make_app: Callable[..., web.Application]
) -> None:
    app = make_app(
        database_url=Secret("postgresql://nobody@127.0.0.1:1/none"), db_acquire_timeout=2.0
    )
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    resp = await client.get("/readyz")
    await assert_problem(resp, 503)
    assert resp.headers["Retry-After"]


async def test_readyz_503_when_schema_not_current(client: Client, db: Any) -> None:
    await db.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES (9999, 'future', 'x')"
    )
    try:
        resp = await client.get("/readyz")
        body = await assert_problem(resp, 503)
        assert "migrate" in body["detail"]
    finally:
        await db.execute("DELETE FROM schema_migrations WHERE version = 9999")
