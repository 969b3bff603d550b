"""Group commit: concurrent writes share one round trip; each waits until its batch commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("widget_server.runtime.groupcommit")


def _always(exc: Exception) -> bool:
    return True


class GroupCommit(Generic[T, R]):
    """No timer: while one batch is being written, the next one gathers; when idle, a write goes
    out at once. `write` gives one outcome per item, in order: a result, or an exception for that
    item's caller alone. A batch that raises is retried row by row (when `isolate` says the error
    may be one row's fault) so one bad row fails only its own caller."""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[Sequence[R | Exception]]],
        *,
        max_batch: int = 1000,
        isolate: Callable[[Exception], bool] = _always,
    ) -> None:
        self._write = write
        self._isolate = isolate
        self.max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._writing = 0
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    @property
    def queued(self) -> int:
        """Items submitted and not yet settled: gathering, or in the batch being written."""
        return len(self._pending) + self._writing

    async def submit(self, item: T) -> R:
        """Return `item`'s outcome once its batch is committed; raise what failed it."""
        return await self.post(item)

    def post(self, item: T) -> asyncio.Future[R]:
        """Queue `item` without waiting: the future settles when its batch is committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return future

    async def drain(self) -> None:
        """Wait for everything submitted so far (at shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            self.batches += 1
            self._writing = len(batch)
            try:
                await self._write_batch(batch)
            finally:
                self._writing = 0

    async def _write_batch(self, batch: Sequence[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            outcomes = await self._write([item for item, _ in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for a batch of {len(batch)}")
        except Exception as exc:
            if len(batch) == 1 or not self._isolate(exc):
                for _, future in batch:
                    _settle(future, exc)
                return
            log.warning("a batch of %d writes failed; writing them one by one", len(batch))
            for item, future in batch:
                try:
                    [outcome] = await self._write([item])
                except Exception as one:
                    _settle(future, one)
                else:
                    _settle(future, outcome)
        except BaseException:
            for _, future in batch:
                future.cancel()
            raise
        else:
            for (_, future), outcome in zip(batch, outcomes, strict=True):
                _settle(future, outcome)


class GroupWriter(GroupCommit[T, None]):
    """Group commit for writes that answer nothing but success or failure."""

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[None]], *, max_batch: int = 1000
    ) -> None:
        async def write_all(items: Sequence[T]) -> Sequence[None]:
            await write(items)
            return [None] * len(items)

        super().__init__(write_all, max_batch=max_batch)


def _settle(future: asyncio.Future[R], outcome: R | Exception) -> None:
    if future.done():  # its caller went away; the row is written all the same
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
