"""The visitor-hash salt of each time zone's current day, read from the database once per day."""

from __future__ import annotations

import asyncio
import datetime as dt

from widget_server.db.pool import Database
from widget_server.services.salts import salt_for


class SaltCache:
    """Holds one salt per time zone, for its current day only; concurrent misses share a read."""

    def __init__(self) -> None:
        self._salts: dict[str, tuple[dt.date, bytes]] = {}
        self._loading: dict[tuple[str, dt.date], asyncio.Task[bytes]] = {}

    async def get(self, db: Database, zone: str, day: dt.date, now: dt.datetime) -> bytes:
        """The salt of `day`, the local day of `now` in `zone`."""
        hit = self._salts.get(zone)
        if hit is not None and hit[0] == day:
            return hit[1]
        key = (zone, day)
        task = self._loading.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load(db, zone, day, now))
            self._loading[key] = task
            task.add_done_callback(lambda _: self._loading.pop(key, None))
        return await asyncio.shield(task)

    async def _load(self, db: Database, zone: str, day: dt.date, now: dt.datetime) -> bytes:
        async with db.connection() as conn:
            salt = await salt_for(conn, zone, day, now)
        self._salts[zone] = (day, salt)  # the day before's salt leaves memory here
        return salt
