"""SQL for the statistics aggregates: stats_days, stats_pages, stats_referrers, stats_consents and
the monthly sums stats_pages_months and stats_referrers_months.

The tables are written together by the rollup, read together by the stats endpoints and purged
together, so they share one module. Rows are added to (not replaced): a day that already has
figures (folded in from the old page_views table) gets the rollup's added on top.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from widget_server.db.queries.batches import delete_in_batches

DAILY = ("stats_days", "stats_pages", "stats_referrers", "stats_consents")
MONTHLY = ("stats_pages_months", "stats_referrers_months")
# Of two medians, the one of the larger sample (only a day folded in from old rows has two).
_MEDIAN = """CASE WHEN EXCLUDED.engagements >= t.engagements THEN EXCLUDED.median_engaged_ms
                  ELSE t.median_engaged_ms END"""


async def add_day(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    day: dt.date,
    totals: Sequence[Any],
    requests: int,
) -> None:
    """Add (pageviews, visitors, engagements, engaged_ms, median_engaged_ms) and requests."""
    await conn.execute(
        f"""INSERT INTO stats_days AS t (site_id, day, pageviews, visitors, engagements,
                engaged_ms, median_engaged_ms, requests)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (site_id, day) DO UPDATE SET
                pageviews = t.pageviews + EXCLUDED.pageviews,
                visitors = t.visitors + EXCLUDED.visitors,
                engagements = t.engagements + EXCLUDED.engagements,
                engaged_ms = t.engaged_ms + EXCLUDED.engaged_ms,
                median_engaged_ms = {_MEDIAN},
                requests = t.requests + EXCLUDED.requests""",
        site_id,
        day,
        *totals,
        requests,
    )


async def add_pages(
    conn: asyncpg.Connection, site_id: uuid.UUID, day: dt.date, rows: Sequence[Sequence[Any]]
) -> None:
    """Add (path, pageviews, entries, engagements, engaged_ms, median_engaged_ms) rows."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    await conn.execute(
        f"""INSERT INTO stats_pages AS t (site_id, day, path, pageviews, entries, engagements,
                engaged_ms, median_engaged_ms)
            SELECT $1, $2, * FROM unnest($3::text[], $4::bigint[], $5::bigint[], $6::bigint[],
                                         $7::bigint[], $8::integer[])
            ON CONFLICT (site_id, day, path) DO UPDATE SET
                pageviews = t.pageviews + EXCLUDED.pageviews,
                entries = t.entries + EXCLUDED.entries,
                engagements = t.engagements + EXCLUDED.engagements,
                engaged_ms = t.engaged_ms + EXCLUDED.engaged_ms,
                median_engaged_ms = {_MEDIAN}""",
        site_id,
        day,
        *(list(c) for c in columns),
    )
    await conn.execute(
        """INSERT INTO stats_pages_months AS t (site_id, month, path, pageviews, engagements,
               engaged_ms)
           SELECT $1, date_trunc('month', $2::date)::date, * FROM unnest($3::text[],
               $4::bigint[], $5::bigint[], $6::bigint[])
           ON CONFLICT (site_id, month, path) DO UPDATE SET
               pageviews = t.pageviews + EXCLUDED.pageviews,
               engagements = t.engagements + EXCLUDED.engagements,
               engaged_ms = t.engaged_ms + EXCLUDED.engaged_ms""",
        site_id,
        day,
        list(columns[0]),
        list(columns[1]),
        list(columns[3]),
        list(columns[4]),
    )


async def add_referrers(
    conn: asyncpg.Connection, site_id: uuid.UUID, day: dt.date, rows: Sequence[Sequence[Any]]
) -> None:
    """Add (host, visits) rows."""
    if not rows:
        return
    hosts, visits = zip(*rows, strict=True)
    await conn.execute(
        """INSERT INTO stats_referrers AS t (site_id, day, host, visits)
           SELECT $1, $2, * FROM unnest($3::text[], $4::bigint[])
           ON CONFLICT (site_id, day, host) DO UPDATE SET visits = t.visits + EXCLUDED.visits""",
        site_id,
        day,
        list(hosts),
        list(visits),
    )
    await conn.execute(
        """INSERT INTO stats_referrers_months AS t (site_id, month, host, visits)
           SELECT $1, date_trunc('month', $2::date)::date, * FROM unnest($3::text[], $4::bigint[])
           ON CONFLICT (site_id, month, host) DO UPDATE SET visits = t.visits + EXCLUDED.visits""",
        site_id,
        day,
        list(hosts),
        list(visits),
    )


