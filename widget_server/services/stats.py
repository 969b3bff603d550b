"""Anonymous statistics: page views written in bulk."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from widget_server.db.queries import page_views
from widget_server.db.queries.page_views import ViewRow


async def store_views(conn: asyncpg.Connection, rows: Sequence[ViewRow]) -> None:
    await page_views.insert_many(conn, rows)
