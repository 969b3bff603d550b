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


async def _page(request: web.Request, *, opt_out: bool) -> web.Response:
    """The contact the token names, opted out first when asked; the same 404 page for a token
    that is not ours, was tampered with, or names nobody (it reveals nothing either way)."""
    ids = read_unsubscribe_token(
        request.app[SETTINGS].secret_key.reveal(), request.match_info["token"]
    )
    if ids is None:
        return not_found()
    try:
        async with request.app[DB].connection() as conn:
            if opt_out:
                row = await permissions.opt_out(conn, *ids, source="unsubscribe_link")
            else:
                row = await permissions.contact(conn, *ids)
    except NotFound:
        return not_found()
    t = labels(row["default_locale"])
    site = row["site_name"]
    if row["status"] == "opted_out":
        main = f'<p role="status">{escape(t["unsub_done"].format(site=site))}</p>\n'
    else:
        main = (
            '<form method="post">\n'
            f"<p>{escape(t['unsub_question'].format(site=site))}</p>\n"
            '<input type="hidden" name="List-Unsubscribe" value="One-Click">\n'
            f'<button type="submit">{t["unsub_button"]}</button>\n</form>\n'
        )
    return html_page(
        row["default_locale"], t["unsub_title"], f"<h1>{t['unsub_title']}</h1>\n{main}"
    )


async def unsubscribe_form(request: web.Request) -> web.Response:
    """GET changes nothing: mail scanners follow links, and only the visitor's POST counts."""
    return await _page(request, opt_out=False)


async def unsubscribe(request: web.Request) -> web.Response:
    """RFC 8058 one-click: the POST itself is the opt-out; repeating it changes nothing more."""
    return await _page(request, opt_out=True)


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
