"""The statistics promise as tests: no IP anywhere, facts without identifiers or fine times, the
day's hashes and salts gone once the day is over, never joined to consents or requests."""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.stats_support import UA, Hit, StatsSite, drain, ingest, utc
from tests.widget_support import beacon_body, consent_body, post, request_body
from widget_server.domain.calendar import FINAL_AFTER, day_end, day_start
from widget_server.services import rollups, salts

Client = TestClient[Any, Any]
IPV4 = "198.51.100.77"
IPV6 = "2001:db8:85a3::8a2e:370:7334"
FACT_COLUMNS = {
    "day": "date",
    "site_id": "uuid",
    "hour": "smallint",
    "kind": "text",
    "path": "text",
    "referrer_host": "text",
    "engaged_ms": "integer",
    "new_visitor": "boolean",
}


def forms(ip: str) -> tuple[list[str], list[bytes], int]:
    """Every way an address could be written down: texts, raw bytes, and as one number."""
    addr = ipaddress.ip_address(ip)
    packed = addr.packed
    texts = [str(addr), addr.exploded, str(int(addr)), packed.hex(), packed.hex().upper()]
    if addr.version == 4:
        texts.append("::ffff:" + str(addr))
        texts.append("\\x" + packed.hex())
    return list(dict.fromkeys(texts)), [packed, str(addr).encode()], int(addr)


async def tables(db: asyncpg.Connection) -> dict[str, list[tuple[str, str]]]:
    """Every stored table (partitions included; a partitioned parent holds nothing itself)."""
    rows = await db.fetch(
        """SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE n.nspname = 'public' AND c.relkind = 'r'
           ORDER BY 1, a.attnum"""
    )
    found: dict[str, list[tuple[str, str]]] = {}
    for r in rows:
        found.setdefault(r["relname"], []).append((r["attname"], r["type"]))
    return found


async def traces(
    db: asyncpg.Connection, texts: list[str], blobs: list[bytes], number: int | None
) -> list[str]:
    """Where any of the forms occurs: table.column for each hit."""
    hits = []
    for table, columns in (await tables(db)).items():
        for column, type_ in columns:
            ref = f'"{table}"."{column}"'
            if type_ == "bytea":
                for blob in blobs:
                    if await db.fetchval(
                        f'SELECT count(*) FROM "{table}" WHERE position($1::bytea in "{column}") > 0',
                        blob,
                    ):
                        hits.append(ref)
            elif type_ in ("integer", "bigint", "smallint", "numeric") and number is not None:  # noqa: SIM102
                if await db.fetchval(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::numeric = $1::numeric',
                    number,
                ):
                    hits.append(ref)
            for text in texts:
                if await db.fetchval(
                    f'SELECT count(*) FROM "{table}" WHERE position(lower($1) in lower("{column}"::text)) > 0',
                    text,
                ):
                    hits.append(f"{ref} ~ {text}")
    return hits


async def assert_no_trace(db: asyncpg.Connection) -> None:
    for ip in (IPV4, IPV6):
        texts, blobs, number = forms(ip)
        assert await traces(db, texts, blobs, number) == [], ip


@pytest.fixture
async def proxied(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
) -> Client:
    app = make_app(trusted_proxies=(ipaddress.ip_network("127.0.0.0/8"),))
    return await aiohttp_client(app)


