"""POST /v1/widget/SITE_KEY/events: page-view and engagement beacons, counted anonymously."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from aiohttp import web

from widget_server.db.pool import Database
from widget_server.domain.bots import is_bot
from widget_server.domain.clock import now
from widget_server.domain.visitors import visitor_hash
from widget_server.keys import DB, SETTINGS
from widget_server.runtime.groupcommit import GroupCommit
from widget_server.schemas.widget import BEACON
from widget_server.services import stats
from widget_server.services.widget_sites import Site
from widget_server.web.clientip import client_ip
from widget_server.web.widget.common import check_page, read_write
from widget_server.web.widget.state import SALTS, VIEWS

log = logging.getLogger("widget_server.web.widget.events")
# Beacons are answered before their batch commits; past this many waiting, a caller waits for
# its own commit, so a flood slows down instead of filling memory.
MAX_UNCOMMITTED = 20_000


def beacon_writer(db: Database) -> GroupCommit[stats.Beacon, None]:
    """Batches of beacons, one statement each; a failed batch is logged once (its class only: a
    message could carry a path, and paths can be personal) and retried row by row only when
    the error can be one row's fault."""

    async def write(beacons: Sequence[stats.Beacon]) -> Sequence[None]:
        try:
            async with db.connection() as conn:
                await stats.store(conn, beacons)
        except Exception as exc:
            log.warning("%d beacons not stored: %s", len(beacons), type(exc).__name__)
            raise
        return [None] * len(beacons)

    return GroupCommit(write, isolate=stats.one_row_at_fault)


def _retrieved(future: asyncio.Future[None]) -> None:
    """Nobody awaits a beacon's future: take its exception (already logged by the writer)."""
    if not future.cancelled():
        future.exception()


async def post_event(request: web.Request, site: Site) -> web.StreamResponse:
    beacon = await read_write(request, site, BEACON)
    page = check_page(site, beacon["url"], "url")
    user_agent = request.headers.get("User-Agent", "")
    accepted = web.Response(status=202)
    if site.stats_mode == "off" or is_bot(user_agent):
        return accepted
    if beacon["type"] == "engagement" and not beacon["engaged_ms"]:
        return accepted  # no time to credit
    moment = now()
    when = stats.slot(site.time_zone, moment)
    visitor = None
    if beacon["type"] == "pageview":
        # The IP address is used here, in memory, and nowhere else.
        salt = await request.app[SALTS].get(request.app[DB], site.time_zone, when[0], moment)
        ip = client_ip(request, request.app[SETTINGS].trusted_proxies)
        visitor = visitor_hash(salt, site.site_id, ip, user_agent)
    item = stats.beacon(site.site_id, site.allowed_origins, page, beacon, when, visitor)
    writer = request.app[VIEWS]
    future = writer.post(item)
    future.add_done_callback(_retrieved)
    if writer.queued > MAX_UNCOMMITTED:
        await asyncio.shield(future)
    return accepted
