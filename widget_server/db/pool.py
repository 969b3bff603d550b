"""The asyncpg pool: codecs and timeouts set once, and the errors after which a retry is safe."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import cast

import asyncpg

# Errors after which a connection-level retry of an idempotent call is safe.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.InterfaceError,
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename,
            encoder=lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":")),
            decoder=json.loads,
            schema="pg_catalog",
        )


async def create_pool(
    dsn: str, *, size: int = 10, command_timeout: float = 10.0, connect_timeout: float = 5.0
) -> asyncpg.Pool:
    # min_size=0: a database that is down at start must not stop the service from
    # starting; requests answer 503 until it is back.
    pool = await asyncpg.create_pool(
        dsn,
        min_size=0,
        max_size=size,
        command_timeout=command_timeout,
        timeout=connect_timeout,
        max_inactive_connection_lifetime=300,
        init=_init_connection,
        server_settings={"application_name": "widget-server", "timezone": "UTC"},
    )
    assert pool is not None
    return pool


async def connect(dsn: str, connect_timeout: float = 10.0) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn, timeout=connect_timeout, command_timeout=60)
    await _init_connection(conn)
    return conn


class Database:
    """The pool plus the acquire timeout every caller must use."""

    def __init__(self, pool: asyncpg.Pool, acquire_timeout: float) -> None:
        self.pool = pool
        self.acquire_timeout = acquire_timeout

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            yield cast(asyncpg.Connection, conn)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.connection() as conn, conn.transaction():
            yield conn