async def test_no_trace_of_the_ip_in_any_table_or_log(
    proxied: Client, db: asyncpg.Connection, tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for ip in (IPV4, IPV6):
        headers = {"X-Forwarded-For": f"10.9.9.9, {ip}", "User-Agent": UA}
        for body in (
            beacon_body(),
            beacon_body(url="https://shop.example/blog/medical-condition-x"),
            beacon_body(type="engagement", engaged_ms=4200),
        ):
            r = await post(proxied, tenant.site_key, "events", body, headers=headers)
            assert r.status == 202
        r = await post(proxied, tenant.site_key, "consents", consent_body(tenant), headers=headers)
        assert r.status == 201
        r = await post(proxied, tenant.site_key, "requests", request_body(tenant), headers=headers)
        assert r.status == 201
    await drain(proxied)
    assert await db.fetchval("SELECT count(*) FROM stats_facts") == 6
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 2
    await assert_no_trace(db)
    # Then the day ends, is rolled up, and its raw facts dropped: look again, everywhere.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    await salts.forget(db, later)
    await rollups.run(db, later)
    assert await db.fetchval("SELECT sum(pageviews) FROM stats_days") == 4
    assert await db.fetchval("SELECT count(*) FROM stats_facts") == 0
    await assert_no_trace(db)
    for record in caplog.records:
        seen = record.getMessage() + repr(record.__dict__)
        for ip in (IPV4, IPV6):
            assert ip not in seen
            assert ipaddress.ip_address(ip).exploded not in seen


async def test_the_scan_finds_what_it_looks_for(db: asyncpg.Connection, tenant: Tenant) -> None:
    """The scanner is not blind: an address written into a text, a number or a blob is found."""
    texts, blobs, number = forms(IPV4)
    await db.execute("UPDATE sites SET name = $1 WHERE site_id = $2", f"x{IPV4}x", tenant.site_id)
    assert await traces(db, texts, blobs, number) == ['"sites"."name" ~ ' + IPV4]
    await db.execute("UPDATE sites SET name = 'ok', consent_expiry_days = $1", 365)
    await db.execute(
        "INSERT INTO stats_visitor_hashes VALUES ($1, '2024-01-01', $2)",
        tenant.site_id,
        b"\x00" + ipaddress.ip_address(IPV4).packed,
    )
    assert '"stats_visitor_hashes"."hash"' in await traces(db, texts, blobs, number)


async def test_facts_carry_no_identifier_and_no_time_finer_than_an_hour(
    proxied: Client, db: asyncpg.Connection, tenant: Tenant
) -> None:
    columns = await db.fetch(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = 'stats_facts' ORDER BY ordinal_position"""
    )
    assert {r["column_name"]: r["data_type"] for r in columns} == FACT_COLUMNS
    hash_columns = await db.fetch(
        """SELECT column_name FROM information_schema.columns
           WHERE table_name = 'stats_visitor_hashes' ORDER BY ordinal_position"""
    )
    assert [r["column_name"] for r in hash_columns] == ["site_id", "day", "hash"]
    # No primary key, no serial, no default clock on the facts.
    assert not await db.fetchval(
        """SELECT count(*) FROM information_schema.columns
           WHERE table_name LIKE 'stats_facts%' AND column_default IS NOT NULL"""
    )
    assert not await db.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'stats_facts'::regclass AND contype IN ('p', 'u')"
    )
    before = dt.datetime.now(dt.UTC)
    await post(proxied, tenant.site_key, "events", beacon_body(), headers={"User-Agent": UA})
    await drain(proxied)
    after = dt.datetime.now(dt.UTC)
    row = await db.fetchrow("SELECT * FROM stats_facts")
    assert row["hour"] in {before.hour, after.hour}
    assert row["day"] in {before.date(), after.date()}
    stored_hash = await db.fetchval("SELECT hash FROM stats_visitor_hashes")
    assert stored_hash.hex() not in repr(dict(row.items()))
    # Nothing of the statistics has a time column but the salts' creation time.
    timed = await db.fetch(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_name LIKE 'stats%' AND data_type LIKE 'time%'"""
    )
    assert list(timed) == []


ZONES = ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kathmandu", "Europe/Berlin", "UTC"]


@pytest.mark.parametrize("zone", ZONES)
async def test_hashes_and_salt_of_a_day_are_gone_once_it_is_over(
    db: asyncpg.Connection, make_tenant: Callable[..., Awaitable[Tenant]], zone: str
) -> None:
    tenant = await make_tenant("Zoned", time_zone=zone)
    site = StatsSite(tenant.site_id, zone)
    day = dt.date(2024, 3, 30)  # Berlin moves its clocks the next night
    first, end = day_start(zone, day), day_end(zone, day)
    await ingest(
        db,
        site,
        [
            Hit(first, "/a"),
            Hit(first + dt.timedelta(hours=5), "/b", ip="198.51.100.8"),
            Hit(end - dt.timedelta(seconds=1), "/c", ip="198.51.100.9"),
        ],
    )
    hashes = [r["hash"] for r in await db.fetch("SELECT hash FROM stats_visitor_hashes")]
    assert len(hashes) == 3
    assert await db.fetchval("SELECT count(*) FROM daily_salts WHERE time_zone = $1", zone) == 1
    # Just before the day is final: still there (so the next check means something).
    await salts.forget(db, end + FINAL_AFTER - dt.timedelta(minutes=1))
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 3
    deadline = end + FINAL_AFTER + dt.timedelta(minutes=1)
    assert deadline - first < dt.timedelta(hours=48)
    await salts.forget(db, deadline)
    await rollups.run(db, deadline + dt.timedelta(days=2))
    assert await db.fetchval("SELECT count(*) FROM stats_visitor_hashes") == 0
    assert await db.fetchval("SELECT count(*) FROM daily_salts") == 0
    for value in hashes:
        assert await traces(db, [value.hex()], [value], None) == []
    assert (
        await db.fetchval(
            "SELECT visitors FROM stats_days WHERE site_id = $1 AND day = $2", tenant.site_id, day
        )
        == 3
    )


async def test_a_salt_never_outlives_48_hours(db: asyncpg.Connection) -> None:
    """Whatever day it is for: 48 hours after it was made, a salt is gone."""
    made = utc(2024, 5, 6, 0, 30)
    day = dt.date(2024, 5, 8)  # a day still current at the checks: only its age can remove it
    await db.execute(
        "INSERT INTO daily_salts (time_zone, day, salt, created_at) VALUES ('UTC', $1, 's', $2)",
        day,
        made,
    )
    await salts.forget(db, made + dt.timedelta(hours=47, minutes=59))
    assert await db.fetchval("SELECT count(*) FROM daily_salts") == 1
    await salts.forget(db, made + dt.timedelta(hours=48, minutes=1))
    assert await db.fetchval("SELECT count(*) FROM daily_salts") == 0


async def test_the_salt_in_use_is_kept_and_todays_only(db: asyncpg.Connection) -> None:
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    await salts.salt_for(db, "UTC", today, now)
    first = await salts.salt_for(db, "UTC", today, now)
    assert await salts.salt_for(db, "UTC", today, now) == first  # the same all day
    await salts.forget(db, now)
    assert await db.fetchval("SELECT salt FROM daily_salts WHERE day = $1", today) == first


async def test_a_new_days_salt_sweeps_old_ones_without_any_job(db: asyncpg.Connection) -> None:
    monday = utc(2024, 5, 6, 12)
    await salts.salt_for(db, "UTC", monday.date(), monday)
    await salts.salt_for(db, "Europe/Berlin", monday.date(), monday)
    tuesday = monday + dt.timedelta(days=1)
    await salts.salt_for(db, "UTC", tuesday.date(), tuesday)
    days = await db.fetch("SELECT time_zone, day FROM daily_salts")
    assert [(r["time_zone"], r["day"]) for r in days] == [("UTC", tuesday.date())]


async def test_statistics_never_join_consents_or_requests() -> None:
    """The rollup counts consent records and requests on their own: no query that reads the
    page-view facts or the visitor set also reads consent_records or info_requests."""
    from pathlib import Path

    import widget_server.db.queries as queries

    folder = Path(queries.__file__).parent
    for path in folder.glob("*.py"):
        text = path.read_text()
        for statement in text.split('"""'):
            reads_visits = "stats_facts" in statement or "stats_visitor_hashes" in statement
            reads_people = "consent_records" in statement or "info_requests" in statement
            assert not (reads_visits and reads_people), (path.name, statement[:120])


def test_visitor_hash_depends_on_day_salt_site_ip_and_agent() -> None:
    from widget_server.domain.visitors import visitor_hash

    site = uuid.uuid4()
    base = visitor_hash(b"a" * 32, site, IPV4, UA)
    assert len(base) == 16
    assert base == visitor_hash(b"a" * 32, site, IPV4, UA)
    for other in (
        visitor_hash(b"b" * 32, site, IPV4, UA),
        visitor_hash(b"a" * 32, uuid.uuid4(), IPV4, UA),
        visitor_hash(b"a" * 32, site, "198.51.100.78", UA),
        visitor_hash(b"a" * 32, site, IPV4, UA + "x"),
    ):
        assert other != base
