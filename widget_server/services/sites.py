"""Sites: created and changed through one schema, whoever asks (the API or the CLI)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg

from widget_server.db.queries import merchants, sites
from widget_server.domain.errors import Invalid, NotFound
from widget_server.domain.ids import new_site_key
from widget_server.schemas.loading import load
from widget_server.schemas.site import SiteInputSchema

KEYSET = sites.KEYSET
NO_SITE = "No such site for this key's merchant."


async def create_site(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, data: Any
) -> asyncpg.Record:
    """A new site from `data` (validated, defaults filled in); Invalid or NotFound otherwise."""
    values = load(SiteInputSchema(), data)
    if not await merchants.exists(conn, merchant_id):
        raise NotFound(f"No merchant {merchant_id}.")
    return await sites.insert(conn, merchant_id, uuid.uuid4(), new_site_key(), values)


async def owned_site(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str
) -> asyncpg.Record:
    """The merchant's site (disabled ones too); anyone else's is the same NotFound as none."""
    row = await sites.owned(conn, merchant_id, site_key)
    if row is None:
        raise NotFound(NO_SITE)
    return row


async def site_by_key(conn: asyncpg.Connection, site_key: str) -> asyncpg.Record:
    """Any site by its key, for the operator's CLI, which acts for every merchant."""
    row = await sites.by_key(conn, site_key)
    if row is None:
        raise NotFound(f"No site with key {site_key!r}.")
    return row


# The merchant's sites, newest first (a read with no rule of its own).
list_sites = sites.list_page


async def update_site(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str, patch: Any
) -> asyncpg.Record:
    """Apply a partial change: the patch lands on the current settings, and the result is
    validated as a whole (so a site can never hold a combination the schema refuses)."""
    if not isinstance(patch, dict):
        raise Invalid({"_body": ["Expected an object."]}, "The body must be a JSON object.")
    async with conn.transaction():
        current = await sites.owned(conn, merchant_id, site_key, lock=True)
        if current is None:
            raise NotFound(NO_SITE)
        merged = {**{name: current[name] for name in sites.SETTINGS}, **patch}
        values = load(SiteInputSchema(), merged)
        await sites.update(conn, current["site_id"], values)
        row = await sites.owned(conn, merchant_id, site_key)
    assert row is not None
    return row


async def disable_site(conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str) -> None:
    """The widget API then answers 404 for it; its data stays until retention or erasure."""
    if not await sites.disable(conn, merchant_id, site_key):
        raise NotFound(NO_SITE)


async def find_or_create(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, name: str, origins: Sequence[str]
) -> asyncpg.Record:
    """The merchant's enabled site of this name, allowing `origins`, or a new one (the demo's)."""
    row = await sites.find_by_name(conn, merchant_id, name)
    if row is None:
        return await create_site(conn, merchant_id, {"name": name, "allowed_origins": origins})
    missing = [o for o in origins if o not in row["allowed_origins"]]
    if not missing:
        return row
    patch = {"allowed_origins": [*row["allowed_origins"], *missing]}
    return await update_site(conn, merchant_id, row["site_key"], patch)
