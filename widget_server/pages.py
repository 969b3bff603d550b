"""Public HTML pages: policies and one-click unsubscribe."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from html import escape

import asyncpg
from aiohttp import web
from markdown_it import MarkdownIt

from widget_server.keys import DB, SETTINGS
from widget_server.queries import permissions, policies, sites
from widget_server.tokens import read_unsubscribe_token

STYLE = (
    "body{font:1rem/1.6 system-ui,sans-serif;color:#111827;background:#fff;margin:0}"
    "main{max-width:42rem;margin:0 auto;padding:2rem 1rem}"
    "a{color:#1d4ed8}a:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}"
    ".meta{color:#374151}"
    "button{font:inherit;padding:.5rem 1rem;border:0;border-radius:.25rem;"
    "background:#1d4ed8;color:#fff;cursor:pointer}"
    "@media (prefers-color-scheme:dark){body{background:#111827;color:#f9fafb}"
    ".meta{color:#d1d5db}a{color:#93c5fd}}"
)
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# Nothing runs, loads or frames here: a policy is text, and an unsubscribe is one form post.
CSP = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_MD = MarkdownIt("commonmark", {"html": False})

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "version": "Version {n}",
        "published": "published",
        "versions": "All versions",
        "current": "current",
        "earlier": "This is an earlier version.",
        "read_current": "Read the current version",
        "not_found": "There is no such page.",
        "no_policy": "This site has not published a policy yet.",
        "unsub_title": "Unsubscribe",
        "unsub_question": "Stop receiving news and offers from {site}?",
        "unsub_button": "Unsubscribe",
        "unsub_done": "You will no longer receive news and offers from {site}.",
    },
    "de": {
        "version": "Version {n}",
        "published": "veröffentlicht",
        "versions": "Alle Versionen",
        "current": "aktuell",
        "earlier": "Dies ist eine frühere Version.",
        "read_current": "Aktuelle Version lesen",
        "not_found": "Diese Seite gibt es nicht.",
        "no_policy": "Diese Website hat noch keine Hinweise veröffentlicht.",
        "unsub_title": "Abmelden",
        "unsub_question": "Keine Neuigkeiten und Angebote mehr von {site} erhalten?",
        "unsub_button": "Abmelden",
        "unsub_done": "Sie erhalten keine Neuigkeiten und Angebote mehr von {site}.",
    },
    "fr": {
        "version": "Version {n}",
        "published": "publiée le",
        "versions": "Toutes les versions",
        "current": "actuelle",
        "earlier": "Ceci est une version antérieure.",
        "read_current": "Lire la version actuelle",
        "not_found": "Cette page n'existe pas.",
        "no_policy": "Ce site n'a pas encore publié de politique.",
        "unsub_title": "Se désabonner",
        "unsub_question": "Ne plus recevoir les nouvelles et offres de {site} ?",
        "unsub_button": "Se désabonner",
        "unsub_done": "Vous ne recevrez plus les nouvelles et offres de {site}.",
    },
}


def labels(lang: str) -> dict[str, str]:
    return LABELS.get(lang.split("-")[0].lower(), LABELS["en"])


def render_markdown(body: str, title: str = "") -> str:
    """Markdown to HTML with raw HTML disabled; headings shifted below the page's own h1, and a
    first heading that only repeats the title (already the h1) left out."""
    tokens = _MD.parse(body)
    if (
        len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[1].content.split() == title.split()
    ):
        del tokens[:3]
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    html: str = _MD.renderer.render(tokens, _MD.options, {})
    return html


def html_page(
    lang: str, title: str, main: str, *, status: int = 200, cache: str = "no-store"
) -> web.Response:
    document = (
        f'<!doctype html>\n<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{main}</main>\n</body>\n</html>\n"
    )
    return web.Response(
        status=status,
        text=document,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": cache,
        },
    )


def not_found(lang: str = "en", key: str = "not_found") -> web.Response:
    text = labels(lang)[key]
    return html_page(lang, text, f"<h1>{escape(text)}</h1>\n", status=404)


def _date(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).date().isoformat()


def _policy_main(
    site_key: str, policy: asyncpg.Record, versions: list[asyncpg.Record], site_name: str
) -> str:
    t = labels(policy["language"])
    current = versions[0]["version"]
    base = f"/policy/{escape(site_key)}"
    parts = [f"<h1>{escape(policy['title'])}</h1>\n"]
    stamp = policy["published_at"]
    parts.append(
        f'<p class="meta">{escape(site_name)} · {t["version"].format(n=policy["version"])}, '
        f'{t["published"]} <time datetime="{stamp.isoformat()}">{_date(stamp)}</time></p>\n'
    )
    if policy["version"] != current:
        parts.append(
            f'<p><strong>{t["earlier"]}</strong> <a href="{base}">{t["read_current"]}</a></p>\n'
        )
    parts.append(f"<article>\n{render_markdown(policy['body'], policy['title'])}</article>\n")
    items = []
    for v in versions:
        label = t["version"].format(n=v["version"])
        when = f'<time datetime="{v["published_at"].isoformat()}">{_date(v["published_at"])}</time>'
        mark = f" ({t['current']})" if v["version"] == current else ""
        here = ' aria-current="page"' if v["version"] == policy["version"] else ""
        items.append(f'<li><a href="{base}/{v["version"]}"{here}>{label}</a>{mark}, {when}</li>')
    parts.append(
        f'<nav aria-labelledby="versions">\n<h2 id="versions">{t["versions"]}</h2>\n<ul>\n'
        + "\n".join(items)
        + "\n</ul>\n</nav>\n"
    )
    return "".join(parts)


async def policy_page(request: web.Request) -> web.Response:
    site_key = request.match_info["site_key"]
    version_text = request.match_info.get("version")
    async with request.app[DB].connection() as conn:
        site = await sites.get_site_by_key(conn, site_key)
        if site is None or site["disabled_at"] is not None:
            return not_found()
        versions = await policies.list_versions(conn, site["site_id"])
    lang = site["default_locale"]
    if not versions:
        return not_found(lang, "no_policy")
    if version_text is None:
        policy, cache = versions[0], "public, max-age=60"
    else:
        matches = [v for v in versions if str(v["version"]) == version_text]
        if not matches:
            return not_found(lang)
        # A published version never changes; only the list of later ones grows.
        policy, cache = matches[0], "public, max-age=3600"
    main = _policy_main(site_key, policy, versions, site["name"])
    return html_page(policy["language"], policy["title"], main, cache=cache)


async def unsubscribe_form(request: web.Request) -> web.Response:
    """GET changes nothing: mail scanners follow links, and only the visitor's POST counts."""
    ids = read_unsubscribe_token(
        request.app[SETTINGS].secret_key.reveal(), request.match_info["token"]
    )
    if ids is None:
        return not_found()
    async with request.app[DB].connection() as conn:
        row = await permissions.get_by_contact(conn, *ids)
    if row is None:
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
    async with request.app[DB].connection() as conn:
        row = await permissions.opt_out_contact(
            conn, *ids, source="unsubscribe_link", at=dt.datetime.now(dt.UTC)
        )
    if row is None:
        return not_found()
    t = labels(row["default_locale"])
    text = escape(t["unsub_done"].format(site=row["site_name"]))
    main = f'<h1>{t["unsub_title"]}</h1>\n<p role="status">{text}</p>\n'
    return html_page(row["default_locale"], t["unsub_title"], main)


def setup(app: web.Application) -> None:
    """Register the public pages."""
    app.router.add_get("/policy/{site_key}", policy_page)
    app.router.add_get(r"/policy/{site_key}/{version:[0-9]{1,9}}", policy_page)
    app.router.add_get("/u/{token}", unsubscribe_form)
    app.router.add_post("/u/{token}", unsubscribe)
