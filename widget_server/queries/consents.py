"""SQL for the append-only consent log (writes, and the reads the widget API and CLI need)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import asyncpg

RECORD_COLUMNS = (
    "site_id",
    "record_id",
    "event_id",
    "visitor_id",
    "action",
    "surface",
    "purposes",
    "policy_version",
    "policy_sha256",
    "language",
    "page_origin",
    "page_path",
    "gpc",
    "user_agent",
    "widget_version",
    "request_id",
    "created_at",
    "valid_until",
    "receipt",
)
_COLUMNS = ", ".join(RECORD_COLUMNS)
_PARAMS = ", ".join(f"${i}" for i in range(1, len(RECORD_COLUMNS) + 1))


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
