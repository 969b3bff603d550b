"""SQL the statistics rollup reads from consent_records, info_requests and policies: counts only.

Kept apart from those tables' own modules because it serves one reader; nothing here touches the
page-view facts, so consent records and requests are never joined to visits.
"""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg

# What a visitor answers on the consent notice (accept_terms comes with a form, not the notice).
NOTICE_ACTIONS = ["accept_all", "reject_all", "custom", "withdraw"]


async def decisions(
    conn: asyncpg.Connection, site_id: uuid.UUID, zone: str, start: dt.datetime, end: dt.datetime
) -> list[asyncpg.Record]:
    """Per local day, policy version and action: the decisions recorded."""
    return list(
        await conn.fetch(
            """SELECT (created_at AT TIME ZONE $2)::date AS day, policy_version, action,
                      count(*) AS n
               FROM consent_records
               WHERE site_id = $1 AND created_at >= $3 AND created_at < $4
               GROUP BY 1, 2, 3""",
            site_id,
            zone,
            start,
            end,
        )
    )


async def grants(
    conn: asyncpg.Connection, site_id: uuid.UUID, zone: str, start: dt.datetime, end: dt.datetime
) -> list[asyncpg.Record]:
    """Per local day, policy version and purpose: the notice decisions that granted it."""
    return list(
        await conn.fetch(
            """SELECT (c.created_at AT TIME ZONE $2)::date AS day, c.policy_version,
                      p.key AS purpose, count(*) AS n
               FROM consent_records c CROSS JOIN LATERAL jsonb_each(c.purposes) p
               WHERE c.site_id = $1 AND c.created_at >= $3 AND c.created_at < $4
                 AND c.action = ANY($5::text[]) AND p.value = 'true'::jsonb
               GROUP BY 1, 2, 3""",
            site_id,
            zone,
            start,
            end,
            NOTICE_ACTIONS,
        )
    )


async def deciders(
    conn: asyncpg.Connection, site_id: uuid.UUID, zone: str, start: dt.datetime, end: dt.datetime
) -> list[asyncpg.Record]:
    """Per local day and policy version: how many visitors answered the notice."""
    return list(
        await conn.fetch(
            """SELECT (created_at AT TIME ZONE $2)::date AS day, policy_version,
                      count(DISTINCT visitor_id) AS n
               FROM consent_records
               WHERE site_id = $1 AND created_at >= $3 AND created_at < $4
                 AND action = ANY($5::text[])
               GROUP BY 1, 2""",
            site_id,
            zone,
            start,
            end,
            NOTICE_ACTIONS,
        )
    )


async def requests(
    conn: asyncpg.Connection, site_id: uuid.UUID, zone: str, start: dt.datetime, end: dt.datetime
) -> list[asyncpg.Record]:
    """Per local day: the info requests not marked spam."""
    return list(
        await conn.fetch(
            """SELECT (created_at AT TIME ZONE $2)::date AS day, count(*) AS n
               FROM info_requests
               WHERE site_id = $1 AND created_at >= $3 AND created_at < $4 AND status <> 'spam'
               GROUP BY 1""",
            site_id,
            zone,
            start,
            end,
        )
    )


async def policy_times(
    conn: asyncpg.Connection, site_id: uuid.UUID
) -> list[tuple[int, dt.datetime]]:
    """Every policy version and when it was published, oldest first."""
    rows = await conn.fetch(
        "SELECT version, published_at FROM policies WHERE site_id = $1 ORDER BY version", site_id
    )
    return [(r["version"], r["published_at"]) for r in rows]


async def first_activity(conn: asyncpg.Connection, site_id: uuid.UUID) -> dt.datetime | None:
    """The earliest consent record or request of the site (where its statistics could begin)."""
    value = await conn.fetchval(
        """SELECT least((SELECT min(created_at) FROM consent_records WHERE site_id = $1),
                        (SELECT min(created_at) FROM info_requests WHERE site_id = $1))""",
        site_id,
    )
    return value if isinstance(value, dt.datetime) else None
