"""SQL for policy versions (immutable once published)."""

from __future__ import annotations

import hashlib
import uuid

import asyncpg

POLICY_COLUMNS = "site_id, version, title, body, language, sha256, published_at"


def policy_sha256(title: str, body: str) -> str:
    """The hash of the exact text a visitor was shown: title, a newline, then the body."""
    return hashlib.sha256(f"{title}\n{body}".encode()).hexdigest()


async def publish(
    conn: asyncpg.Connection, site_id: uuid.UUID, *, title: str, body: str, language: str
) -> asyncpg.Record:
    """Insert the next version; the site row lock makes concurrent publishes take turns."""
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM sites WHERE site_id = $1 FOR UPDATE", site_id)
        row = await conn.fetchrow(
            f"""INSERT INTO policies (site_id, version, title, body, language, sha256)
                SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5
                FROM policies WHERE site_id = $1
                RETURNING {POLICY_COLUMNS}""",
            site_id,
            title,
            body,
            language,
            policy_sha256(title, body),
        )
        await conn.execute("UPDATE sites SET updated_at = now() WHERE site_id = $1", site_id)
    assert row is not None
    return row


async def current(conn: asyncpg.Connection, site_id: uuid.UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {POLICY_COLUMNS} FROM policies WHERE site_id = $1 ORDER BY version DESC LIMIT 1",
        site_id,
    )


async def get_version(
    conn: asyncpg.Connection, site_id: uuid.UUID, version: int
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {POLICY_COLUMNS} FROM policies WHERE site_id = $1 AND version = $2",
        site_id,
        version,
    )


async def list_versions(conn: asyncpg.Connection, site_id: uuid.UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {POLICY_COLUMNS} FROM policies WHERE site_id = $1 ORDER BY version DESC",
            site_id,
        )
    )
