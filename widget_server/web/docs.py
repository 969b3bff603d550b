"""GET /openapi.json, and GET /docs: Swagger UI 5 from the openapi-ui-bundles package, served locally."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import openapi_ui_bundles.swagger_ui
from aiohttp import web

from widget_server.keys import SETTINGS
from widget_server.web import openapi
from widget_server.web.problems import ProblemError
from widget_server.web.routes import Route

# Swagger UI 5 (this bundle) renders OpenAPI 3.1 as it is; version 4 could not.
SWAGGER_DIR = Path(openapi_ui_bundles.swagger_ui.static_path)
ASSETS = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
}
INIT_JS = """\
"use strict";
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    domNode: root,
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""
PAGE = """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>widget-server API</title>
<link rel="icon" type="image/png" href="/docs/static/favicon-32x32.png">
<link rel="stylesheet" href="/docs/static/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec="/openapi.json"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""


@dataclass
class DocumentCache:
    """The document, built on first use (the route table never changes while running)."""

    routes: tuple[Route, ...]
    built: bytes | None = None


DOCUMENT: web.AppKey[DocumentCache] = web.AppKey("openapi_document", DocumentCache)


def document_bytes(app: web.Application) -> bytes:
    cache = app[DOCUMENT]
    if cache.built is None:
        settings = app[SETTINGS]
        document = openapi.build(
            cache.routes, settings.public_url, keyed_preflights=bool(settings.merchant_cors_origins)
        )
        cache.built = json.dumps(document, ensure_ascii=False, indent=1).encode()
    return cache.built


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(
        body=document_bytes(request.app),
        content_type="application/json",
        charset="utf-8",
        headers={"Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"},
    )


def _csp(public_url: str) -> str:
    parts = urlsplit(public_url)
    api = f" {parts.scheme}://{parts.netloc}" if parts.netloc else ""
    # Swagger UI sets style attributes, hence 'unsafe-inline' for styles only; no inline script anywhere.
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        f"font-src 'self' data:; connect-src 'self'{api}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


async def docs_page(request: web.Request) -> web.Response:
    return web.Response(
        text=PAGE,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": _csp(request.app[SETTINGS].public_url),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )


async def docs_init(request: web.Request) -> web.Response:
    return web.Response(text=INIT_JS, content_type="text/javascript", charset="utf-8")


async def docs_asset(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise ProblemError(404, "There is nothing at this address.")
    return web.FileResponse(
        SWAGGER_DIR / name,
        headers={"Content-Type": ASSETS[name], "Cache-Control": "public, max-age=86400"},
    )


TAG = "Documentation"
ROUTES = (
    Route(
        "GET",
        "/openapi.json",
        openapi_json,
        "This OpenAPI document",
        TAG,
        access="public",
        media=("application/json",),
    ),
    Route(
        "GET",
        "/docs",
        docs_page,
        "This document, rendered",
        TAG,
        access="public",
        media=("text/html",),
    ),
    Route(
        "GET",
        "/docs/init.js",
        docs_init,
        "The script that starts the renderer",
        TAG,
        access="public",
        media=("text/javascript",),
    ),
    Route(
        "GET",
        "/docs/static/{name}",
        docs_asset,
        "The renderer's files (Swagger UI)",
        TAG,
        access="public",
        media=tuple(sorted(set(ASSETS.values()))),
        errors=frozenset({404}),
    ),
)
