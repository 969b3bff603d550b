"""What every public page shares: one escaped HTML frame, a strict CSP, labels per language."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from aiohttp import web
from markdown_it import MarkdownIt

from widget_server.web.problems import CONTENT_TYPE as PROBLEM

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


PAGE_NOT_FOUND = {
    404: {
        # A page for people; an address that is no page at all gets the router's problem+json.
        "description": "No such page.",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}},
        },
    }
}
