"""SQL for the schema_migrations table and the advisory lock that serialises migrators."""

from __future__ import annotations

import asyncpg

# Any constant works; it only has to be the same in every process of this service.
MIGRATION_LOCK_ID = 0x57494447  # "WIDG"


async def lock(conn: asyncpg.Connection) -> None:
    """Session-level: a second process waits here, then sees everything already applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)


async def unlock(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)


async def ensure_table(conn: asyncpg.Connection) -> None:
    await conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version    integer PRIMARY KEY,
               name       text NOT NULL,
               checksum   text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


async def applied(conn: asyncpg.Connection) -> dict[int, str] | None:
    """Checksums of the applied migrations by version; None before the first migration."""
    try:
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    except asyncpg.exceptions.UndefinedTableError:
        return None
    return {r["version"]: r["checksum"] for r in rows}


async def record(conn: asyncpg.Connection, version: int, name: str, checksum: str) -> None:
    await conn.execute(
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
        version,
        name,
        checksum,
    )


async def ping(conn: asyncpg.Connection, timeout: float | None = None) -> None:  # noqa: ASYNC109
    """A round trip: a connection that silently died, or a server that stalls, shows here."""
    await conn.execute("SELECT 1", timeout=timeout)
