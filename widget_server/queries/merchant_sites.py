"""SQL for sites as the merchant API sees them: owned look-ups, list, change, disable, policies."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from widget_server.queries.merchant_filters import TimeKey
from widget_server.queries.policies import POLICY_COLUMNS
from widget_server.queries.sites import SITE_COLUMNS

# The current policy version rides along so a site answer needs one query.
OWNED_COLUMNS = f"""{SITE_COLUMNS},
    (SELECT max(p.version) FROM policies p WHERE p.site_id = sites.site_id) AS policy_version"""
UPDATABLE = (
    "name",
    "allowed_origins",
    "default_locale",
    "time_zone",
    "form",
    "purposes",
    "texts",
    "theme",
    "consent_expiry_days",
    "retention_days",
    "store_user_agent",
)


async def owned_site(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str
) -> asyncpg.Record | None:
    """The site, only if this merchant owns it (disabled ones too: their data stays readable)."""
    return await conn.fetchrow(
        f"SELECT {OWNED_COLUMNS} FROM sites WHERE site_key = $1 AND merchant_id = $2",
        site_key,
        merchant_id,
    )


async def list_sites(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, *, after: TimeKey | None, limit: int
) -> list[asyncpg.Record]:
    """Newest first on (created_at, site_id); index sites_by_merchant."""
    if after is None:
        return list(
            await conn.fetch(
                f"""SELECT {OWNED_COLUMNS} FROM sites WHERE merchant_id = $1
                    ORDER BY created_at DESC, site_id DESC LIMIT $2""",
                merchant_id,
                limit,
            )
        )
    return list(
        await conn.fetch(
            f"""SELECT {OWNED_COLUMNS} FROM sites
                WHERE merchant_id = $1 AND (created_at, site_id) < ($2, $3)
                ORDER BY created_at DESC, site_id DESC LIMIT $4""",
            merchant_id,
            after[0],
            after[1],
            limit,
        )
    )


async def lock_site(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str
) -> asyncpg.Record | None:
    """The owned site, locked until the transaction ends, so a PATCH merges onto what it replaces."""
    return await conn.fetchrow(
        f"SELECT {OWNED_COLUMNS} FROM sites WHERE site_key = $1 AND merchant_id = $2 FOR UPDATE",
        site_key,
        merchant_id,
    )


async def update_site(conn: asyncpg.Connection, site_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Write the validated settings; updated_at moves, which is what widget config caches watch."""
    columns = [c for c in UPDATABLE if c in values]
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE sites SET {assignments}, updated_at = now() WHERE site_id = $1",
        site_id,
        *(values[c] for c in columns),
    )


async def disable_site(conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str) -> bool:
    """Disable (idempotently); False when the merchant has no such site."""
    row = await conn.fetchrow(
        """UPDATE sites SET disabled_at = coalesce(disabled_at, now()), updated_at = now()
           WHERE site_key = $1 AND merchant_id = $2 RETURNING site_id""",
        site_key,
        merchant_id,
    )
    return row is not None


async def list_policies(
    conn: asyncpg.Connection, site_id: uuid.UUID, *, after: int | None, limit: int
) -> list[asyncpg.Record]:
    """Newest version first, keyset on version; primary key (site_id, version)."""
    return list(
        await conn.fetch(
            f"""SELECT {POLICY_COLUMNS} FROM policies
                WHERE site_id = $1 AND version < $2
                ORDER BY version DESC LIMIT $3""",
            site_id,
            after if after is not None else 2**31 - 1,
            limit,
        )
    )
