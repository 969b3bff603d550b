"""Whether the database answers, and whether its schema is the one this release expects."""

from __future__ import annotations

import asyncpg

from widget_server.db.migrations import schema_is_current
from widget_server.db.queries import schema_migrations


async def ping(conn: asyncpg.Connection) -> None:
    await schema_migrations.ping(conn)


async def schema_current(conn: asyncpg.Connection) -> bool:
    return await schema_is_current(conn)
