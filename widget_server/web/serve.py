"""Run one or more aiohttp apps until SIGINT or SIGTERM, then shut them down in order."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")


async def serve(
    apps: Sequence[tuple[web.Application, str, int]],
    *,
    on_ready: Callable[[list[str]], Awaitable[None]] | None = None,
) -> None:
    """Start every (app, host, port); call on_ready with their base URLs; wait for a signal."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runners: list[web.AppRunner] = []
    try:
        urls = []
        for app, host, port in apps:
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=5)
            await runner.setup()
            runners.append(runner)
            site = web.TCPSite(runner, host, port, reuse_address=True)
            await site.start()
            urls.append(f"http://{host}:{port}")
        if on_ready is not None:
            await on_ready(urls)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        for runner in reversed(runners):
            with contextlib.suppress(Exception):
                await runner.cleanup()


def run(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run with uvloop when it is installed (30-40% faster here)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
