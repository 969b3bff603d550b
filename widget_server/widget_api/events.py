"""POST /v1/widget/SITE_KEY/events: page-view and engagement beacons, counted anonymously."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Sequence

from aiohttp import web

from widget_server.clientip import client_ip
from widget_server.db import Database
from widget_server.keys import DB, SETTINGS
from widget_server.queries import pageviews
from widget_server.schemas.widget import BEACON, referrer_host
from widget_server.widget_api.common import check_page, now, read_write
from widget_server.widget_api.cors import widget_endpoint
from widget_server.widget_api.sitecache import Site
from widget_server.widget_api.state import SALTS, VIEWS

VISITOR_HASH_BYTES = 16


class SaltCache:
    """Today's salt, read from the database once per day per process."""

    def __init__(self) -> None:
        self._day: dt.date | None = None
        self._salt = b""

    async def get(self, db: Database, day: dt.date) -> bytes:
        if self._day != day:
            async with db.connection() as conn:
                self._salt = await pageviews.salt_for(conn, day)
            self._day = day
        return self._salt


def visitor_hash(salt: bytes, site_id: uuid.UUID, ip: str, user_agent: str) -> bytes:
    """Plausible's scheme: the same visitor is the same hash for one day on one site, no longer."""
    message = f"{site_id}|{ip}|{user_agent}".encode("utf-8", "replace")
    return hmac.new(salt, message, hashlib.sha256).digest()[:VISITOR_HASH_BYTES]


def view_writer(app: web.Application) -> pageviews.Writer:
    async def write(rows: Sequence[pageviews.ViewRow]) -> None:
        async with app[DB].connection() as conn:
            await pageviews.insert_views(conn, rows)

    return write


@widget_endpoint
async def post_event(request: web.Request, site: Site) -> web.StreamResponse:
    beacon = await read_write(request, site, BEACON)
    page = check_page(site, beacon["url"], "url")
    ref = referrer_host(beacon["referrer"])
    ip = client_ip(request, request.app[SETTINGS].trusted_proxies)
    moment = now()
    salt = await request.app[SALTS].get(request.app[DB], moment.date())
    row: pageviews.ViewRow = (
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
