"""SQL for the append-only consent log: writes, look-ups, the merchant's list and export."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from widget_server.db.queries.batches import purge_past_retention
from widget_server.db.queries.keyset import (
    BY_TIME,
    Keyset,
    TimeWindow,
    Where,
    fetch_page,
    jsonb_keys,
    open_cursor,
)
from widget_server.domain.receipts import CANONICAL_FIELDS

# Every field a receipt covers, then the receipt: the stored row is exactly what was signed.
RECORD_COLUMNS = (*CANONICAL_FIELDS, "receipt")
COLUMNS = ", ".join(RECORD_COLUMNS)
_PARAMS = ", ".join(f"${i}" for i in range(1, len(RECORD_COLUMNS) + 1))
# Column types for unnest(): one array parameter per column, jsonb sent as text.
_TYPES = {
    "site_id": "uuid",
    "record_id": "uuid",
    "event_id": "uuid",
    "policy_version": "integer",
    "gpc": "boolean",
    "request_id": "uuid",
    "created_at": "timestamptz",
    "valid_until": "timestamptz",
}
_UNNEST = ", ".join(
    f"${i}::{_TYPES.get(c, 'text')}[]" for i, c in enumerate(RECORD_COLUMNS, start=1)
)
_SELECTED = ", ".join("purposes::jsonb" if c == "purposes" else c for c in RECORD_COLUMNS)
SELECT = f"SELECT {COLUMNS} FROM consent_records"
# Index consent_records_by_time.
KEYSET = Keyset(("created_at", "record_id"), BY_TIME)


async def insert(
    conn: asyncpg.Connection, record: Mapping[str, Any]
) -> tuple[asyncpg.Record, bool]:
    """Store a record; (the stored row, True), or for a repeated event_id (the first row, False)."""
    row = await conn.fetchrow(
        f"""INSERT INTO consent_records ({COLUMNS}) VALUES ({_PARAMS})
            ON CONFLICT (site_id, event_id) DO NOTHING
            RETURNING {COLUMNS}""",
        *(record[c] for c in RECORD_COLUMNS),
    )
    if row is not None:
        return row, True
    # The conflicting insert has committed (ON CONFLICT waited for it), so this read sees it.
    first = await by_event(conn, record["site_id"], record["event_id"])
    assert first is not None
    return first, False


async def insert_many(
    conn: asyncpg.Connection, records: Sequence[Mapping[str, Any]]
) -> list[asyncpg.Record]:
    """Store many records in one statement (so one transaction); returns the rows it inserted.

    A record whose (site_id, event_id) is already stored, or comes earlier in `records`, is
    skipped. Rows go in sorted by that key, so two writers with overlapping batches wait on each
    other in the same order and cannot deadlock."""
    if not records:
        return []
    ordered = sorted(records, key=lambda r: (r["site_id"], r["event_id"]))
    columns = [
        [json.dumps(r[c], ensure_ascii=False, separators=(",", ":")) for r in ordered]
        if c == "purposes"
        else [r[c] for r in ordered]
        for c in RECORD_COLUMNS
    ]
    return list(
        await conn.fetch(
            f"""INSERT INTO consent_records ({COLUMNS})
                SELECT {_SELECTED} FROM unnest({_UNNEST}) AS r ({COLUMNS})
                ON CONFLICT (site_id, event_id) DO NOTHING
                RETURNING {COLUMNS}""",
            *columns,
        )
    )


async def by_events(
    conn: asyncpg.Connection, keys: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> list[asyncpg.Record]:
    """The stored records of many (site_id, event_id) pairs; pairs with none are left out."""
    if not keys:
        return []
    return list(
        await conn.fetch(
            f"""SELECT {COLUMNS} FROM consent_records
                WHERE (site_id, event_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))""",
            [site_id for site_id, _ in keys],
            [event_id for _, event_id in keys],
        )
    )


async def by_event(
    conn: asyncpg.Connection, site_id: uuid.UUID, event_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM consent_records WHERE site_id = $1 AND event_id = $2",
        site_id,
        event_id,
    )


async def by_id(conn: asyncpg.Connection, record_id: uuid.UUID) -> asyncpg.Record | None:
    """One record by id alone (the CLI knows no site); record ids are unique UUIDv7s."""
    return await conn.fetchrow(
        f"SELECT {COLUMNS} FROM consent_records WHERE record_id = $1", record_id
    )


@dataclass(frozen=True)
class ConsentFilter:
    visitor_id: str | None = None
    action: str | None = None
    policy_version: int | None = None
    window: TimeWindow = field(default_factory=TimeWindow)

    def where(self, site_id: uuid.UUID) -> Where:
        where = Where()
        where.add("site_id = {}", site_id)
        if self.visitor_id is not None:
            where.add("visitor_id = {}", self.visitor_id)
        if self.action is not None:
            where.add("action = {}", self.action)
        if self.policy_version is not None:
            where.add("policy_version = {}", self.policy_version)
        self.window.apply(where)
        return where


async def list_page(
    conn: asyncpg.Connection,
    site_id: uuid.UUID,
    filt: ConsentFilter,
    *,
    after: Sequence[Any] | None,
    limit: int,
) -> list[asyncpg.Record]:
    return await fetch_page(conn, SELECT, filt.where(site_id), KEYSET, after=after, limit=limit)


async def purpose_keys_found(
    conn: asyncpg.Connection, site_id: uuid.UUID, filt: ConsentFilter
) -> list[str]:
    """Every purpose key among the matching rows, for the CSV header."""
    return await jsonb_keys(conn, "consent_records", "purposes", filt.where(site_id))


async def open_export(
    conn: asyncpg.Connection, site_id: uuid.UUID, filt: ConsentFilter
) -> asyncpg.cursor.Cursor:
    """A server-side cursor over every matching record, newest first; needs a transaction."""
    return await open_cursor(conn, SELECT, filt.where(site_id), KEYSET)


async def purge_expired(conn: asyncpg.Connection) -> int:
    """Delete what is past each site's retention, in batches; returns how many rows went."""
    return await purge_past_retention(conn, "consent_records")
