"""GET /policy/SITE_KEY and /policy/SITE_KEY/VERSION: a site's policy as a page, with every version."""

from __future__ import annotations

import datetime as dt
from html import escape

import asyncpg
from aiohttp import web

from widget_server.domain.errors import NotFound
from widget_server.keys import DB
from widget_server.services import policies, sites
from widget_server.web.pages.html import (
    PAGE_NOT_FOUND,
    html_page,
    labels,
    not_found,
    render_markdown,
)
from widget_server.web.routes import Route


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
        try:
            site = await sites.site_by_key(conn, site_key)
        except NotFound:
            return not_found()
        if site["disabled_at"] is not None:
            return not_found()
        versions = await policies.all_versions(conn, site["site_id"])
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


TAG = "Public pages"
ROUTES = (
    Route(
        "GET",
        "/policy/{site_key}",
        policy_page,
        "The current policy",
        TAG,
        access="public",
        media=("text/html",),
        responses=PAGE_NOT_FOUND,
    ),
    Route(
        "GET",
        "/policy/{site_key}/{version}",
        policy_page,
        "One policy version",
        TAG,
        access="public",
        media=("text/html",),
        responses=PAGE_NOT_FOUND,
        operation_name="policy_version_page",
    ),
)
