"""Database lifecycle: the asyncpg pool, the migration runner over sql/, the embedded Postgres."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import asyncpg

log = logging.getLogger("widget_server.db")

# Any constant works; it only has to be the same in every process of this service.
MIGRATION_LOCK_ID = 0x57494447  # "WIDG"

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


class MigrationError(RuntimeError):
    """A migration file cannot be applied, or an applied one was edited."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def sql_dir() -> Path:
    """Where the migrations are: inside the installed package, else beside it in a checkout."""
    packaged = Path(__file__).parent / "sql"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "sql"


def load_migrations(directory: Path | None = None) -> list[Migration]:
    found = []
    for path in sorted((directory or sql_dir()).glob("*.sql")):
        head, _, rest = path.stem.partition("_")
        if not head.isdigit() or not rest:
            raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql")
        found.append(Migration(int(head), path.stem, path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return found


async def migrate(conn: asyncpg.Connection, directory: Path | None = None) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns the names applied."""
    migrations = load_migrations(directory)
    applied_now: list[str] = []
    # Session-level lock: a second process waits here, then sees everything already applied.
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        done = {
            r["version"]: r
            for r in await conn.fetch("SELECT version, name, checksum FROM schema_migrations")
        }
        for m in migrations:
            row = done.get(m.version)
            if row is not None:
                if row["checksum"] != m.checksum:
                    raise MigrationError(
                        f"migration {m.name} was edited after it was applied "
                        f"(recorded checksum {row['checksum'][:12]}, file {m.checksum[:12]}); "
                        "add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    m.version,
                    m.name,
                    m.checksum,
                )
            log.info("applied migration %s", m.name)
            applied_now.append(m.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    return applied_now


async def schema_is_current(conn: asyncpg.Connection) -> bool:
    expected = {m.version: m.checksum for m in load_migrations()}
    try:
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
    except asyncpg.exceptions.UndefinedTableError:
        return False
    return {r["version"]: r["checksum"] for r in rows} == expected


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


class EmbeddedPostgres:
    """A real Postgres in a local folder (pgserver), stopped when this object is closed."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: Any = None

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver

            self._server = pgserver.get_server(self.pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
        return str(self._server.get_uri())

    @property
    def postmaster_pid(self) -> int | None:
        if self._server is None:
            return None
        pid = self._server.get_pid()
        return int(pid) if pid else None

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def database_url(configured: str | None, data_dir: Path) -> Iterator[str]:
    """The configured URL, or an embedded Postgres for as long as the block runs."""
    if configured:
        yield configured
        return
    embedded = EmbeddedPostgres(data_dir)
    url = embedded.start()
    log.info("embedded postgres started in %s (pid %s)", embedded.pgdata, embedded.postmaster_pid)
    try:
        yield url
    finally:
        embedded.stop()
        log.info("embedded postgres stopped")
