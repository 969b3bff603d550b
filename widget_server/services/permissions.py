"""Marketing permissions: the unsubscribe link's look-up and opt-out."""

from __future__ import annotations

import uuid

import asyncpg

from widget_server.db.queries import marketing_permissions
from widget_server.domain.clock import now
from widget_server.domain.errors import NotFound


async def contact(
    conn: asyncpg.Connection, site_id: uuid.UUID, contact_id: uuid.UUID
) -> asyncpg.Record:
    row = await marketing_permissions.by_contact(conn, site_id, contact_id)
    if row is None:
        raise NotFound("No such contact.")
    return row


async def opt_out(
    conn: asyncpg.Connection, site_id: uuid.UUID, contact_id: uuid.UUID, *, source: str
) -> asyncpg.Record:
    """Opted out at once; repeating it changes nothing more."""
    row = await marketing_permissions.opt_out_contact(
        conn, site_id, contact_id, source=source, at=now()
    )
    if row is None:
        raise NotFound("No such contact.")
    return row
