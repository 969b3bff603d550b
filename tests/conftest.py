"""Shared fixtures: a real, migrated Postgres per session and a client per test."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.dbutil import TABLES_TO_CLEAR, PgServer, publish
from widget_server.app import create_app
from widget_server.db.pool import connect
from widget_server.services import merchants, sites
from widget_server.settings import Secret, Settings

TEST_SECRET = "test-secret-key-" + "x" * 40
HOST_ORIGIN = "https://shop.example"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = PgServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def database_url(pg_server: PgServer) -> Iterator[str]:
    url = pg_server.new_database()
    yield url
    pg_server.drop(url)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        secret_key=Secret(TEST_SECRET),
        database_url=Secret(database_url),
        public_url="http://widgets.test",
        data_dir=tmp_path,
        # Background jobs run only in the tests about them, never behind another test's back.
        run_jobs=False,
    )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A direct connection to the test database, emptied before the test runs."""
    conn = await connect(database_url)
    await conn.execute(f"TRUNCATE {TABLES_TO_CLEAR} CASCADE")
    yield conn
    await conn.close()


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., web.Application]:
    def factory(**changes: Any) -> web.Application:
        return create_app(dataclasses.replace(settings, **changes))

    return factory


@pytest.fixture
async def client(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
) -> TestClient[Any, Any]:
    return await aiohttp_client(make_app())


@dataclasses.dataclass
class Tenant:
    """A merchant with a key, a site (allowing HOST_ORIGIN) and a published policy."""

    merchant_id: uuid.UUID
    key: str
    site_id: uuid.UUID
    site_key: str
    policy_version: int

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@pytest.fixture
def make_tenant(db: asyncpg.Connection) -> Callable[..., Awaitable[Tenant]]:
    async def factory(
        name: str = "Shop",
        origins: tuple[str, ...] = (HOST_ORIGIN,),
        policy: bool = True,
        **site: Any,
    ) -> Tenant:
        made = await merchants.create_merchant(db, {"name": name})
        data = {"name": f"{name} site", "allowed_origins": list(origins), **site}
        row = await sites.create_site(db, made.merchant_id, data)
        version = 0
        if policy:
            pol = await publish(
                db,
                row["site_id"],
                title="Terms and privacy",
                body="We keep what you send us.\n\nNothing else.",
            )
            version = pol["version"]
        return Tenant(made.merchant_id, made.secret, row["site_id"], row["site_key"], version)

    return factory


@pytest.fixture
async def tenant(make_tenant: Callable[..., Awaitable[Tenant]]) -> Tenant:
    return await make_tenant("Alpha")


@pytest.fixture
async def other_tenant(make_tenant: Callable[..., Awaitable[Tenant]]) -> Tenant:
    return await make_tenant("Beta", origins=("https://other.example",))
