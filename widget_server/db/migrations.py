"""Forward-only, checksummed SQL migrations from sql/, applied under an advisory lock."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from widget_server.db.queries import schema_migrations
from widget_server.paths import data_dir

log = logging.getLogger("widget_server.db")


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
    return data_dir("sql")


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
    await schema_migrations.lock(conn)
    try:
        await schema_migrations.ensure_table(conn)
        done = await schema_migrations.applied(conn) or {}
        for m in migrations:
            checksum = done.get(m.version)
            if checksum is not None:
                if checksum != m.checksum:
                    raise MigrationError(
                        f"migration {m.name} was edited after it was applied "
                        f"(recorded checksum {checksum[:12]}, file {m.checksum[:12]}); "
                        "add a new migration instead"
                    )
                continue
            async with conn.transaction():
                await conn.execute(m.sql)  # the migration file is the SQL
                await schema_migrations.record(conn, m.version, m.name, m.checksum)
            log.info("applied migration %s", m.name)
            applied_now.append(m.name)
    finally:
        await schema_migrations.unlock(conn)
    return applied_now


async def schema_is_current(conn: asyncpg.Connection) -> bool:
    expected = {m.version: m.checksum for m in load_migrations()}
    return await schema_migrations.applied(conn) == expected
