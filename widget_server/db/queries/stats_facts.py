"""SQL for stats_facts: anonymous page-view facts in one partition per day, read only to roll up."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Collection, Sequence

import asyncpg

TABLE = "stats_facts"
COLUMNS = ("day", "site_id", "hour", "kind", "path", "referrer_host", "engaged_ms", "new_visitor")
FactRow = tuple[dt.date, uuid.UUID, int, str, str, str | None, int | None, bool]
_PARTITION = re.compile(r"^stats_facts_(\d{8})$")
# Partition DDL waits this long for the table lock at most, then gives up until the next run.
DDL_LOCK_TIMEOUT = "5s"
PARTITION_LOCK = 0x57A75  # advisory lock: one process at a time creates or drops partitions


def partition_name(day: dt.date) -> str:
    return f"{TABLE}_{day:%Y%m%d}"


async def insert_counting_visitors(
    conn: asyncpg.Connection, rows: Sequence[FactRow], hashes: Sequence[bytes | None]
) -> None:
    """Facts and, in the same statement, their visitors: each row's hash (None for most) goes
    into the day's set, and a row whose hash was not there yet is stored as a new visitor's.
    The hash itself is never stored beside the fact (the rows' `new_visitor` is ignored)."""
    columns = list(zip(*rows, strict=True))
    await conn.execute(
        """WITH input AS (
               SELECT * FROM unnest($1::date[], $2::uuid[], $3::smallint[], $4::text[],
                                    $5::text[], $6::text[], $7::integer[], $8::bytea[])
                   AS t(day, site_id, hour, kind, path, referrer_host, engaged_ms, hash)
           ), added AS (
               INSERT INTO stats_visitor_hashes (site_id, day, hash)
               SELECT DISTINCT site_id, day, hash FROM input WHERE hash IS NOT NULL
               ON CONFLICT DO NOTHING
               RETURNING site_id, day, hash
           )
           INSERT INTO stats_facts (day, site_id, hour, kind, path, referrer_host, engaged_ms,
                                    new_visitor)
           SELECT i.day, i.site_id, i.hour, i.kind, i.path, i.referrer_host, i.engaged_ms,
                  a.hash IS NOT NULL
           FROM input i
           LEFT JOIN added a ON a.site_id = i.site_id AND a.day = i.day AND a.hash = i.hash""",
        *(list(c) for c in columns[:7]),
        list(hashes),
    )


async def partitions(conn: asyncpg.Connection) -> list[dt.date]:
    """The days that have a partition, oldest first."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'stats_facts'::regclass"""
    )
    found = []
    for row in rows:
        match = _PARTITION.match(row["relname"])
        if match:
            found.append(dt.datetime.strptime(match.group(1), "%Y%m%d").date())
    return sorted(found)


async def missing(conn: asyncpg.Connection, days: Collection[dt.date]) -> list[dt.date]:
    """Those of `days` without a partition."""
    names = {partition_name(d): d for d in days}
    rows = await conn.fetch(
        "SELECT n FROM unnest($1::text[]) AS n WHERE to_regclass(n) IS NULL", list(names)
    )
    return sorted(names[r["n"]] for r in rows)


async def create_partitions(conn: asyncpg.Connection, days: Collection[dt.date]) -> list[dt.date]:
    """Create the partitions of `days` that do not exist yet; returns those created."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{DDL_LOCK_TIMEOUT}'")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK)
        todo = await missing(conn, days)
        for day in todo:
            # The bounds are dates formatted here, never outside text.
            await conn.execute(
                f"CREATE TABLE {partition_name(day)} PARTITION OF {TABLE} "
                f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + dt.timedelta(days=1)).isoformat()}')"
            )
    return todo


async def drop_partition(conn: asyncpg.Connection, day: dt.date) -> None:
    """Drop a whole day of facts at once."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{DDL_LOCK_TIMEOUT}'")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", PARTITION_LOCK)
        await conn.execute(f"DROP TABLE IF EXISTS {partition_name(day)}")


async def sites_not_final(conn: asyncpg.Connection, day: dt.date) -> list[uuid.UUID]:
    """Sites with facts on `day` whose rollup has not finalised it yet."""
    rows = await conn.fetch(
        """SELECT s.site_id FROM sites s LEFT JOIN stats_rollups r ON r.site_id = s.site_id
           WHERE (r.final_through IS NULL OR r.final_through < $1)
             AND EXISTS (SELECT 1 FROM stats_facts f WHERE f.day = $1 AND f.site_id = s.site_id)""",
        day,
    )
    return [r["site_id"] for r in rows]


async def first_day(conn: asyncpg.Connection, site_id: uuid.UUID) -> dt.date | None:
    value = await conn.fetchval("SELECT min(day) FROM stats_facts WHERE site_id = $1", site_id)
    return value if isinstance(value, dt.date) else None


