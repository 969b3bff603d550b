"""Anonymous statistics at ingest: a beacon becomes a fact with no identifier and an hour's time."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg

from widget_server.db.queries import stats_facts
from widget_server.db.queries.stats_facts import FactRow
from widget_server.domain.beacons import own_hosts, referrer_source
from widget_server.domain.calendar import local_slot
from widget_server.domain.origins import PageLocation

_shuffle = random.SystemRandom().shuffle


@dataclass(frozen=True, slots=True)
class Beacon:
    """One beacon on its way to the database. `visitor` (a page view's hash of the day) is only
    looked up in the day's set and never written beside the fact."""

    site_id: uuid.UUID
    day: dt.date
    hour: int
    kind: str
    path: str
    referrer_host: str | None
    engaged_ms: int | None
    visitor: bytes | None


def slot(time_zone: str, moment: dt.datetime) -> tuple[dt.date, int]:
    """The site-local day (whose salt and set count the visitor) and hour of a beacon."""
    return local_slot(time_zone, moment)


def beacon(
    site_id: uuid.UUID,
    origins: frozenset[str],
    page: PageLocation,
    body: Mapping[str, Any],
    when: tuple[dt.date, int],
    visitor: bytes | None,
) -> Beacon:
    """The fact a checked beacon keeps: the path (no query, no fragment), another site's host as
    referrer (page views only) and, for engagement, the visible time."""
    kind = body["type"]
    engaged = body.get("engaged_ms") if kind == "engagement" else None
    referrer = (
        referrer_source(body.get("referrer"), own_hosts(origins) | {page.host})
        if kind == "pageview"
        else None
    )
    return Beacon(
        site_id,
        when[0],
        when[1],
        kind,
        page.path,
        referrer,
        engaged,
        visitor if kind == "pageview" else None,
    )


def one_row_at_fault(exc: Exception) -> bool:
    """Whether a failed batch may fail for one row's data (else retrying row by row only
    repeats the failure, as when the database is down)."""
    return isinstance(exc, asyncpg.DataError | asyncpg.IntegrityConstraintViolationError)


async def store(conn: asyncpg.Connection, beacons: Sequence[Beacon]) -> None:
    """Write a batch in one statement: each page view's hash goes into its day's set, and a view
    whose hash was not there yet is a new visitor's; the facts are stored without any hash."""
    rows: list[tuple[FactRow, bytes | None]] = []
    seen: set[tuple[uuid.UUID, dt.date, bytes]] = set()
    for b in beacons:
        visitor = b.visitor
        if visitor is not None:
            key = (b.site_id, b.day, visitor)
            if key in seen:
                visitor = None  # only a batch's first view of a visitor can be the first
            seen.add(key)
        fact = (b.day, b.site_id, b.hour, b.kind, b.path, b.referrer_host, b.engaged_ms, False)
        rows.append((fact, visitor))
    # Within a batch, rows go in no particular order: their place in the table does not tell
    # which of the batch's views came one after the other.
    _shuffle(rows)
    facts, hashes = [f for f, _ in rows], [h for _, h in rows]
    try:
        await stats_facts.insert_counting_visitors(conn, facts, hashes)
    except asyncpg.CheckViolationError:
        # No partition for a day yet (a fresh database, or the job has not run): make it, once.
        days = {b.day for b in beacons}
        if not await stats_facts.missing(conn, days):
            raise
        await stats_facts.create_partitions(conn, days)
        await stats_facts.insert_counting_visitors(conn, facts, hashes)
