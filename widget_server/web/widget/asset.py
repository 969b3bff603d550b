"""The embeddable widget.js: loaded once, stamped, precompressed and served with validators.

static/widget.js is already bundled and minified by widget/build.py (esbuild) from widget/src.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp_cors
import brotli
from aiohttp import web

from widget_server import __version__
from widget_server.paths import data_dir
from widget_server.web.http import not_modified, preferred_coding
from widget_server.web.routes import Route

CONTENT_TYPE = "text/javascript; charset=utf-8"
LATEST_CACHE = "public, max-age=300"
VERSIONED_CACHE = "public, max-age=31536000, immutable"
SIZE_BUDGET = 6144  # bytes, gzip -9: CONTRACT.md §1's budget for everything the widget does
# What CI enforces meanwhile (widget/build.py --check, tests/test_widget_asset.py): with all of
# CONTRACT.md §1 (blocking, statistics modes, the visitor's record) the widget measures about
# 7.3 KiB gzip, over the contract's budget, so the budget needs a contract issue; this ceiling
# keeps the size from growing unnoticed until then.
SIZE_CEILING = 7680
# Replaced in the served script by the release and a digest of the exact source, which the
# widget sends with every decision so that each consent record names the widget that showed it.
VERSION_MARK = "%WIDGET_VERSION%"


@dataclass(frozen=True, slots=True)
class WidgetAsset:
    """The served bytes of widget.js in each encoding, with its validators."""

    source_size: int
    identity: bytes
    gzip: bytes
    brotli: bytes
    etag: str
    hash: str
    sri: str
    version: str

    def encoded(self, accept_encoding: str) -> tuple[bytes, str | None]:
        """The best body for an Accept-Encoding header: brotli, then gzip, then identity."""
        coding = preferred_coding(accept_encoding)
        return {"br": self.brotli, "gzip": self.gzip}.get(coding or "", self.identity), coding


def find_widget(static_dir: Path | None = None) -> Path:
    """static/widget.js: next to the package when installed, at the repository root otherwise."""
    path = (static_dir or data_dir("static")) / "widget.js"
    if not path.is_file():
        raise FileNotFoundError(f"widget.js not found at {path}")
    return path


def build_asset(source: str) -> WidgetAsset:
    """Stamp the version and precompress the built widget (already minified by esbuild)."""
    version = f"{__version__}+{hashlib.sha256(source.encode('utf-8')).hexdigest()[:8]}"
    identity = source.replace(VERSION_MARK, version).encode("utf-8")
    digest = hashlib.sha256(identity).hexdigest()
    return WidgetAsset(
        source_size=len(source.encode("utf-8")),
        identity=identity,
        gzip=gzip.compress(identity, compresslevel=9, mtime=0),
        brotli=brotli.compress(identity, quality=11),
        etag=f'"{digest[:32]}"',
        hash=digest[:12],
        sri="sha384-" + base64.b64encode(hashlib.sha384(identity).digest()).decode("ascii"),
        version=version,
    )


def load_widget(static_dir: Path | None = None) -> WidgetAsset:
    """Read, stamp and precompress static/widget.js once, at start-up."""
    return build_asset(find_widget(static_dir).read_text(encoding="utf-8"))


def _respond(request: web.Request, asset: WidgetAsset, cache_control: str) -> web.Response:
    headers = {
        "Cache-Control": cache_control,
        "ETag": asset.etag,
        # aiohttp-cors echoes the caller's origin, so shared caches must key on it too.
        "Vary": "Accept-Encoding, Origin",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }
    if not_modified(request.headers.get("If-None-Match"), asset.etag):
        return web.Response(status=304, headers=headers)
    body, coding = asset.encoded(request.headers.get("Accept-Encoding", ""))
    if coding is not None:
        headers["Content-Encoding"] = coding
    headers["Content-Type"] = CONTENT_TYPE
    return web.Response(body=body, headers=headers)


ASSET: web.AppKey[WidgetAsset] = web.AppKey("widget_asset", WidgetAsset)


async def widget_latest(request: web.Request) -> web.StreamResponse:
    return _respond(request, request.app[ASSET], LATEST_CACHE)


async def widget_versioned(request: web.Request) -> web.StreamResponse:
    asset = request.app[ASSET]
    if request.match_info.get("hash") != asset.hash:
        raise web.HTTPNotFound()
    return _respond(request, asset, VERSIONED_CACHE)


def setup(app: web.Application, asset: WidgetAsset | None = None) -> None:
    """The script's bytes (read, minified and compressed once) and its any-origin CORS grant;
    call after the ROUTES are registered."""
    app[ASSET] = asset or load_widget()
    paths = {route.path for route in ROUTES}
    resources = [r for r in app.router.resources() if r.canonical in paths]
    # Any page may load the script, also with `crossorigin` for Subresource Integrity.
    resource_options: Callable[..., Any] = aiohttp_cors.ResourceOptions  # unannotated upstream
    cors = aiohttp_cors.CorsConfig(
        app, defaults={"*": resource_options(allow_credentials=False, expose_headers=("ETag",))}
    )
    for resource in resources:
        cors.add(resource)


def add_widget_routes(app: web.Application, asset: WidgetAsset | None = None) -> WidgetAsset:
    """Serve the script from an application of its own (tests, benches)."""
    from widget_server.web.table import register

    register(app, ROUTES)
    setup(app, asset)
    return app[ASSET]


NOT_MODIFIED = {304: {"description": "Not modified (If-None-Match)."}}
ROUTES = (
    Route(
        "GET",
        "/widget.js",
        widget_latest,
        "The widget script",
        "Widget API",
        access="public",
        media=("text/javascript",),
        responses=NOT_MODIFIED,
        cors_preflight=True,
        description="Minified; gzip or brotli as offered; cached for 5 minutes, revalidated by ETag.",
    ),
    Route(
        "GET",
        "/widget.{hash}.js",
        widget_versioned,
        "The widget script at one version",
        "Widget API",
        access="public",
        media=("text/javascript",),
        responses=NOT_MODIFIED,
        errors=frozenset({404}),
        cors_preflight=True,
        description="Immutable: `hash` is the start of the script's SHA-256, for Subresource Integrity.",
    ),
)
