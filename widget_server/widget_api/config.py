"""GET /v1/widget/SITE_KEY/config: everything the widget renders, per language, cached."""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import re
from typing import Any

import brotli
from aiohttp import web
from markdown_it import MarkdownIt
from markdown_it.token import Token

from ..assets import preferred_coding
from ..defaults import DEFAULT_THEME
from ..http import not_modified
from ..keys import SETTINGS
from ..texts import texts_for
from .common import rfc3339
from .cors import widget_endpoint
from .sitecache import Localized, Site

CACHE_CONTROL = "public, max-age=60"
AUTOCOMPLETE = {"name": "name", "email": "email", "tel": "tel"}  # by field name (text) or type
# The theme's colour pairs that must keep WCAG AA contrast (4.5:1); the widget trusts them.
CONTRAST_PAIRS = (("accent", "accent_text"), ("background", "text"))
COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
LANG_FORMAT = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8}){0,4}")
_MD = MarkdownIt("commonmark", {"html": False})


def pick(value: Localized, lang: str, default_lang: str) -> str:
    """One text for the chosen language: exact, primary subtag, site default, English, any."""
    if isinstance(value, str):
        return value
    for cand in (lang, lang.split("-")[0], default_lang, default_lang.split("-")[0], "en"):
        if cand in value:
            return value[cand]
    return next(iter(value.values()), "")


def _inline_text(token: Token) -> str:
    """An inline token's words without Markdown syntax (link and image targets dropped)."""
    parts = []
    for child in token.children or ():
        if child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "image":
            parts.append(child.content)  # its alt text
    return " ".join("".join(parts).split())


def summary(body: str) -> str:
    """The policy's first paragraph as plain text (Markdown syntax removed)."""
    tokens = _MD.parse(body)
    for i, token in enumerate(tokens):
        if token.type == "paragraph_open" and i + 1 < len(tokens):
            return _inline_text(tokens[i + 1])
    return ""


def plain_text(body: str, title: str = "") -> str:
    """The whole policy as plain paragraphs separated by blank lines, for the widget's full-text
    view (which shows it as text only): headings become paragraphs, list items get a bullet or
    their number, and a first heading that only repeats the title is left out."""
    blocks: list[str] = []
    lists: list[int | None] = []  # per open list: the next number, or None for bullets
    marker = ""
    tokens = _MD.parse(body)
    if (
        tokens
        and tokens[0].type == "heading_open"
        and _inline_text(tokens[1]) == " ".join(title.split())
    ):
        del tokens[:3]
    for token in tokens:
        if token.type == "bullet_list_open":
            lists.append(None)
        elif token.type == "ordered_list_open":
            lists.append(int(token.attrGet("start") or 1))
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "list_item_open":
            number = lists[-1]
            marker = "• " if number is None else f"{number}. "
            if number is not None:
                lists[-1] = number + 1
        elif token.type == "inline":
            blocks.append(marker + _inline_text(token))
            marker = ""
        elif token.type in ("fence", "code_block"):
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(b for b in blocks if b.strip())


def _luminance(colour: str) -> float:
    """WCAG relative luminance of #rgb or #rrggbb."""
    digits = colour[1:] if len(colour) == 7 else "".join(c * 2 for c in colour[1:])
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def safe_theme(theme: dict[str, Any]) -> dict[str, str]:
    """The theme as the widget uses it: each colour pair the site's own when both are valid
    colours with at least 4.5:1 contrast, the default pair otherwise."""
    safe = dict(DEFAULT_THEME)
    for pair in CONTRAST_PAIRS:
        a, b = (theme.get(k) for k in pair)
        valid = all(isinstance(v, str) and COLOUR.fullmatch(v) for v in (a, b))
        if valid and contrast(str(a), str(b)) >= 4.5:
            safe.update(zip(pair, (str(a), str(b)), strict=True))
    return safe


def render(site: Site, lang: str, public_url: str) -> tuple[str, dict[str, Any]]:
    chosen, texts = texts_for(lang, site.default_locale, site.texts)
    policy = site.policy

    def text(value: Localized) -> str:
        return pick(value, chosen, site.default_locale)

    fields = []
    for f in site.form_fields:
        item: dict[str, Any] = {
            "name": f.spec.name,
            "label": text(f.label),
            "type": f.spec.type,
            "required": f.spec.required,
            "max_length": f.spec.max_length,
            "autocomplete": AUTOCOMPLETE.get(f.spec.name if f.spec.type == "text" else f.spec.type),
        }
        if f.spec.type == "select":
            item["options"] = [{"value": v, "label": text(label)} for v, label in f.options]
        fields.append(item)
    config = {
        "site_key": site.site_key,
        "name": site.name,
        "locale": chosen,
        "policy": None
        if policy is None
        else {
            "version": policy.version,
            "title": policy.title,
            "body": policy.body,
            "summary": summary(policy.body),
            "text": plain_text(policy.body, policy.title),
            "language": policy.language,
            "url": f"{public_url.rstrip('/')}/policy/{site.site_key}",
            "sha256": policy.sha256,
            "published_at": rfc3339(policy.published_at),
        },
        "purposes": [
            {
                "key": p.key,
                "label": text(p.label),
                "description": text(p.description),
                "required": p.required,
            }
            for p in site.purposes
        ],
        "form": {
            "fields": fields,
            "marketing_opt_in": None
            if site.opt_in_label is None
            else {"label": text(site.opt_in_label) or texts["marketing_opt_in"]},
        },
        "texts": texts,
        "theme": safe_theme(site.theme),
        "consent_expiry_days": site.consent_expiry_days,
    }
    return chosen, config


def rendered(site: Site, lang: str, public_url: str) -> tuple[bytes, str]:
    """The JSON body and its strong ETag, kept on the cached site per chosen language."""
    chosen, _ = texts_for(lang, site.default_locale, site.texts)
    hit = site.rendered.get(chosen)
    if hit is None:
        _, config = render(site, chosen, public_url)
        body = json.dumps(config, ensure_ascii=False, separators=(",", ":")).encode()
        hit = (body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')
        site.rendered[chosen] = hit
    return hit


@functools.lru_cache(maxsize=1024)
def compressed(body: bytes, coding: str) -> bytes:
    """A rendered config in a content coding, made once per body (the cached body object is
    reused, so its hash is computed once too)."""
    if coding == "br":
        return bytes(brotli.compress(body, quality=11))
    return gzip.compress(body, compresslevel=9, mtime=0)


@widget_endpoint
async def get_config(request: web.Request, site: Site) -> web.StreamResponse:
    lang = request.query.get("lang", "")
    if not LANG_FORMAT.fullmatch(lang):
        lang = site.default_locale
    body, etag = rendered(site, lang, request.app[SETTINGS].public_url)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL, "Vary": "Accept-Encoding"}
    if not_modified(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    coding = preferred_coding(request.headers.get("Accept-Encoding", ""))
    if coding is not None:
        body = compressed(body, coding)
        headers["Content-Encoding"] = coding
    return web.Response(
        body=body, content_type="application/json", charset="utf-8", headers=headers
    )
