"""POST /v1/widget/SITE_KEY/events: page-view and engagement beacons, counted anonymously."""

from __future__ import annotations

from aiohttp import web

from widget_server.db.queries.page_views import ViewRow
from widget_server.domain.clock import now
from widget_server.domain.origins import referrer_host
from widget_server.domain.visitors import visitor_hash
from widget_server.keys import DB, SETTINGS
from widget_server.schemas.widget import BEACON
from widget_server.services.widget_sites import Site
from widget_server.web.clientip import client_ip
from widget_server.web.widget.common import check_page, read_write
from widget_server.web.widget.state import SALTS, VIEWS


async def post_event(request: web.Request, site: Site) -> web.StreamResponse:
    beacon = await read_write(request, site, BEACON)
    page = check_page(site, beacon["url"], "url")
    ref = referrer_host(beacon["referrer"])
    ip = client_ip(request, request.app[SETTINGS].trusted_proxies)
    moment = now()
    salt = await request.app[SALTS].get(request.app[DB], moment.date())
    row: ViewRow = (
        site.site_id,
        beacon["type"],
        visitor_hash(salt, site.site_id, ip, request.headers.get("User-Agent", "")),
        page.path,
        ref if ref != page.host else None,
        beacon["engaged_ms"] if beacon["type"] == "engagement" else None,
        moment,
    )
    # Acknowledged only once committed, but in the company of whatever else arrived meanwhile.
    await request.app[VIEWS].submit(row)
    return web.Response(status=202)
