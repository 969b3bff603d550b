"""Helpers for the statistics tests: beacons through the real ingest code at a chosen moment."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN
from widget_server.domain.visitors import visitor_hash
from widget_server.schemas.widget import BEACON
from widget_server.services import salts, stats
from widget_server.web.widget.state import VIEWS

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


@dataclass(frozen=True)
class StatsSite:
    site_id: uuid.UUID
    time_zone: str = "UTC"
    origins: frozenset[str] = frozenset({HOST_ORIGIN})


@dataclass(frozen=True)
class Hit:
    """One beacon as a browser would send it, from one client, at one moment."""

    at: dt.datetime
    path: str = "/"
    kind: str = "pageview"
    ip: str = "203.0.113.9"
    user_agent: str = UA
    engaged_ms: int | None = None
    referrer: str | None = None


async def prepare(
    conn: asyncpg.Connection,
    site: StatsSite,
    hit: Hit,
    salts_seen: dict[tuple[str, dt.date], bytes] | None = None,
) -> stats.Beacon:
    """What the events handler makes of the hit (the same functions, a chosen clock)."""
    body = BEACON.load(
        {
            "type": hit.kind,
            "url": f"{HOST_ORIGIN}{hit.path}?q=secret#frag",
            "referrer": hit.referrer,
            "engaged_ms": hit.engaged_ms,
        }
    )
    when = stats.slot(site.time_zone, hit.at)
    visitor = None
    if hit.kind == "pageview":
        seen = {} if salts_seen is None else salts_seen
        key = (site.time_zone, when[0])
        if key not in seen:  # what SaltCache does: one read per zone and day
            seen[key] = await salts.salt_for(conn, site.time_zone, when[0], hit.at)
        visitor = visitor_hash(seen[key], site.site_id, hit.ip, hit.user_agent)
    return stats.beacon(site.site_id, site.origins, body["url"], body, when, visitor)


async def ingest(
    conn: asyncpg.Connection, site: StatsSite, hits: Sequence[Hit], batch: int = 500
) -> None:
    """Store the hits in the order they happen, in batches, as the group-commit writer would."""
    pending: list[stats.Beacon] = []
    seen: dict[tuple[str, dt.date], bytes] = {}
    for hit in sorted(hits, key=lambda h: h.at):
        pending.append(await prepare(conn, site, hit, seen))
        if len(pending) >= batch:
            await stats.store(conn, pending)
            pending = []
    if pending:
        await stats.store(conn, pending)


async def drain(client: TestClient[Any, Any]) -> None:
    """Wait until every accepted beacon is committed (they are answered before)."""
    app = client.app
    assert app is not None
    await app[VIEWS].drain()


async def facts(conn: asyncpg.Connection, site_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT day, hour, kind, path, referrer_host, engaged_ms, new_visitor
               FROM stats_facts WHERE site_id = $1
               ORDER BY day, hour, kind, path, engaged_ms, referrer_host""",
            site_id,
        )
    )


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)
