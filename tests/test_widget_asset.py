"""widget.js as served: size budget, encodings, validators, and the rules its source keeps."""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

import brotli
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from widget_server import __version__
from widget_server.domain.texts import DEFAULT_TEXTS
from widget_server.web.widget.asset import SIZE_BUDGET, add_widget_routes, find_widget, load_widget

SOURCE = find_widget().read_text(encoding="utf-8")
ASSET = load_widget()
Client = TestClient[Any, Any]


@pytest.fixture
async def widget_client(aiohttp_client: Callable[..., Awaitable[Client]]) -> Client:
    app = web.Application()
    add_widget_routes(app, ASSET)
    return await aiohttp_client(app)


def test_gzip_size_within_budget() -> None:
    assert len(ASSET.gzip) <= SIZE_BUDGET, f"widget.js is {len(ASSET.gzip)} bytes gzipped"
    assert len(ASSET.brotli) < len(ASSET.gzip) < len(ASSET.identity) < ASSET.source_size


def test_encodings_decode_to_the_same_bytes() -> None:
    assert gzip.decompress(ASSET.gzip) == ASSET.identity
    assert brotli.decompress(ASSET.brotli) == ASSET.identity


def test_validators_and_sri() -> None:
    digest = hashlib.sha256(ASSET.identity).hexdigest()
    assert ASSET.etag == f'"{digest[:32]}"'
    assert ASSET.hash == digest[:12]
    sri = base64.b64encode(hashlib.sha384(ASSET.identity).digest()).decode()
    assert ASSET.sri == f"sha384-{sri}"


def test_served_script_knows_its_version() -> None:
    """Consent records keep which widget showed the choice: the release and the exact source."""
    digest = hashlib.sha256(SOURCE.encode()).hexdigest()[:8]
    assert ASSET.version == f"{__version__}+{digest}"
    assert f"'{ASSET.version}'".encode() in ASSET.identity
    assert b"WIDGET_VERSION" not in ASSET.identity


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("", None),
        ("identity", None),
    ],
)
async def test_latest_negotiates_encoding(
    widget_client: Client, accept: str, coding: str | None
) -> None:
    resp = await widget_client.get(
        "/widget.js", headers={"Accept-Encoding": accept}, auto_decompress=False
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert resp.headers["Cache-Control"] == "public, max-age=300"
    assert resp.headers["Vary"] == "Accept-Encoding, Origin"
    assert resp.headers["ETag"] == ASSET.etag
    assert resp.headers.get("Content-Encoding") == coding
    body = await resp.read()
    expected = {"br": ASSET.brotli, "gzip": ASSET.gzip, None: ASSET.identity}[coding]
    assert body == expected


async def test_revalidation_gives_304(widget_client: Client) -> None:
    resp = await widget_client.get("/widget.js", headers={"If-None-Match": ASSET.etag})
    assert resp.status == 304
    assert resp.headers["ETag"] == ASSET.etag
    assert await resp.read() == b""
    resp = await widget_client.get(
        "/widget.js", headers={"If-None-Match": '"other", W/' + ASSET.etag}
    )
    assert resp.status == 304
    resp = await widget_client.get("/widget.js", headers={"If-None-Match": '"other"'})
    assert resp.status == 200


async def test_versioned_url_is_immutable(widget_client: Client) -> None:
    resp = await widget_client.get(f"/widget.{ASSET.hash}.js", headers={"Accept-Encoding": "gzip"})
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert await resp.read() == ASSET.identity  # the client decompresses
    resp = await widget_client.get("/widget.0123456789ab.js")
    assert resp.status == 404


async def test_app_serves_the_widget(client: Client) -> None:
    resp = await client.get(
        "/widget.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert resp.status == 200
    assert resp.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await resp.read()) == ASSET.identity
    resp = await client.get("/widget.js", headers={"If-None-Match": resp.headers["ETag"]})
    assert resp.status == 304


async def test_any_origin_may_load_the_script_with_cors(client: Client) -> None:
    for path in ("/widget.js", f"/widget.{ASSET.hash}.js"):
        resp = await client.get(path, headers={"Origin": "https://any-shop.example"})
        assert resp.status == 200
        assert resp.headers["Access-Control-Allow-Origin"] == "https://any-shop.example"
        assert "Access-Control-Allow-Credentials" not in resp.headers
        assert "Origin" in resp.headers["Vary"]


def test_texts_keys_match_the_server() -> None:
    block = re.search(r"\bT = \{(.*?)\n    \},", SOURCE, re.S)
    assert block is not None
    fallback = dict(re.findall(r"(\w+): '((?:[^'\\]|\\.)*)'", block.group(1)))
    assert fallback == DEFAULT_TEXTS["en"]
    used = set(re.findall(r"\bt\('(\w+)'\)", SOURCE)) | set(re.findall(r"\bB\('(\w+)'", SOURCE))
    assert used <= set(DEFAULT_TEXTS["en"]), used - set(DEFAULT_TEXTS["en"])
    for label in (
        "Accept all",
        "Reject all",
        "Choose",
        "Privacy choices",
        "Name",
        "E-mail",
        "Phone",
        "Message",
        "Send",
    ):
        assert f"'{label}'" in SOURCE


def test_source_keeps_the_isolation_rules() -> None:
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", SOURCE, flags=re.S)
    for banned in (
        "eval(",
        "Function(",
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        ".style.",
        "setAttribute('style'",
        "document.cookie",
        "sessionStorage",
    ):
        assert banned not in code, banned
    assert "attachShadow({ mode: 'open' })" in code
    assert "adoptedStyleSheets" in code
    assert "all:initial!important" in code
    assert "prefers-reduced-motion" in code