async def put_consents(
    conn: asyncpg.Connection, site_id: uuid.UUID, day: dt.date, rows: Sequence[Sequence[Any]]
) -> None:
    """(policy_version, decisions, granted, visitors_counted, visitors_decided) rows."""
    await conn.executemany(
        """INSERT INTO stats_consents (site_id, day, policy_version, decisions, granted,
               visitors_counted, visitors_decided)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (site_id, day, policy_version) DO UPDATE SET
               decisions = EXCLUDED.decisions, granted = EXCLUDED.granted,
               visitors_counted = EXCLUDED.visitors_counted,
               visitors_decided = EXCLUDED.visitors_decided""",
        [(site_id, day, *row) for row in rows],
    )


# -- reading a range of days


async def first_day(conn: asyncpg.Connection, site_id: uuid.UUID) -> dt.date | None:
    value = await conn.fetchval("SELECT min(day) FROM stats_days WHERE site_id = $1", site_id)
    return value if isinstance(value, dt.date) else None


async def days(
    conn: asyncpg.Connection, site_id: uuid.UUID, first: dt.date, last: dt.date
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT day, pageviews, visitors, engagements, engaged_ms, median_engaged_ms,
                      requests
               FROM stats_days WHERE site_id = $1 AND day BETWEEN $2 AND $3""",
            site_id,
            first,
            last,
        )
    )


async def top_pages(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    first: dt.date,
    last: dt.date,
    months: tuple[dt.date, dt.date],
    limit: int,
    also: Sequence[str] = (),
) -> list[asyncpg.Record]:
    """The `limit` most viewed paths of the range, and the sums of the paths in `also`; the days
    in [months) are read from the monthly sums."""
    return list(
        await conn.fetch(
            """WITH picked AS (
                   SELECT path, pageviews, engagements, engaged_ms FROM stats_pages_months
                   WHERE site_id = $1 AND month >= $4 AND month < $5
                   UNION ALL
                   SELECT path, pageviews, engagements, engaged_ms FROM stats_pages
                   WHERE site_id = $1 AND day BETWEEN $2 AND $3 AND NOT (day >= $4 AND day < $5)
               ), sums AS (
                   SELECT path, sum(pageviews)::bigint AS pageviews,
                          sum(engagements)::bigint AS engagements,
                          sum(engaged_ms)::bigint AS engaged_ms
                   FROM picked GROUP BY path
               )
               (SELECT * FROM sums ORDER BY pageviews DESC, path LIMIT $6)
               UNION
               (SELECT * FROM sums WHERE path = ANY($7::text[]))""",
            site_id,
            first,
            last,
            *months,
            limit,
            list(also),
        )
    )


async def top_referrers(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    first: dt.date,
    last: dt.date,
    months: tuple[dt.date, dt.date],
    limit: int,
    also: Sequence[str] = (),
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """WITH picked AS (
                   SELECT host, visits FROM stats_referrers_months
                   WHERE site_id = $1 AND month >= $4 AND month < $5
                   UNION ALL
                   SELECT host, visits FROM stats_referrers
                   WHERE site_id = $1 AND day BETWEEN $2 AND $3 AND NOT (day >= $4 AND day < $5)
               ), sums AS (
                   SELECT host, sum(visits)::bigint AS visits FROM picked GROUP BY host
               )
               (SELECT * FROM sums ORDER BY visits DESC, host LIMIT $6)
               UNION
               (SELECT * FROM sums WHERE host = ANY($7::text[]))""",
            site_id,
            first,
            last,
            *months,
            limit,
            list(also),
        )
    )


async def consents(
    conn: asyncpg.Connection, site_id: uuid.UUID, first: dt.date, last: dt.date
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT day, policy_version, decisions, granted, visitors_counted, visitors_decided
               FROM stats_consents WHERE site_id = $1 AND day BETWEEN $2 AND $3""",
            site_id,
            first,
            last,
        )
    )


async def purge_expired(conn: asyncpg.Connection) -> int:
    """Delete the aggregates of days past each site's retention (days in its time zone), and
    the monthly sums of every month with such a day (its remaining days are read day by day)."""
    cutoff = "(now() AT TIME ZONE s.time_zone)::date - s.retention_days"
    doomed = {table: f"a.day < {cutoff}" for table in DAILY}
    doomed |= {table: f"a.month < {cutoff}" for table in MONTHLY}
    total = 0
    for table, condition in doomed.items():
        total += await delete_in_batches(
            conn,
            f"""SELECT a.ctid FROM {table} a JOIN sites s ON s.site_id = a.site_id
                WHERE {condition} LIMIT {{limit}} FOR UPDATE OF a SKIP LOCKED""",
            table,
        )
    return total
