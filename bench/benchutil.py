"""Helpers the bench scripts share: scratch database URLs, free ports, waiting for readiness."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from urllib.parse import urlsplit, urlunsplit

import aiohttp


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(
    session: aiohttp.ClientSession, base: str, server: subprocess.Popen[bytes] | None = None
) -> None:
    """Poll /readyz for up to 30 s; fail early if the server process died."""
    for _ in range(300):
        if server is not None and server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            async with session.get(base + "/readyz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready in 30 s")
