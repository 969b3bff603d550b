"""The demo shop page: another origin, a strict CSP, and the snippet a site owner pastes."""

from __future__ import annotations

import html

from aiohttp import web

from widget_server.domain.snippet import snippet

HOST_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Demo shop</title>
<link rel="stylesheet" href="/host.css">
</head>
<body>
<h1>Demo shop</h1>
<p>This page lives on another origin than the widget server, under a strict
Content-Security-Policy. The widget below comes from one script tag:</p>
<pre>{snippet_text}</pre>
{snippet}
</body>
</html>
"""
HOST_CSS = "body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; }\n"


def host_page_app(public_url: str, site_key: str) -> web.Application:
    """The demo shop: another origin, a strict CSP, and the snippet."""
    tag = snippet(public_url, site_key)
    page = HOST_PAGE.format(snippet_text=html.escape(tag), snippet=tag)
    csp = (
        f"default-src 'self'; script-src {public_url}; connect-src {public_url}; "
        "style-src 'self'; img-src 'self'; frame-ancestors 'none'"
    )

    async def index(request: web.Request) -> web.Response:
        return web.Response(
            text=page, content_type="text/html", headers={"Content-Security-Policy": csp}
        )

    async def no_icon(request: web.Request) -> web.Response:
        # Browsers ask for it; an empty answer keeps the console free of 404s.
        return web.Response(status=204)

    async def css(request: web.Request) -> web.Response:
        return web.Response(text=HOST_CSS, content_type="text/css")

    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/host.css", css)
    app.router.add_get("/favicon.ico", no_icon)
    return app
