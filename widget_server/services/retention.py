"""Retention: what is past each site's `retention_days` goes, and daily salts after 48 hours."""

from __future__ import annotations

import asyncpg

from widget_server.db.queries import consent_records, daily_salts, info_requests, page_views
from widget_server.services.salts import SALT_LIFETIME


async def purge(conn: asyncpg.Connection) -> dict[str, int]:
    """Delete everything past retention; returns the rows deleted per table.
    Opt-outs are kept: forgetting one would let a later import mail the person again."""
    return {
        "consent_records": await consent_records.purge_expired(conn),
        "info_requests": await info_requests.purge_expired(conn),
        "page_views": await page_views.purge_expired(conn),
        "daily_salts": await daily_salts.delete_created_before(conn, SALT_LIFETIME),
    }
