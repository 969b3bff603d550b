"""Per-process cache of site configurations, dropped on NOTIFY from any process, with a TTL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import asyncpg

from widget_server.db.pool import TRANSIENT_ERRORS, Database, connect
from widget_server.db.queries import schema_migrations
from widget_server.domain.ids import plausible_site_key
from widget_server.services.widget_sites import Site, load_enabled

log = logging.getLogger("widget_server.runtime.sitecache")
CHANNEL = "widget_site_changed"
MAX_ENTRIES = 10_000
LISTENER_PING_SECONDS = 30.0
LISTENER_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.PostgresError)


class SiteCache:
    """site_key -> Site (or None for unknown/disabled), fresh for `ttl` seconds or until notified."""

    def __init__(self, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[str, tuple[float, Site | None]] = {}
        self._loading: dict[str, asyncio.Task[Site | None]] = {}
        self._generation = 0

    async def get(self, db: Database, site_key: str) -> Site | None:
        if not plausible_site_key(site_key):
            return None
        hit = self._entries.get(site_key)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        task = self._loading.get(site_key)
        if task is None:
            # Many visitors asking at once for a cold site cost one query, not one each; the load
            # runs as its own task so that one impatient client cannot cancel it for the others.
            task = asyncio.create_task(self._load_and_keep(db, site_key))
            self._loading[site_key] = task
            task.add_done_callback(lambda t: self._done(site_key, t))
        return await asyncio.shield(task)

    def _done(self, site_key: str, task: asyncio.Task[Site | None]) -> None:
        if self._loading.get(site_key) is task:
            del self._loading[site_key]
        if not task.cancelled():
            task.exception()  # retrieved here, so a load nobody waits for any more logs nothing

    async def _load_and_keep(self, db: Database, site_key: str) -> Site | None:
        generation = self._generation
        site = await self._load(db, site_key)
        # A change notified while we were reading may not be in what we read: do not keep it.
        if generation == self._generation:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[site_key] = (self._clock() + self.ttl, site)
        return site

    async def _load(self, db: Database, site_key: str) -> Site | None:
        async with db.connection() as conn:
            return await load_enabled(conn, site_key)

    def invalidate(self, site_key: str) -> None:
        self._generation += 1
        self._entries.pop(site_key, None)

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


async def listen(dsn: str, cache: SiteCache, ready: asyncio.Event) -> None:
    """Hold a LISTEN connection; reconnect with backoff; forget everything after a gap."""
    delay = 0.5
    while True:
        conn: asyncpg.Connection | None = None
        try:
            conn = await connect(dsn)
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn, lost=lost: lost.set())
            await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, key: cache.invalidate(str(key)))
            cache.clear()  # notifications sent while we were not listening are gone
            ready.set()
            delay = 0.5
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), LISTENER_PING_SECONDS)
                if not lost.is_set():
                    # A silently dead TCP connection never terminates; a query finds out.
                    await schema_migrations.ping(conn, timeout=5)
        except LISTENER_ERRORS:
            log.warning("site change listener lost its connection; retrying in %.1fs", delay)
        finally:
            ready.set()
            if conn is not None and not conn.is_closed():
                conn.terminate()
        cache.clear()
        await asyncio.sleep(delay)
        delay = min(delay * 2, 30.0)