# -- what a day's facts add up to (the rollup, and the days not final yet)


async def day_totals(
    conn: asyncpg.Connection, site_id: uuid.UUID, days: Sequence[dt.date]
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT day,
                      count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
                      count(*) FILTER (WHERE new_visitor) AS visitors,
                      count(engaged_ms) FILTER (WHERE kind = 'engagement') AS engagements,
                      coalesce(sum(engaged_ms) FILTER (WHERE kind = 'engagement'), 0) AS engaged_ms,
                      round(percentile_cont(0.5) WITHIN GROUP (ORDER BY engaged_ms)
                            FILTER (WHERE kind = 'engagement'))::integer AS median_engaged_ms
               FROM stats_facts WHERE site_id = $1 AND day = ANY($2::date[])
               GROUP BY day""",
            site_id,
            list(days),
        )
    )


async def page_totals(
    conn: asyncpg.Connection, site_id: uuid.UUID, days: Sequence[dt.date], per_day: int
) -> list[asyncpg.Record]:
    """Per day and path, the `per_day` most viewed paths of each day."""
    return list(
        await conn.fetch(
            """SELECT day, path, pageviews, entries, engagements, engaged_ms, median_engaged_ms
               FROM (
                   SELECT day, path,
                          count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
                          count(*) FILTER (WHERE new_visitor) AS entries,
                          count(engaged_ms) FILTER (WHERE kind = 'engagement') AS engagements,
                          coalesce(sum(engaged_ms) FILTER (WHERE kind = 'engagement'), 0)
                              AS engaged_ms,
                          round(percentile_cont(0.5) WITHIN GROUP (ORDER BY engaged_ms)
                                FILTER (WHERE kind = 'engagement'))::integer AS median_engaged_ms,
                          row_number() OVER (
                              PARTITION BY day
                              ORDER BY count(*) FILTER (WHERE kind = 'pageview') DESC, path
                          ) AS rank
                   FROM stats_facts WHERE site_id = $1 AND day = ANY($2::date[])
                   GROUP BY day, path
               ) ranked
               WHERE rank <= $3""",
            site_id,
            list(days),
            per_day,
        )
    )


async def referrer_totals(
    conn: asyncpg.Connection, site_id: uuid.UUID, days: Sequence[dt.date], per_day: int
) -> list[asyncpg.Record]:
    """Per day, the `per_day` hosts that sent the most page views."""
    return list(
        await conn.fetch(
            """SELECT day, host, visits FROM (
                   SELECT day, referrer_host AS host, count(*) AS visits,
                          row_number() OVER (PARTITION BY day ORDER BY count(*) DESC, referrer_host)
                              AS rank
                   FROM stats_facts
                   WHERE site_id = $1 AND day = ANY($2::date[]) AND kind = 'pageview'
                     AND referrer_host IS NOT NULL
                   GROUP BY day, referrer_host
               ) ranked
               WHERE rank <= $3""",
            site_id,
            list(days),
            per_day,
        )
    )


async def page_sums(
    conn: asyncpg.Connection, site_id: uuid.UUID, days: Sequence[dt.date], limit: int
) -> list[asyncpg.Record]:
    """Per path over all of `days`: views and engagement, the `limit` most viewed paths."""
    return list(
        await conn.fetch(
            """SELECT path, count(*) FILTER (WHERE kind = 'pageview') AS pageviews,
                      count(engaged_ms) FILTER (WHERE kind = 'engagement') AS engagements,
                      coalesce(sum(engaged_ms) FILTER (WHERE kind = 'engagement'), 0)
                          AS engaged_ms
               FROM stats_facts WHERE site_id = $1 AND day = ANY($2::date[])
               GROUP BY path ORDER BY 2 DESC, path LIMIT $3""",
            site_id,
            list(days),
            limit,
        )
    )


async def referrer_sums(
    conn: asyncpg.Connection, site_id: uuid.UUID, days: Sequence[dt.date], limit: int
) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            """SELECT referrer_host AS host, count(*) AS visits FROM stats_facts
               WHERE site_id = $1 AND day = ANY($2::date[]) AND kind = 'pageview'
                 AND referrer_host IS NOT NULL
               GROUP BY referrer_host ORDER BY 2 DESC, referrer_host LIMIT $3""",
            site_id,
            list(days),
            limit,
        )
    )


async def hourly_visitors(
    conn: asyncpg.Connection, site_id: uuid.UUID, days: Sequence[dt.date]
) -> list[asyncpg.Record]:
    """New visitors per local day and hour (to credit them to the policy version then current)."""
    return list(
        await conn.fetch(
            """SELECT day, hour, count(*) AS visitors FROM stats_facts
               WHERE site_id = $1 AND day = ANY($2::date[]) AND new_visitor
               GROUP BY day, hour""",
            site_id,
            list(days),
        )
    )
