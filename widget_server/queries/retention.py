"""SQL that enforces retention: each site's `retention_days`, and 48 hours for daily salts."""

from __future__ import annotations

import asyncpg

# Opt-outs are kept: forgetting one would let a later import mail the person again.
PURGES = {
    "consent_records": """DELETE FROM consent_records c USING sites s
        WHERE c.site_id = s.site_id AND c.created_at < now() - make_interval(days => s.retention_days)""",
    "info_requests": """DELETE FROM info_requests r USING sites s
        WHERE r.site_id = s.site_id AND r.created_at < now() - make_interval(days => s.retention_days)""",
    "page_views": """DELETE FROM page_views v USING sites s
        WHERE v.site_id = s.site_id AND v.created_at < now() - make_interval(days => s.retention_days)""",
    "daily_salts": "DELETE FROM daily_salts WHERE created_at < now() - interval '48 hours'",
}


async def purge(conn: asyncpg.Connection) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table, sql in PURGES.items():
        status = await conn.execute(sql)
        counts[table] = int(status.split()[-1])
    return counts
