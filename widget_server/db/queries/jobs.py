"""SQL for the job_schedule table: a periodic job is claimed by one process per due run."""

from __future__ import annotations

import datetime as dt

import asyncpg


async def ensure(conn: asyncpg.Connection, name: str) -> None:
    """A schedule row for the job, due at once when it is new."""
    await conn.execute(
        "INSERT INTO job_schedule (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", name
    )


async def claim(conn: asyncpg.Connection, name: str, *, lease: dt.timedelta, worker: str) -> bool:
    """Take the job if it is due and nobody holds it (or a holder's lease ran out); the row
    lock is skipped, not waited for, so processes that race never block each other."""
    row = await conn.fetchrow(
        """WITH due AS (
               SELECT name FROM job_schedule
               WHERE name = $1 AND next_run_at <= now()
                 AND (running_until IS NULL OR running_until < now())
               FOR UPDATE SKIP LOCKED)
           UPDATE job_schedule j
           SET running_until = now() + $2::interval, running_by = $3,
               last_started_at = now(), runs = runs + 1
           FROM due WHERE j.name = due.name
           RETURNING j.runs""",
        name,
        lease,
        worker,
    )
    return row is not None


async def finish(
    conn: asyncpg.Connection,
    name: str,
    *,
    worker: str,
    every: dt.timedelta,
    error: str | None,
) -> None:
    """Release the claim; the next run is due `every` after this one started."""
    await conn.execute(
        """UPDATE job_schedule
           SET running_until = NULL, running_by = NULL, last_finished_at = now(),
               last_error = $3, next_run_at = last_started_at + $4::interval
           WHERE name = $1 AND running_by = $2""",
        name,
        worker,
        error,
        every,
    )


async def release(conn: asyncpg.Connection, name: str, *, worker: str) -> None:
    """Give a claim back unfinished (at shutdown): another process may run it at once."""
    await conn.execute(
        """UPDATE job_schedule SET running_until = NULL, running_by = NULL
           WHERE name = $1 AND running_by = $2""",
        name,
        worker,
    )


async def schedule(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return list(await conn.fetch("SELECT * FROM job_schedule ORDER BY name"))
