"""SQL for merchants and their API keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg

from widget_server import apikeys


async def create_merchant(conn: asyncpg.Connection, name: str) -> uuid.UUID:
    merchant_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO merchants (merchant_id, name) VALUES ($1, $2)", merchant_id, name
    )
    return merchant_id


async def find_merchant_by_name(conn: asyncpg.Connection, name: str) -> uuid.UUID | None:
    value = await conn.fetchval(
        "SELECT merchant_id FROM merchants WHERE name = $1 ORDER BY created_at LIMIT 1", name
    )
    return value if isinstance(value, uuid.UUID) else None


async def merchant_exists(conn: asyncpg.Connection, merchant_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval("SELECT true FROM merchants WHERE merchant_id = $1", merchant_id)
    )


async def create_key(
    conn: asyncpg.Connection,
    merchant_id: uuid.UUID,
    *,
    name: str = "",
    scopes: Sequence[str] = ("read", "write"),
) -> tuple[asyncpg.Record, str]:
    """Insert a new key; returns its row and the secret, which exists nowhere else afterwards."""
    key = apikeys.generate()
    row = await conn.fetchrow(
        """INSERT INTO api_keys (merchant_id, key_id, lookup, secret_sha256, name, scopes)
           VALUES ($1, $2, $3, $4, $5, $6)
           RETURNING merchant_id, key_id, lookup, name, scopes, created_at, last_used_at, revoked_at""",
        merchant_id,
        uuid.uuid4(),
        key.lookup,
        key.digest,
        name,
        list(scopes),
    )
    assert row is not None
    return row, key.secret
