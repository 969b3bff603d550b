"""Today's visitor-hash salt, read from the database once per day per process."""

from __future__ import annotations

import datetime as dt

from widget_server.db.pool import Database
from widget_server.services.salts import salt_for


class SaltCache:
    def __init__(self) -> None:
        self._day: dt.date | None = None
        self._salt = b""

    async def get(self, db: Database, day: dt.date) -> bytes:
        if self._day != day:
            async with db.connection() as conn:
                self._salt = await salt_for(conn, day)
            self._day = day
        return self._salt
