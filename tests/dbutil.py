"""Test databases: a fresh, migrated database on TEST_DATABASE_URL's server or an embedded one."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from widget_server.db.embedded import EmbeddedPostgres
from widget_server.db.migrations import migrate
from widget_server.services import policies

TABLES_TO_CLEAR = "merchants, daily_salts"  # everything else hangs off merchants by cascade


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_database(server_url: str, prefix: str = "widget_test") -> str:
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    await _admin(server_url, f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    conn = await asyncpg.connect(url, timeout=10)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def drop_database(server_url: str, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PgServer:
    """The Postgres server the suite uses: the configured one, or an embedded one."""

    def __init__(self) -> None:
        self.embedded: EmbeddedPostgres | None = None
        self._folder: Path | None = None
        configured = os.environ.get("TEST_DATABASE_URL", "").strip()
        if configured:
            self.url = configured
        else:
            # Not under pytest's basetemp: concurrent pytest runs prune each other's old ones.
            self._folder = Path(tempfile.mkdtemp(prefix="widget-test-pg-"))
            self.embedded = EmbeddedPostgres(self._folder)
            self.url = self.embedded.start()

    def new_database(self) -> str:
        return asyncio.run(create_database(self.url))

    def drop(self, url: str) -> None:
        asyncio.run(drop_database(self.url, url))

    def close(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


async def publish(
    conn: asyncpg.Connection, site_id: uuid.UUID, *, title: str, body: str, language: str = "en"
) -> asyncpg.Record:
    """Publish a policy version through the service, for a site known only by its id."""
    site = {"site_id": site_id, "default_locale": language}
    data = {"title": title, "body": body, "language": language}
    return await policies.publish_policy(conn, site, data)
