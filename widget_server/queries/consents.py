"""SQL for the append-only consent log (writes, and the reads the widget API and CLI need)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import asyncpg

from widget_server.receipts import CANONICAL_FIELDS

# Every field a receipt covers, then the receipt: the stored row is exactly what was signed.
RECORD_COLUMNS = (*CANONICAL_FIELDS, "receipt")
_COLUMNS = ", ".join(RECORD_COLUMNS)
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


async def insert_record(
    conn: asyncpg.Connection, record: Mapping[str, Any]
) -> tuple[asyncpg.Record, bool]:
    """Store a record; (the stored row, True), or for a repeated event_id (the first row, False)."""
    row = await conn.fetchrow(
        f"""INSERT INTO consent_records ({_COLUMNS}) VALUES ({_PARAMS})
            ON CONFLICT (site_id, event_id) DO NOTHING
            RETURNING {_COLUMNS}""",
        *(record[c] for c in RECORD_COLUMNS),
    )
    if row is not None:
        return row, True
    # The conflicting insert has committed (ON CONFLICT waited for it), so this read sees it.
    first = await find_by_event(conn, record["site_id"], record["event_id"])
    assert first is not None
    return first, False


async def insert_records(
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
            f"""INSERT INTO consent_records ({_COLUMNS})
                SELECT {_SELECTED} FROM unnest({_UNNEST}) AS r ({_COLUMNS})
                ON CONFLICT (site_id, event_id) DO NOTHING
                RETURNING {_COLUMNS}""",
            *columns,
        )
    )


async def find_by_events(
    conn: asyncpg.Connection, keys: Collection[tuple[uuid.UUID, uuid.UUID]]
) -> list[asyncpg.Record]:
    """The stored records of many (site_id, event_id) pairs; pairs with none are left out."""
    if not keys:
        return []
    return list(
        await conn.fetch(
            f"""SELECT {_COLUMNS} FROM consent_records
                WHERE (site_id, event_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[]))""",
            [site_id for site_id, _ in keys],
            [event_id for _, event_id in keys],
        )
    )


async def current_policies(
    conn: asyncpg.Connection, site_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, asyncpg.Record]:
    """The current (highest) policy version of each site a batch of consents is for."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (site_id) site_id, version, sha256 FROM policies
           WHERE site_id = ANY($1::uuid[]) ORDER BY site_id, version DESC""",
        list(site_ids),
    )
    return {row["site_id"]: row for row in rows}


async def find_by_event(
    conn: asyncpg.Connection, site_id: uuid.UUID, event_id: uuid.UUID
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM consent_records WHERE site_id = $1 AND event_id = $2",
        site_id,
        event_id,
    )


async def get_record(conn: asyncpg.Connection, record_id: uuid.UUID) -> asyncpg.Record | None:
    """One record by id alone (the CLI knows no site); record ids are unique UUIDv7s."""
    return await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM consent_records WHERE record_id = $1", record_id
    )
