"""The jobs runtime: periodic jobs and queue consumers, in every process, each unit of work done once."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import asyncpg

from widget_server.db.pool import TRANSIENT_ERRORS, Database, connect
from widget_server.db.queries import jobs, schema_migrations

log = logging.getLogger("widget_server.jobs")
# Errors after which a job simply tries again at its next turn.
RETRYABLE: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, asyncpg.PostgresError)
LISTENER_PING_SECONDS = 30.0


@dataclass(frozen=True)
class Periodic:
    """Work due every `every`; one process runs each due turn (claimed in job_schedule)."""

    name: str
    every: dt.timedelta
    run: Callable[[Database], Awaitable[object]]
    # How long a claim holds before another process may take over a run that never finished.
    lease: dt.timedelta = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class Consumer:
    """A queue worked in batches: `take` claims and handles some items (with FOR UPDATE SKIP
    LOCKED, so processes share the queue) and says how many; at 0 the consumer waits for a
    NOTIFY on `channel`, a local wake-up, or `idle` seconds, whichever comes first."""

    name: str
    take: Callable[[Database], Awaitable[int]]
    channel: str | None = None
    idle: float = 5.0


@dataclass
class _Waker:
    events: dict[str, asyncio.Event] = field(default_factory=dict)

    def event(self, name: str) -> asyncio.Event:
        return self.events.setdefault(name, asyncio.Event())


class JobRunner:
    """Runs its jobs until stopped; `stop` lets work in flight finish (up to a timeout), then
    cancels it and gives unfinished claims back so that another process takes them at once."""

    def __init__(
        self,
        db: Database,
        periodic: Sequence[Periodic] = (),
        consumers: Sequence[Consumer] = (),
        *,
        dsn: str | None = None,
        tick: float = 1.0,
    ) -> None:
        self.db = db
        self.periodic = tuple(periodic)
        self.consumers = tuple(consumers)
        self.dsn = dsn
        self.tick = tick
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._stopping = asyncio.Event()
        self._waker = _Waker()
        self._tasks: list[asyncio.Task[None]] = []
        self._running: set[str] = set()

    def wake(self, name: str) -> None:
        """Wake a consumer of this process now (work was queued here)."""
        self._waker.event(name).set()

    async def start(self) -> None:
        for job in self.periodic:
            self._tasks.append(asyncio.create_task(self._periodic(job), name=f"job:{job.name}"))
        for consumer in self.consumers:
            task = asyncio.create_task(self._consume(consumer), name=f"consumer:{consumer.name}")
            self._tasks.append(task)
        channels = {c.channel: c.name for c in self.consumers if c.channel}
        if channels and self.dsn:
            self._tasks.append(asyncio.create_task(self._listen(channels), name="jobs:listen"))

    async def stop(self, grace: float = 10.0) -> None:
        self._stopping.set()
        for event in self._waker.events.values():
            event.set()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        for name in list(self._running):
            with contextlib.suppress(*RETRYABLE):
                async with self.db.connection() as conn:
                    await jobs.release(conn, name, worker=self.worker)

    async def _sleep(self, seconds: float, event: asyncio.Event | None = None) -> None:
        waiters = [asyncio.ensure_future(self._stopping.wait())]
        if event is not None:
            waiters.append(asyncio.ensure_future(event.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if event is not None:
            event.clear()

    async def run_due(self, job: Periodic) -> bool:
        """Run the job once if it is due and this process wins the claim; True if it ran."""
        async with self.db.connection() as conn:
            await jobs.ensure(conn, job.name)
            if not await jobs.claim(conn, job.name, lease=job.lease, worker=self.worker):
                return False
        self._running.add(job.name)
        error: str | None = None
        try:
            await job.run(self.db)
        except asyncio.CancelledError:
            raise  # stop() gives the claim back
        except Exception as exc:
            error = type(exc).__name__
            log.exception("job %s failed", job.name)
        async with self.db.connection() as conn:
            await jobs.finish(conn, job.name, worker=self.worker, every=job.every, error=error)
        self._running.discard(job.name)
        return True

    async def _periodic(self, job: Periodic) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_due(job)
            except RETRYABLE:
                log.warning("job %s: database unavailable; trying again later", job.name)
            await self._sleep(self.tick)

    async def _consume(self, consumer: Consumer) -> None:
        event = self._waker.event(consumer.name)
        while not self._stopping.is_set():
            try:
                taken = await consumer.take(self.db)
            except RETRYABLE:
                log.warning("consumer %s: database unavailable; trying again", consumer.name)
                taken = 0
            except Exception:
                log.exception("consumer %s failed", consumer.name)
                taken = 0
            if not taken:
                await self._sleep(consumer.idle, event)

    async def _listen(self, channels: dict[str, str]) -> None:
        """NOTIFY from any process wakes the consumer of that channel here."""
        assert self.dsn is not None
        delay = 0.5
        while not self._stopping.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await connect(self.dsn)
                for channel, name in channels.items():
                    await conn.add_listener(channel, lambda *_args, name=name: self.wake(name))
                delay = 0.5
                while not self._stopping.is_set():
                    await self._sleep(LISTENER_PING_SECONDS)
                    await schema_migrations.ping(conn, timeout=5)
            except RETRYABLE:
                log.warning("jobs listener lost its connection; retrying in %.1fs", delay)
            finally:
                if conn is not None and not conn.is_closed():
                    conn.terminate()
            await self._sleep(delay)
            delay = min(delay * 2, 30.0)
