"""The migration runner: ordered, checksummed, locked against concurrent starts."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.dbutil import PgServer, create_database, drop_database, with_database
from widget_server.db.migrations import (
    MigrationError,
    load_migrations,
    migrate,
    schema_is_current,
    sql_dir,
)
from widget_server.db.pool import connect


@pytest.fixture
async def empty_db(pg_server: PgServer) -> AsyncIterator[str]:
    """A new, empty (unmigrated) database; dropped afterwards."""
    name = f"widget_mig_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(pg_server.url, name)
    yield url
    await drop_database(pg_server.url, url)


def test_files_are_numbered_and_ordered() -> None:
    migrations = load_migrations()
    versions = [m.version for m in migrations]
    assert versions == sorted(versions)
    assert versions[0] == 1
    assert {"0001_foundation"} <= {m.name for m in migrations}


async def test_concurrent_migrators_apply_each_file_once(empty_db: str) -> None:
    conns = [await connect(empty_db) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = [name for result in results for name in result]
        # Every file applied exactly once across the four racing processes.
        assert sorted(applied) == sorted(m.name for m in load_migrations())
        rows = await conns[0].fetch("SELECT version FROM schema_migrations ORDER BY version")
        assert [r["version"] for r in rows] == [m.version for m in load_migrations()]
        assert await schema_is_current(conns[0])
        assert await migrate(conns[0]) == []  # idempotent
    finally:
        for c in conns:
            await c.close()


async def test_edited_applied_migration_is_refused(empty_db: str, tmp_path: Path) -> None:
    copy = tmp_path / "sql"
    shutil.copytree(sql_dir(), copy)
    conn = await connect(empty_db)
    try:
        await migrate(conn, copy)
        first = sorted(copy.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match="edited after it was applied"):
            await migrate(conn, copy)
    finally:
        await conn.close()


async def test_failed_migration_rolls_back_and_records_nothing(
    empty_db: str, tmp_path: Path
) -> None:
    copy = tmp_path / "sql"
    copy.mkdir()
    (copy / "0001_ok.sql").write_text("CREATE TABLE t_ok (id int);")
    (copy / "0002_bad.sql").write_text("CREATE TABLE t_bad (id int); SELECT * FROM no_such_table;")
    conn = await connect(empty_db)
    try:
        with pytest.raises(asyncpg.UndefinedTableError):
            await migrate(conn, copy)
        versions = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
        assert versions == [1]
        assert await conn.fetchval("SELECT to_regclass('t_bad')") is None
        # The lock was released: another session can take it at once.
        assert await conn.fetchval("SELECT pg_try_advisory_lock(1)")
    finally:
        await conn.close()


async def test_schema_not_current_until_migrated(empty_db: str) -> None:
    conn = await connect(empty_db)
    try:
        assert not await schema_is_current(conn)
        await migrate(conn)
        assert await schema_is_current(conn)
    finally:
        await conn.close()


async def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "first.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_name"):
        load_migrations(tmp_path)


async def test_policies_and_consent_records_cannot_be_updated(pg_server: PgServer) -> None:
    url = await create_database(pg_server.url, "widget_immut")
    conn = await connect(url)
    try:
        await conn.execute(
            "INSERT INTO merchants VALUES ('00000000-0000-0000-0000-000000000001', 'm')"
        )
        await conn.execute(
            """INSERT INTO sites (merchant_id, site_id, site_key, name, form, purposes)
               VALUES ('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002',
                       'st_x', 's', '{}', '[]')"""
        )
        await conn.execute(
            """INSERT INTO policies (site_id, version, title, body, language, sha256)
               VALUES ('00000000-0000-0000-0000-000000000002', 1, 't', 'b', 'en', 'h')"""
        )
        with pytest.raises(asyncpg.RestrictViolationError):
            await conn.execute("UPDATE policies SET body = 'changed'")
        assert await conn.fetchval("SELECT body FROM policies") == "b"
    finally:
        await conn.close()
        await drop_database(pg_server.url, url)
