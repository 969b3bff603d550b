"""SQL for policy versions (immutable once published)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import Any

import asyncpg

from widget_server.db.queries.keyset import Keyset, Where, fetch_page

COLUMNS = "site_id, version, title, body, language, sha256, published_at"
# The primary key (site_id, version).
KEYSET = Keyset(("version",), ("int",))


async def insert_next(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    *,
    title: str,
    body: str,
    language: str,
    sha256: str,
) -> asyncpg.Record:
    """Insert the next version; the site row lock makes concurrent publishes take turns."""
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM sites WHERE site_id = $1 FOR UPDATE", site_id)
        row = await conn.fetchrow(
            f"""INSERT INTO policies (site_id, version, title, body, language, sha256)
                SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5
                FROM policies WHERE site_id = $1
                RETURNING {COLUMNS}""",
            site_id,
            title,
            body,
            language,
            sha256,
        )
        await conn.execute("UPDATE sites SET updated_at = now() WHERE site_id = $1", site_id)
    assert row is not None
    return row


async def current(conn: asyncpg.Connection, site_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM policies WHERE site_id = $1 ORDER BY version DESC LIMIT 1",
        site_id,
    )


async def current_of_sites(
    conn: asyncpg.Connection, site_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    """The current (highest) version of each site, in one query."""
    rows = await conn.fetch(
        f"""SELECT DISTINCT ON (site_id) {COLUMNS} FROM policies
            WHERE site_id = ANY($1::uuid[]) ORDER BY site_id, version DESC""",
        list(site_ids),
    )
    return {row["site_id"]: row for row in rows}


async def all_versions(conn: asyncpg.Connection, site_id: uuid.UUID) -> list[asyncpg.Record]:
    """Every version, newest first (a policy page lists them all)."""
    return list(
        await conn.fetch(
            f"SELECT {COLUMNS} FROM policies WHERE site_id = $1 ORDER BY version DESC", site_id
        )
    )


async def list_page(
    conn: asyncpg.Connection, site_id: uuid.UUID, *, after: Sequence[Any] | None, limit: int
) -> list[asyncpg.Record]:
    where = Where.of("site_id = {}", site_id)
    return await fetch_page(
        conn, f"SELECT {COLUMNS} FROM policies", where, KEYSET, after=after, limit=limit
    )
