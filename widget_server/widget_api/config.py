"""GET /v1/widget/SITE_KEY/config: everything the widget renders, per language, cached."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from aiohttp import web
from markdown_it import MarkdownIt
from markdown_it.token import Token

from widget_server.http import not_modified
from widget_server.keys import SETTINGS
from widget_server.texts import texts_for
from widget_server.widget_api.common import rfc3339
from widget_server.widget_api.cors import widget_endpoint
from widget_server.widget_api.sitecache import Localized, Site

CACHE_CONTROL = "public, max-age=60"
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
        "theme": site.theme,
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


@widget_endpoint
async def get_config(request: web.Request, site: Site) -> web.StreamResponse:
    lang = request.query.get("lang", "")
    if not LANG_FORMAT.fullmatch(lang):
        lang = site.default_locale
    body, etag = rendered(site, lang, request.app[SETTINGS].public_url)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if not_modified(request.headers.get("If-None-Match"), etag):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body, content_type="application/json", charset="utf-8", headers=headers
    )
