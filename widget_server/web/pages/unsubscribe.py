"""GET and POST /u/TOKEN: the unsubscribe page, and RFC 8058 one-click opt-out."""

from __future__ import annotations

from html import escape

from aiohttp import web

from widget_server.domain.errors import NotFound
from widget_server.domain.tokens import read_unsubscribe_token
from widget_server.keys import DB, SETTINGS
from widget_server.services import permissions
from widget_server.web.pages.html import PAGE_NOT_FOUND, html_page, labels, not_found
from widget_server.web.routes import Route


async def unsubscribe_form(request: web.Request) -> web.Response:
    """GET changes nothing: mail scanners follow links, and only the visitor's POST counts."""
    ids = read_unsubscribe_token(
        request.app[SETTINGS].secret_key.reveal(), request.match_info["token"]
    )
    if ids is None:
        return not_found()
    try:
        async with request.app[DB].connection() as conn:
            row = await permissions.contact(conn, *ids)
    except NotFound:
        return not_found()
    t = labels(row["default_locale"])
    if row["status"] == "opted_out":
        main = f'<h1>{t["unsub_title"]}</h1>\n<p role="status">{escape(t["unsub_done"].format(site=row["site_name"]))}</p>\n'
    else:
        main = (
            f'<h1>{t["unsub_title"]}</h1>\n<form method="post">\n'
            f"<p>{escape(t['unsub_question'].format(site=row['site_name']))}</p>\n"
            f'<input type="hidden" name="List-Unsubscribe" value="One-Click">\n'
            f'<button type="submit">{t["unsub_button"]}</button>\n</form>\n'
        )
    return html_page(row["default_locale"], t["unsub_title"], main)


async def unsubscribe(request: web.Request) -> web.Response:
    """RFC 8058 one-click: the POST itself is the opt-out; repeating it changes nothing more."""
    ids = read_unsubscribe_token(
        request.app[SETTINGS].secret_key.reveal(), request.match_info["token"]
    )
    if ids is None:
        return not_found()
    try:
        async with request.app[DB].connection() as conn:
            row = await permissions.opt_out(conn, *ids, source="unsubscribe_link")
    except NotFound:
        return not_found()
    t = labels(row["default_locale"])
    text = escape(t["unsub_done"].format(site=row["site_name"]))
    main = f'<h1>{t["unsub_title"]}</h1>\n<p role="status">{text}</p>\n'
    return html_page(row["default_locale"], t["unsub_title"], main)


TAG = "Public pages"
ROUTES = (
    Route(
        "GET",
        "/u/{token}",
        unsubscribe_form,
        "The unsubscribe page; changes nothing",
        TAG,
        access="public",
        media=("text/html",),
        responses=PAGE_NOT_FOUND,
    ),
    Route(
        "POST",
        "/u/{token}",
        unsubscribe,
        "Opt out (RFC 8058 one-click)",
        TAG,
        access="public",
        media=("text/html",),
        responses=PAGE_NOT_FOUND,
        description="The POST itself is the opt-out, effective at once; repeating it changes nothing "
        "more. Answers a page saying so.",
    ),
)
