"""The jobs runtime: several processes over one database, each due run done once, clean shutdown."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import TEST_SECRET, Tenant
from tests.test_cli import cli_env
from tests.test_purge import add_record
from widget_server.db.pool import Database, create_pool
from widget_server.db.queries import jobs
from widget_server.jobs.runtime import Consumer, JobRunner, Periodic


@pytest.fixture
async def pools(database_url: str, db: asyncpg.Connection) -> AsyncIterator[list[Database]]:
    """Two pools: what two processes of the service would each hold."""
    made = [await create_pool(database_url, size=3) for _ in range(2)]
    await db.execute("DELETE FROM job_schedule")
    yield [Database(pool, 5.0) for pool in made]
    for pool in made:
        await pool.close()


async def wait_for(probe: Callable[[], Awaitable[object]], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def test_two_runners_run_each_due_turn_once(
    pools: list[Database], db: asyncpg.Connection
) -> None:
    runs: list[str] = []

    def job(who: str) -> Periodic:
        async def work(database: Database) -> None:
            runs.append(who)
            await asyncio.sleep(0.3)  # long enough for the other runner to try meanwhile

        return Periodic("test_job", dt.timedelta(hours=1), work)

    runners = [JobRunner(pools[i], [job(f"runner{i}")], tick=0.01) for i in range(2)]
    await asyncio.gather(*(r.start() for r in runners))
    await wait_for(
        lambda: db.fetchval(
            "SELECT last_finished_at IS NOT NULL FROM job_schedule WHERE name = 'test_job'"
        )
    )
    await asyncio.sleep(0.3)  # both keep ticking; the job is not due again for an hour
    await asyncio.gather(*(r.stop() for r in runners))
    assert len(runs) == 1, runs
    row = await db.fetchrow("SELECT * FROM job_schedule WHERE name = 'test_job'")
    assert row["runs"] == 1
    assert row["running_until"] is None
    assert row["last_error"] is None
    assert row["next_run_at"] == row["last_started_at"] + dt.timedelta(hours=1)


async def test_a_failed_run_records_the_error_class_and_comes_again(
    pools: list[Database], db: asyncpg.Connection
) -> None:
    async def broken(database: Database) -> None:
        raise RuntimeError("secret@example.com must not be stored")

    runner = JobRunner(pools[0], tick=0.01)
    failing = Periodic("broken_job", dt.timedelta(seconds=0), broken)
    assert await runner.run_due(failing)
    row = await db.fetchrow("SELECT * FROM job_schedule WHERE name = 'broken_job'")
    assert row["last_error"] == "RuntimeError"
    assert await runner.run_due(failing)  # due again at once (every=0)
    assert await db.fetchval("SELECT runs FROM job_schedule WHERE name = 'broken_job'") == 2


async def test_stop_gives_an_unfinished_claim_back(
    pools: list[Database], db: asyncpg.Connection
) -> None:
    started = asyncio.Event()

    async def slow(database: Database) -> None:
        started.set()
        await asyncio.sleep(60)

    job = Periodic("slow_job", dt.timedelta(hours=1), slow, lease=dt.timedelta(hours=1))
    first = JobRunner(pools[0], [job], tick=0.01)
    await first.start()
    await asyncio.wait_for(started.wait(), 10)
    held = await db.fetchrow("SELECT running_by, running_until FROM job_schedule")
    assert held["running_by"] == first.worker
    assert held["running_until"] is not None
    await first.stop(grace=0.2)
    released = await db.fetchrow("SELECT running_by, running_until, runs FROM job_schedule")
    assert (released["running_by"], released["running_until"], released["runs"]) == (None, None, 1)
    # Another process takes the run at once, without waiting for the hour-long lease.
    second = JobRunner(pools[1], tick=0.01)
    done = Periodic("slow_job", dt.timedelta(hours=1), lambda database: asyncio.sleep(0))
    assert await second.run_due(done)


async def test_a_consumer_wakes_on_notify_from_another_process(
    pools: list[Database], db: asyncpg.Connection, database_url: str
) -> None:
    taken: list[int] = []
    queue = [1]

    async def take(database: Database) -> int:
        if not queue:
            return 0
        taken.append(queue.pop())
        return 1

    runner = JobRunner(
        pools[0],
        consumers=[Consumer("test_queue", take, channel="test_queue", idle=60)],
        dsn=database_url,
        tick=0.01,
    )
    await runner.start()
    await wait_for(lambda: asyncio.sleep(0, result=taken == [1]))
    queue.append(2)
    await asyncio.sleep(0.5)  # idle for a minute: nothing happens without a wake-up
    assert taken == [1]
    await db.execute("NOTIFY test_queue")
    await wait_for(lambda: asyncio.sleep(0, result=taken == [1, 2]), timeout=10)
    await runner.stop()


def _start_worker(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "widget_server", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
async def test_two_worker_processes_purge_once(
    tmp_path: Path,
    database_url: str,
    db: asyncpg.Connection,
    make_tenant: Callable[..., Awaitable[Tenant]],
) -> None:
    await db.execute("DELETE FROM job_schedule")
    tenant = await make_tenant("Old", retention_days=30)
    kept = await add_record(db, tenant, 10)
    await add_record(db, tenant, 31)
    today = dt.datetime.now(dt.UTC).date()
    await db.execute(
        "INSERT INTO daily_salts (time_zone, day, salt) VALUES ('UTC', $1, 'old'), ('UTC', $2, 'now')",
        today - dt.timedelta(days=3),
        today,
    )
    env = cli_env(tmp_path, DATABASE_URL=database_url, WIDGET_SECRET_KEY=TEST_SECRET)
    workers = [_start_worker(env) for _ in range(2)]
    try:
        await wait_for(
            lambda: db.fetchval(
                """SELECT count(*) = 2 FROM job_schedule
                   WHERE name IN ('retention_purge', 'salt_rotation') AND last_finished_at IS NOT NULL"""
            ),
            timeout=60,
        )
        await asyncio.sleep(1.5)  # both workers tick again: nothing is due for an hour
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        outcomes = [worker.communicate(timeout=30) for worker in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in outcomes]
    schedule = {r["name"]: r for r in await jobs.schedule(db)}
    assert schedule["retention_purge"]["runs"] == 1
    assert schedule["salt_rotation"]["runs"] == 1
    assert schedule["retention_purge"]["running_by"] is None
    assert [r["record_id"] for r in await db.fetch("SELECT record_id FROM consent_records")] == [
        kept
    ]
    # The salt of a day that is over went; today's stays.
    assert [r["day"] for r in await db.fetch("SELECT day FROM daily_salts")] == [today]
