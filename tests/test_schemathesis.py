"""schemathesis against /openapi.json over a live server: no 5xx, and every answer matches the document."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.request
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import HOST_ORIGIN, TEST_SECRET
from widget_server.app import create_app
from widget_server.db.pool import connect
from widget_server.domain.ids import uuid7
from widget_server.services import merchants, policies, sites
from widget_server.settings import Secret, Settings
from widget_server.web import openapi
from widget_server.web.table import all_routes

pytestmark = pytest.mark.slow
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]


@dataclass
class Live:
    url: str
    key: str
    site_key: str
    widget_site_key: str
    request_ids: list[str]


async def _seed(database_url: str) -> Live:
    """A merchant with a write key, a site for the merchant API (which may disable it), another for the
    widget API, and a few requests (tables are shared with other modules: no truncation here)."""
    conn = await connect(database_url)
    try:
        merchant = await merchants.create_merchant(conn, {"name": "Fuzzed"})
        merchant_id, key = merchant.merchant_id, merchant.secret
        made = []
        for name in ("Merchant API site", "Widget API site"):
            site = await sites.create_site(
                conn, merchant_id, {"name": name, "allowed_origins": [HOST_ORIGIN]}
            )
            await policies.publish_policy(conn, site, {"title": "Terms", "body": "Text"})
            made.append(site)
        request_ids = []
        for i in range(5):
            request_ids.append(uuid7())
            await conn.execute(
                """INSERT INTO info_requests (site_id, request_id, event_id, visitor_id, fields, email,
                       marketing_opt_in, policy_version, language, page_origin, page_path, created_at, updated_at)
                   VALUES ($1, $2, $3, 'visitor_0001', $4, 'a@example.com', false, 1, 'en',
                           'https://shop.example', '/', now(), now())""",
                made[0]["site_id"],
                request_ids[-1],
                uuid.uuid4(),
                {"name": f"=Person {i}", "email": "a@example.com", "message": "-hi"},
            )
    finally:
        await conn.close()
    return Live("", key, made[0]["site_key"], made[1]["site_key"], [str(r) for r in request_ids])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def live(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The real app on a real port, in a thread with its own loop: schemathesis calls it synchronously."""
    seeded = asyncio.run(_seed(database_url))
    port = _free_port()
    url = seeded.url = f"http://127.0.0.1:{port}"
    settings_ = Settings(
        secret_key=Secret(TEST_SECRET),
        database_url=Secret(database_url),
        public_url=url,
        data_dir=Path(tmp_path_factory.mktemp("live")),
        rate_limit_per_minute=10**6,
        requests_per_site_per_hour=10**6,
    )
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(create_app(settings_), access_log=None)
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="live-app", daemon=True)
    thread.start()
    assert ready.wait(30), "the live app did not start"
    yield seeded
    loop.call_soon_threadsafe(loop.stop)
    thread.join(30)


# Built in-process at import so pytest can parametrize per operation (schemathesis' lazy fixture
# loader does not work with this pytest); test_served_document_is_this_one ties it to /openapi.json.
DOCUMENT = openapi.build(all_routes(), "http://127.0.0.1")
schema = schemathesis.openapi.from_dict(DOCUMENT)


def test_served_document_is_this_one(live: Live) -> None:
    with urllib.request.urlopen(f"{live.url}/openapi.json", timeout=10) as answer:
        served = json.load(answer)
    assert served == {**DOCUMENT, "servers": [{"url": live.url}]}


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api(case: Any, live: Live) -> None:
    # Mostly aim at real things, so handlers run past the 404 and show their own answers
    # (a checksum, not hash(): the choice must not change with PYTHONHASHSEED).
    pick = zlib.crc32(repr((case.body, case.query)).encode())
    params = case.path_parameters or {}
    if "site_key" in params and pick % 4:
        widget = case.path.startswith(("/v1/widget/", "/policy/"))
        params["site_key"] = live.widget_site_key if widget else live.site_key
    if "request_id" in params and pick % 3:
        params["request_id"] = live.request_ids[pick % len(live.request_ids)]
    headers = {"Authorization": f"Bearer {live.key}", "Origin": HOST_ORIGIN}
    case.call_and_validate(base_url=live.url, headers=headers, checks=CHECKS, timeout=30)
