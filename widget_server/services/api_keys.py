"""API keys: created with a secret shown once, stored only as a hash, listed and revoked."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from widget_server.db.queries import api_keys, merchants
from widget_server.domain import apikeys
from widget_server.domain.errors import NotFound, Unauthorized
from widget_server.schemas.loading import load
from widget_server.schemas.merchant import ApiKeyCreateSchema

KEYSET = api_keys.KEYSET


async def create_key(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, data: Any
) -> tuple[asyncpg.Record, str]:
    """A new key for `{name, scopes}`; returns its row and the secret, which exists nowhere else."""
    values = load(ApiKeyCreateSchema(), data)
    if not await merchants.exists(conn, merchant_id):
        raise NotFound(f"No merchant {merchant_id}.")
    key = apikeys.generate()
    row = await api_keys.insert(
        conn,
        merchant_id,
        key_id=uuid.uuid4(),
        lookup=key.lookup,
        digest=key.digest,
        name=values["name"],
        scopes=values["scopes"],
    )
    return row, key.secret


# The merchant's keys, newest first (a read with no rule of its own).
list_keys = api_keys.list_page


async def revoke_key(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, key_id: uuid.UUID
) -> asyncpg.Record:
    """Revoke (idempotently); takes effect on the key's next request."""
    row = await api_keys.revoke(conn, merchant_id, key_id)
    if row is None:
        raise NotFound("No such API key for this key's merchant.")
    return row


async def owned(conn: asyncpg.Connection, merchant_id: uuid.UUID, key_id: uuid.UUID) -> bool:
    return await api_keys.owned(conn, merchant_id, key_id)


async def still_valid(conn: asyncpg.Connection, merchant_id: uuid.UUID, secret: str) -> bool:
    """Whether a secret kept elsewhere (the demo's) is still an unrevoked key of this merchant."""
    if not apikeys.well_formed(secret):
        return False
    digest = await api_keys.secret_digest(conn, merchant_id, apikeys.lookup_of(secret))
    return digest is not None and apikeys.matches(secret, digest)


# Compared against when no key row matches, so an unknown key costs the same work as a wrong one.
_NO_DIGEST = apikeys.digest_of("wsk_" + "0" * 43)


async def authenticate(conn: asyncpg.Connection, secret: str) -> asyncpg.Record:
    """The key row of a well-formed secret, or Unauthorized; notes the use (at most once a minute).
    Looked up on every request (one indexed row), so a revocation holds from the next one on."""
    row = await api_keys.find_for_auth(conn, apikeys.lookup_of(secret))
    digest = row["secret_sha256"] if row is not None else _NO_DIGEST
    if not apikeys.matches(secret, digest) or row is None:
        raise Unauthorized("This API key is not valid.")
    if row["revoked_at"] is not None:
        raise Unauthorized("This API key has been revoked.")
    if row["stale"]:
        await api_keys.touch(conn, row["merchant_id"], row["key_id"])
    return row
