"""Group commit: concurrent writes share one round trip; each waits until its batch commits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger("widget_server.widget_api.batch")


class GroupWriter(Generic[T]):
    """No timer: while one batch is being written, the next one gathers; when idle, a write goes
    out at once. A failed batch is retried row by row so one bad row fails only its own caller."""

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[None]], *, max_batch: int = 1000
    ) -> None:
        self._write = write
        self.max_batch = max_batch
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    async def submit(self, item: T) -> None:
        """Return once `item` is committed; raise what its write raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        await future

    async def drain(self) -> None:
        """Wait for everything submitted so far (at shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def _run(self) -> None:
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            self.batches += 1
            try:
                await self._write([item for item, _ in batch])
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0][1], exc)
                    continue
                log.warning("a batch of %d writes failed; writing them one by one", len(batch))
                for item, future in batch:
                    try:
                        await self._write([item])
                    except Exception as one:
                        _settle(future, one)
                    else:
                        _settle(future, None)
            except BaseException:
                for _, future in batch:
                    future.cancel()
                raise
            else:
                for _, future in batch:
                    _settle(future, None)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():  # its caller went away; the row is written all the same
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
