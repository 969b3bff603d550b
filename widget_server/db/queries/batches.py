"""Deleting in batches: short statements that lock a few rows each, so writers never wait long."""

from __future__ import annotations

import asyncpg

BATCH = 5000


async def delete_in_batches(
    conn: asyncpg.Connection, doomed: str, table: str, *args: object
) -> int:
    """Delete the rows of `table` whose ctid `doomed` selects (a query ending in `LIMIT {limit}`,
    whose rows it locks FOR UPDATE SKIP LOCKED), batch after batch; returns how many went."""
    total = 0
    while True:
        status = await conn.execute(
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY({doomed.format(limit=BATCH)}))", *args
        )
        deleted = int(status.split()[-1])
        total += deleted
        if deleted < BATCH:
            return total


async def purge_past_retention(conn: asyncpg.Connection, table: str) -> int:
    """Delete the rows of a site-owned table (with `created_at`) that are past their site's
    `retention_days`, in batches; returns how many went."""
    return await delete_in_batches(
        conn,
        f"""SELECT t.ctid FROM {table} t JOIN sites s ON s.site_id = t.site_id
            WHERE t.created_at < now() - make_interval(days => s.retention_days)
            LIMIT {{limit}} FOR UPDATE OF t SKIP LOCKED""",
        table,
    )
