"""SQL for API keys as the merchant API sees them: authentication, list, revoke."""

from __future__ import annotations

import uuid

import asyncpg

from widget_server.queries.merchant_filters import TimeKey

KEY_COLUMNS = "merchant_id, key_id, lookup, name, scopes, created_at, last_used_at, revoked_at"


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


async def list_keys(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, *, after: TimeKey | None, limit: int
) -> list[asyncpg.Record]:
    """Newest first, keyset-paginated on (created_at, key_id); index api_keys_by_merchant_time."""
    if after is None:
        rows = await conn.fetch(
            f"""SELECT {KEY_COLUMNS} FROM api_keys WHERE merchant_id = $1
                ORDER BY created_at DESC, key_id DESC LIMIT $2""",
            merchant_id,
            limit,
        )
    else:
        rows = await conn.fetch(
            f"""SELECT {KEY_COLUMNS} FROM api_keys
                WHERE merchant_id = $1 AND (created_at, key_id) < ($2, $3)
                ORDER BY created_at DESC, key_id DESC LIMIT $4""",
            merchant_id,
            after[0],
            after[1],
            limit,
        )
    return list(rows)


async def revoke(conn: asyncpg.Connection, merchant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Revoke (idempotently); False when the merchant has no such key."""
    row = await conn.fetchrow(
        """UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
           WHERE merchant_id = $1 AND key_id = $2 RETURNING key_id""",
        merchant_id,
        key_id,
    )
    return row is not None


async def owned_key(conn: asyncpg.Connection, merchant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    """Whether the merchant has this key (revoked ones too)."""
    found = await conn.fetchval(
        "SELECT true FROM api_keys WHERE merchant_id = $1 AND key_id = $2", merchant_id, key_id
    )
    return found is not None
