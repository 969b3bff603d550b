"""Group commit of consents: one row per event_id, the first answer for repeats, a bad row fails
only its caller, shutdown drains. Batches are made deterministic with real Postgres locks: a test
transaction holds consent_records while requests gather behind the writer's blocked insert."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from tests.conftest import HOST_ORIGIN, TEST_SECRET, Tenant
from tests.dbutil import publish
from tests.widget_support import consent_body, post
from widget_server.db.pool import connect
from widget_server.db.queries import consent_records
from widget_server.domain import receipts
from widget_server.domain.clock import now
from widget_server.domain.origins import PageLocation
from widget_server.domain.records import ClientFacts, ConsentDraft
from widget_server.runtime.groupcommit import GroupCommit
from widget_server.services import policies
from widget_server.settings import Settings, SettingsError
from widget_server.web.widget.state import CONSENTS

LOCK = "LOCK TABLE consent_records IN SHARE ROW EXCLUSIVE MODE"  # blocks inserts, not reads
Client = TestClient[Any, Any]


async def until(condition: Callable[[], Awaitable[bool]]) -> None:
    """Wait for a state, not for a time (pytest-timeout bounds a state that never comes)."""
    while not await condition():
        await asyncio.sleep(0.005)


@pytest.fixture
async def watcher(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """An autocommit connection: pg_stat_activity is frozen inside a transaction."""
    conn = await connect(database_url)
    yield conn
    await conn.close()


async def inserts_waiting(watcher: asyncpg.Connection) -> int:
    """Inserts into consent_records that are waiting for a lock (the writer's, blocked by us)."""
    return int(
        await watcher.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock'
                 AND query LIKE 'INSERT INTO consent_records%'"""
        )
    )


def queued(client: Client, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return client.app[CONSENTS].queued == count

    return check


def blocked(watcher: asyncpg.Connection) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await inserts_waiting(watcher) > 0

    return check


def draft(tenant: Tenant) -> ConsentDraft:
    """A decision as the handler hands it to the writer."""
    return ConsentDraft(
        site_id=tenant.site_id,
        event_id=uuid.uuid4(),
        visitor_id="visitor_direct",
        action="reject_all",
        surface="banner",
        purposes={"necessary": True, "analytics": False, "marketing": False},
        policy_version=tenant.policy_version,
        language="en",
        page=PageLocation(HOST_ORIGIN, "/", "shop.example"),
        client=ClientFacts(gpc=False, user_agent=None, widget_version=None),
        expiry_days=365,
    )


async def stored(db: asyncpg.Connection, site_id: uuid.UUID) -> dict[str, asyncpg.Record]:
    rows = await db.fetch("SELECT * FROM consent_records WHERE site_id = $1", site_id)
    return {str(r["event_id"]): r for r in rows}


async def test_concurrent_consents_store_one_row_per_event_and_repeats_get_the_first_body(
    client: Client, db: asyncpg.Connection, watcher: asyncpg.Connection, tenant: Tenant
) -> None:
    # Three decisions stored beforehand: their repeats must find them in the table.
    earlier = [consent_body(tenant) for _ in range(3)]
    first_bodies = {}
    for body in earlier:
        r = await post(client, tenant.site_key, "consents", body)
        assert r.status == 201
        first_bodies[body["event_id"]] = await r.read()
    fresh = [consent_body(tenant, visitor_id=f"visitor_{i:04d}") for i in range(30)]
    # Ten new events three times each (repeats within one batch) and the earlier ones twice.
    sends = fresh + fresh[:10] + fresh[:10] + earlier + earlier
    writer = client.app[CONSENTS]
    batches_before = writer.batches

    await db.execute("BEGIN")
    await db.execute(LOCK)
    tasks = [asyncio.create_task(post(client, tenant.site_key, "consents", b)) for b in sends]
    await until(queued(client, len(sends)))  # every request waits on the writer
    await db.execute("COMMIT")
    responses: Sequence[ClientResponse] = await asyncio.gather(*tasks)

    # Everything gathered behind one blocked insert: at most two inserts for all of it.
    assert writer.batches - batches_before <= 2
    answers: dict[str, list[tuple[int, bytes]]] = defaultdict(list)
    for body, r in zip(sends, responses, strict=True):
        answers[body["event_id"]].append((r.status, await r.read()))
    rows = await stored(db, tenant.site_id)
    assert len(rows) == len(fresh) + len(earlier) == len(answers)
    for event_id, got in answers.items():
        statuses = sorted(status for status, _ in got)
        if event_id in first_bodies:
            assert statuses == [200, 200]
            assert {body for _, body in got} == {first_bodies[event_id]}
        else:
            assert statuses == [200] * (len(got) - 1) + [201]
            assert len({body for _, body in got}) == 1  # byte-identical
        row = rows[event_id]
        assert str(row["record_id"]) == json.loads(got[0][1])["id"]
        assert receipts.verify(TEST_SECRET, dict(row.items()))


async def test_a_row_that_fails_in_its_batch_fails_only_its_caller(
    client: Client,
    db: asyncpg.Connection,
    watcher: asyncpg.Connection,
    database_url: str,
    tenant: Tenant,
    make_tenant: Callable[..., Awaitable[Tenant]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Site B is deleted after a batch read B's policy and before the batch's insert ran: the
    insert breaks the foreign key, the batch is retried row by row, only B's caller fails."""
    doomed = await make_tenant("Doomed", origins=("https://doomed.example",))
    second = await connect(database_url)
    try:
        # 1. Our transaction stores event E and stays open: a consent for E blocks its batch
        #    inside the insert (ON CONFLICT waits to see whether our row commits).
        policy = await policies.current_policy(db, tenant.site_id)
        assert policy is not None
        held = draft(tenant)
        await db.execute("BEGIN")
        await consent_records.insert(db, held.record(TEST_SECRET, policy, now()))
        body = consent_body(tenant, event_id=str(held.event_id))
        first = asyncio.create_task(post(client, tenant.site_key, "consents", body))
        await until(blocked(watcher))
        # 2. A second transaction asks for the whole table: it queues behind both, and holds
        #    the table from the moment the first batch commits until we let go.
        await second.execute("BEGIN")
        take = asyncio.create_task(second.execute(LOCK))
        pid = second.get_server_pid()

        async def second_waits() -> bool:
            return bool(
                await watcher.fetchval(
                    """SELECT count(*) FROM pg_stat_activity
                       WHERE pid = $1 AND wait_event_type = 'Lock'""",
                    pid,
                )
            )

        await until(second_waits)
        # 3. Four good consents and one for site B gather as the next batch.
        bodies = [consent_body(tenant) for _ in range(4)]
        tasks = [asyncio.create_task(post(client, tenant.site_key, "consents", b)) for b in bodies]
        bad = asyncio.create_task(
            post(
                client,
                doomed.site_key,
                "consents",
                consent_body(doomed, page_url="https://doomed.example/"),
                origin="https://doomed.example",
            )
        )
        await until(queued(client, 1 + len(bodies) + 1))
        # 4. Let the first batch finish (E was ours: it gets our row); the next batch reads
        #    both policies, then waits for the table.
        await db.execute("COMMIT")
        await take
        answer = await first
        assert answer.status == 200
        assert (await answer.json())["receipt"] == (await stored(db, tenant.site_id))[
            str(held.event_id)
        ]["receipt"]
        await until(blocked(watcher))
        # 5. Site B goes, its policy with it, before that insert runs.
        await second.execute("DELETE FROM sites WHERE site_id = $1", doomed.site_id)
        with caplog.at_level(logging.WARNING, logger="widget_server.runtime.groupcommit"):
            await second.execute("COMMIT")
            good = await asyncio.gather(*tasks)
            refused = await bad
    finally:
        await second.close()
    assert [r.status for r in good] == [201] * len(bodies)
    assert refused.status == 409  # its site has no policy any more: refused, nothing else was
    assert any("writing them one by one" in r.getMessage() for r in caplog.records)
    rows = await stored(db, tenant.site_id)
    assert rows.keys() == {str(held.event_id)} | {b["event_id"] for b in bodies}
    assert await stored(db, doomed.site_id) == {}


async def test_shutdown_drains_pending_consent_writes(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
    watcher: asyncpg.Connection,
    tenant: Tenant,
) -> None:
    app = make_app()
    cleanup_started = asyncio.Event()

    async def signal_cleanup(app: web.Application) -> AsyncIterator[None]:
        yield
        cleanup_started.set()  # appended last, so cleaned up first: before the writers drain

    app.cleanup_ctx.append(signal_cleanup)
    client = await aiohttp_client(app)
    writer = app[CONSENTS]
    drafts = [draft(tenant) for _ in range(12)]
    await db.execute("BEGIN")
    await db.execute(LOCK)
    # One write blocks at its insert; the rest gather behind it, not yet begun when cleanup runs.
    writes = [asyncio.create_task(writer.submit(drafts[0]))]
    await until(blocked(watcher))
    writes += [asyncio.create_task(writer.submit(d)) for d in drafts[1:]]

    async def all_queued() -> bool:
        return writer.queued == len(drafts)

    await until(all_queued)
    closing = asyncio.create_task(client.close())
    await cleanup_started.wait()
    await db.execute("COMMIT")
    await closing
    outcomes = await asyncio.gather(*writes)
    assert [created for _, created in outcomes] == [True] * len(drafts)
    rows = await stored(db, tenant.site_id)
    assert rows.keys() == {str(d.event_id) for d in drafts}


@pytest.mark.parametrize("group_commit", [True, False])
async def test_both_write_paths_answer_alike(
    aiohttp_client: Callable[..., Awaitable[Client]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
    tenant: Tenant,
    group_commit: bool,
) -> None:
    client = await aiohttp_client(make_app(group_commit=group_commit))
    body = consent_body(tenant, action="custom", purposes={"analytics": True})
    responses = await asyncio.gather(
        *(post(client, tenant.site_key, "consents", body) for _ in range(5))
    )
    assert sorted(r.status for r in responses) == [200, 200, 200, 200, 201]
    assert len({await r.read() for r in responses}) == 1
    [row] = (await stored(db, tenant.site_id)).values()
    assert row["purposes"] == {"necessary": True, "analytics": True, "marketing": False}
    assert receipts.verify(TEST_SECRET, dict(row.items()))
    # A new policy: a new decision for the old one is refused, a retry still gets its answer.
    await publish(db, tenant.site_id, title="New", body="Changed.", language="en")
    stale = await post(client, tenant.site_key, "consents", consent_body(tenant))
    assert stale.status == 409
    assert (await stale.json())["current_version"] == tenant.policy_version + 1
    again = await post(client, tenant.site_key, "consents", {**body, "page_url": "https://x.test/"})
    assert again.status == 200
    assert await again.read() == await responses[0].read()


async def test_group_commit_fails_a_whole_batch_at_once_when_no_row_is_to_blame() -> None:
    calls: list[list[int]] = []

    async def write(items: Sequence[int]) -> list[int | Exception]:
        calls.append(list(items))
        await asyncio.sleep(0)
        if len(items) > 1 and 7 in items:
            raise ConnectionResetError("the database went away")
        return [ValueError(f"odd {i}") if i % 2 else i * 10 for i in items]

    writer: GroupCommit[int, int] = GroupCommit(
        write, max_batch=4, isolate=lambda exc: not isinstance(exc, ConnectionError)
    )
    results = await asyncio.gather(*(writer.submit(i) for i in range(10)), return_exceptions=True)
    for i, result in enumerate(results):
        if 4 <= i < 8:  # the batch holding 7: one error for all four, no retries one by one
            assert isinstance(result, ConnectionResetError)
        elif i % 2:
            assert isinstance(result, ValueError)
            assert str(result) == f"odd {i}"
        else:
            assert result == i * 10
    assert calls == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert writer.queued == 0
    await writer.drain()


@pytest.mark.parametrize(
    ("raw", "expected"), [("", True), ("on", True), ("1", True), ("off", False), ("FALSE", False)]
)
def test_group_commit_setting(raw: str, expected: bool) -> None:
    env = {"WIDGET_SECRET_KEY": "s" * 40, "WIDGET_GROUP_COMMIT": raw}
    assert Settings.from_env(env).group_commit is expected


def test_group_commit_setting_refuses_other_words() -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_env({"WIDGET_SECRET_KEY": "s" * 40, "WIDGET_GROUP_COMMIT": "sometimes"})
    assert info.value.variable == "WIDGET_GROUP_COMMIT"
