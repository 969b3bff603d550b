"""SQL for the api_keys table: insert, authentication look-up, list, revoke."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from widget_server.db.queries.keyset import BY_TIME, Keyset, Where, fetch_page

COLUMNS = "merchant_id, key_id, lookup, name, scopes, created_at, last_used_at, revoked_at"
# Index api_keys_by_merchant_time.
KEYSET = Keyset(("created_at", "key_id"), BY_TIME)


async def insert(
    conn: asyncpg.Connection,
    merchant_id: uuid.UUID,
    *,
    key_id: uuid.UUID,
    lookup: str,
    digest: bytes,
    name: str,
    scopes: Sequence[str],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        f"""INSERT INTO api_keys (merchant_id, key_id, lookup, secret_sha256, name, scopes)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}""",
        merchant_id,
        key_id,
        lookup,
        digest,
        name,
        list(scopes),
    )
    assert row is not None
    return row


async def find_for_auth(conn: asyncpg.Connection, lookup: str) -> asyncpg.Record | None:
    """The key row by its lookup prefix, with `stale` telling whether last_used_at needs a write."""
    return await conn.fetchrow(
        """SELECT merchant_id, key_id, secret_sha256, scopes, revoked_at,
                  (last_used_at IS NULL OR last_used_at < now() - interval '1 minute') AS stale
           FROM api_keys WHERE lookup = $1""",
        lookup,
    )


async def touch(conn: asyncpg.Connection, merchant_id: uuid.UUID, key_id: uuid.UUID) -> None:
    # The guard repeats the staleness test so concurrent requests write at most once a minute.
    await conn.execute(
        """UPDATE api_keys SET last_used_at = now()
           WHERE merchant_id = $1 AND key_id = $2
             AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')""",
        merchant_id,
        key_id,
    )


async def list_page(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, *, after: Sequence[Any] | None, limit: int
) -> list[asyncpg.Record]:
    where = Where.of("merchant_id = {}", merchant_id)
    return await fetch_page(
        conn, f"SELECT {COLUMNS} FROM api_keys", where, KEYSET, after=after, limit=limit
    )


async def revoke(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, key_id: uuid.UUID
) -> asyncpg.Record | None:
    """Revoke (idempotently, keeping the first revocation's time); None when there is no such key."""
    return await conn.fetchrow(
        f"""UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
            WHERE merchant_id = $1 AND key_id = $2 RETURNING {COLUMNS}""",
        merchant_id,
        key_id,
    )


async def owned(conn: asyncpg.Connection, merchant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Whether the merchant has this key (revoked ones too)."""
    found = await conn.fetchval(
        "SELECT true FROM api_keys WHERE merchant_id = $1 AND key_id = $2", merchant_id, key_id
    )
    return found is not None


async def secret_digest(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, lookup: str
) -> bytes | None:
    """The stored digest of a merchant's unrevoked key with this lookup prefix."""
    value = await conn.fetchval(
        """SELECT secret_sha256 FROM api_keys
           WHERE lookup = $1 AND merchant_id = $2 AND revoked_at IS NULL""",
        lookup,
        merchant_id,
    )
    return value if isinstance(value, bytes) else None
