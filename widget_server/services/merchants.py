"""Merchants: created with their first API key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from widget_server.db.queries import merchants
from widget_server.domain.errors import NotFound
from widget_server.schemas.loading import load
from widget_server.schemas.merchant import MerchantCreateSchema
from widget_server.services import api_keys


@dataclass(frozen=True)
class NewMerchant:
    merchant_id: uuid.UUID
    key: asyncpg.Record
    secret: str


async def create_merchant(conn: asyncpg.Connection, data: Any) -> NewMerchant:
    """A merchant and its first key (both scopes), in one transaction; the secret is shown once."""
    values = load(MerchantCreateSchema(), data)
    merchant_id = uuid.uuid4()
    async with conn.transaction():
        await merchants.insert(conn, merchant_id, values["name"])
        key, secret = await api_keys.create_key(conn, merchant_id, {"name": "first key"})
    return NewMerchant(merchant_id, key, secret)


async def require_merchant(conn: asyncpg.Connection, merchant_id: uuid.UUID) -> None:
    if not await merchants.exists(conn, merchant_id):
        raise NotFound(f"No merchant {merchant_id}.")


async def find_or_create(conn: asyncpg.Connection, name: str) -> uuid.UUID:
    """The oldest merchant of this name, or a new one without keys (the demo's)."""
    found = await merchants.find_by_name(conn, name)
    if found is not None:
        return found
    values = load(MerchantCreateSchema(), {"name": name})
    merchant_id = uuid.uuid4()
    await merchants.insert(conn, merchant_id, values["name"])
    return merchant_id
