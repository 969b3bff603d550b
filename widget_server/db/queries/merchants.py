"""SQL for the merchants table."""

from __future__ import annotations

import uuid

import asyncpg


async def insert(conn: asyncpg.Connection, merchant_id: uuid.UUID, name: str) -> None:
    await conn.execute(
        "INSERT INTO merchants (merchant_id, name) VALUES ($1, $2)", merchant_id, name
    )


async def find_by_name(conn: asyncpg.Connection, name: str) -> uuid.UUID | None:
    value = await conn.fetchval(
        "SELECT merchant_id FROM merchants WHERE name = $1 ORDER BY created_at LIMIT 1", name
    )
    return value if isinstance(value, uuid.UUID) else None


async def exists(conn: asyncpg.Connection, merchant_id: uuid.UUID) -> bool:
    return bool(
        await conn.fetchval("SELECT true FROM merchants WHERE merchant_id = $1", merchant_id)
    )
