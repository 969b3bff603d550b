"""Retention: what is past each site's `retention_days` goes (statistics too), and salts after 48 hours."""

from __future__ import annotations

import asyncpg

from widget_server.db.queries import consent_records, info_requests, stats_daily
from widget_server.domain.clock import now
from widget_server.services import salts


async def purge(conn: asyncpg.Connection) -> dict[str, int]:
    """Delete everything past retention; returns the rows deleted per table.
    Opt-outs are kept: forgetting one would let a later import mail the person again."""
    return {
        "consent_records": await consent_records.purge_expired(conn),
        "info_requests": await info_requests.purge_expired(conn),
        "statistics": await stats_daily.purge_expired(conn),
        **await salts.forget(conn, now()),
    }
