"""GET /v1/widget/SITE_KEY/config: everything the widget renders, per language, cached."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

from widget_server.domain.languages import normalize_language_tag
from widget_server.domain.policytext import plain_text, summary
from widget_server.domain.snippet import policy_url
from widget_server.domain.texts import Localized, pick, texts_for
from widget_server.domain.theme import safe_theme
from widget_server.keys import SETTINGS
from widget_server.schemas.config import SITE_CONFIG
from widget_server.services.widget_sites import Site
from widget_server.web.http import compressed, not_modified, preferred_coding

CACHE_CONTROL = "public, max-age=60"
# The autocomplete token of a field, by its name (text fields) or its type.
AUTOCOMPLETE = {"name": "name", "email": "email", "tel": "tel"}


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
            "url": policy_url(public_url, site.site_key),
            "sha256": policy.sha256,
            "published_at": policy.published_at,
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
        "stats_mode": site.stats_mode,
    }
    dumped: dict[str, Any] = SITE_CONFIG.dump(config)
    return chosen, dumped


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


async def get_config(request: web.Request, site: Site) -> web.StreamResponse:
    try:
        lang = normalize_language_tag(request.query.get("lang", ""))
    except ValueError:
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
