"""SQL for the sites table."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg

from widget_server.db.queries.keyset import BY_TIME, Keyset, Where, fetch_page
from widget_server.domain.ids import plausible_site_key

# What a merchant sets on a site (schemas.site.SiteInputSchema loads exactly these).
SETTINGS = (
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
    "stats_mode",
)
COLUMNS = ", ".join(
    ("merchant_id", "site_id", "site_key", *SETTINGS, "disabled_at", "created_at", "updated_at")
)
# The current policy version rides along so that a site answer needs one query.
OWNED_COLUMNS = f"""{COLUMNS},
    (SELECT max(p.version) FROM policies p WHERE p.site_id = sites.site_id) AS policy_version"""
# Index sites_by_merchant.
KEYSET = Keyset(("created_at", "site_id"), BY_TIME)


async def insert(
    conn: asyncpg.Connection,
    merchant_id: uuid.UUID,
    site_id: uuid.UUID,
    site_key: str,
    values: Mapping[str, Any],
) -> asyncpg.Record:
    """A new site with every setting given (the service fills in defaults)."""
    names = ("merchant_id", "site_id", "site_key", *SETTINGS)
    placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
    row = await conn.fetchrow(
        f"INSERT INTO sites ({', '.join(names)}) VALUES ({placeholders}) RETURNING {OWNED_COLUMNS}",
        merchant_id,
        site_id,
        site_key,
        *(values[name] for name in SETTINGS),
    )
    assert row is not None
    return row


async def by_key(conn: asyncpg.Connection, site_key: str) -> asyncpg.Record | None:
    """Any site by its public key (disabled ones too)."""
    if not plausible_site_key(site_key):
        return None
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM sites WHERE site_key = $1", site_key)


async def find_by_name(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, name: str
) -> asyncpg.Record | None:
    """A merchant's oldest enabled site of this name."""
    return await conn.fetchrow(
        f"""SELECT {OWNED_COLUMNS} FROM sites
            WHERE merchant_id = $1 AND name = $2 AND disabled_at IS NULL
            ORDER BY created_at LIMIT 1""",
        merchant_id,
        name,
    )


async def owned(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str, *, lock: bool = False
) -> asyncpg.Record | None:
    """The site, only if this merchant owns it (disabled ones too: their data stays readable);
    `lock` holds it until the transaction ends, so a change merges onto what it replaces."""
    if not plausible_site_key(site_key):
        return None
    return await conn.fetchrow(
        f"SELECT {OWNED_COLUMNS} FROM sites WHERE site_key = $1 AND merchant_id = $2"
        + (" FOR UPDATE" if lock else ""),
        site_key,
        merchant_id,
    )


async def list_page(
    conn: asyncpg.Connection, merchant_id: uuid.UUID, *, after: Sequence[Any] | None, limit: int
) -> list[asyncpg.Record]:
    where = Where.of("merchant_id = {}", merchant_id)
    return await fetch_page(
        conn, f"SELECT {OWNED_COLUMNS} FROM sites", where, KEYSET, after=after, limit=limit
    )


async def update(conn: asyncpg.Connection, site_id: uuid.UUID, values: Mapping[str, Any]) -> None:
    """Write settings; updated_at moves, which is what widget config caches watch."""
    columns = [c for c in SETTINGS if c in values]
    assignments = ", ".join(f"{c} = ${i}" for i, c in enumerate(columns, start=2))
    await conn.execute(
        f"UPDATE sites SET {assignments}, updated_at = now() WHERE site_id = $1",
        site_id,
        *(values[c] for c in columns),
    )


async def disable(conn: asyncpg.Connection, merchant_id: uuid.UUID, site_key: str) -> bool:
    """Disable (idempotently); False when the merchant has no such site."""
    if not plausible_site_key(site_key):
        return False
    row = await conn.fetchrow(
        """UPDATE sites SET disabled_at = coalesce(disabled_at, now()), updated_at = now()
           WHERE site_key = $1 AND merchant_id = $2 RETURNING site_id""",
        site_key,
        merchant_id,
    )
    return row is not None


async def retention_days(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every site's id and retention, for the purge."""
    return list(await conn.fetch("SELECT site_id, retention_days FROM sites"))
