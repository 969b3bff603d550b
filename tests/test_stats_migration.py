"""Upgrading folds the old page_views rows (a day-long hash beside an exact time) into aggregates
and drops them; the site's day then goes on counting from there."""

from __future__ import annotations

import datetime as dt
import secrets
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from tests.dbutil import PgServer, drop_database, with_database
from widget_server.db.migrations import migrate, sql_dir
from widget_server.db.pool import connect
from widget_server.services import rollups

BEFORE = 11  # the last migration of the old design


@pytest.fixture
async def old_db(pg_server: PgServer, tmp_path: Path) -> AsyncIterator[asyncpg.Connection]:
    name = f"widget_old_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(pg_server.url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(pg_server.url, name)
    old = tmp_path / "sql"
    old.mkdir()
    for path in sorted(sql_dir().glob("*.sql")):
        if int(path.name[:4]) <= BEFORE:
            shutil.copy(path, old / path.name)
    conn = await connect(url)
    await migrate(conn, old)
    yield conn
    await conn.close()
    await drop_database(pg_server.url, url)


async def test_old_page_views_are_folded_into_daily_aggregates(old_db: asyncpg.Connection) -> None:
    db = old_db
    merchant, site = uuid.uuid4(), uuid.uuid4()
    await db.execute("INSERT INTO merchants (merchant_id, name) VALUES ($1, 'M')", merchant)
    await db.execute(
        """INSERT INTO sites (merchant_id, site_id, site_key, name, time_zone, form, purposes,
               created_at)
           VALUES ($1, $2, 'st_0000000000000000000a', 'S', 'America/New_York', '{}', '[]',
                   '2024-01-01')""",
        merchant,
        site,
    )
    a, b = b"a" * 16, b"b" * 16
    rows = [
        # 6 May in New York: 03:00 UTC on the 7th is still the 6th there
        ("pageview", a, "/x", "search.example", None, "2024-05-06 14:00+00"),
        ("pageview", a, "/y", None, None, "2024-05-07 03:00+00"),
        ("pageview", b, "/y", "search.example", None, "2024-05-06 15:00+00"),
        ("engagement", a, "/x", None, 1000, "2024-05-06 14:01+00"),
        ("engagement", b, "/y", None, 3000, "2024-05-06 15:01+00"),
        ("pageview", a, "/x", None, None, "2024-05-07 14:00+00"),
    ]
    for kind, hash_, path, ref, ms, at in rows:
        await db.execute(
            """INSERT INTO page_views (site_id, kind, visitor_hash, path, referrer_host,
                   engaged_ms, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7::text::timestamptz)""",
            site,
            kind,
            hash_,
            path,
            ref,
            ms,
            at,
        )
    await migrate(db)
    assert await db.fetchval("SELECT to_regclass('page_views')") is None
    days = await db.fetch(
        "SELECT day, pageviews, visitors, engagements, engaged_ms, median_engaged_ms FROM stats_days ORDER BY day"
    )
    assert [tuple(r) for r in days] == [
        (dt.date(2024, 5, 6), 3, 2, 2, 4000, 2000),
        (dt.date(2024, 5, 7), 1, 1, 0, 0, None),
    ]
    pages = await db.fetch(
        "SELECT day, path, pageviews, entries, engagements FROM stats_pages ORDER BY day, path"
    )
    assert [tuple(r) for r in pages] == [
        (dt.date(2024, 5, 6), "/x", 1, 1, 1),
        (dt.date(2024, 5, 6), "/y", 2, 1, 1),
        (dt.date(2024, 5, 7), "/x", 1, 1, 0),
    ]
    refs = await db.fetch("SELECT day, host, visits FROM stats_referrers")
    assert [tuple(r) for r in refs] == [(dt.date(2024, 5, 6), "search.example", 2)]
    # The rollup starts at the first folded day and adds nothing twice.
    await rollups.run(db, dt.datetime(2024, 5, 10, tzinfo=dt.UTC))
    assert await db.fetchval("SELECT final_through FROM stats_rollups") == dt.date(2024, 5, 8)
    assert await db.fetchval("SELECT sum(pageviews) FROM stats_days") == 4
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 0
