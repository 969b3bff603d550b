"""Consent ingest throughput and latency: one insert per consent against group commit, side by side."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchutil import free_port, wait_ready, with_database  # noqa: E402

from widget_server.db.migrations import migrate  # noqa: E402
from widget_server.db.pool import connect  # noqa: E402
from widget_server.services import merchants, policies, sites  # noqa: E402

USAGE = (
    "Creates a scratch database on the Postgres server of TEST_DATABASE_URL (default "
    "postgresql://root@127.0.0.1:5432/postgres), starts `python -m widget_server serve` against it "
    "once per mode and round (WIDGET_GROUP_COMMIT=off and on, the order alternating by round), fires consent POSTs at a fixed "
    "concurrency over loopback (about 5% of event_ids sent twice at once), checks that every "
    "event_id is stored once and every repeat got the first body, prints events/s and p50/p99 "
    "latency per mode and the on/off ratio, and drops the database."
)
DEFAULT_SERVER = "postgresql://root@127.0.0.1:5432/postgres"
ORIGIN = "https://bench.example"
PAGE_URL = f"{ORIGIN}/pricing?plan=pro"
WARMUP = 300
# Rows of another site stored and analyzed before the runs: the log of a service in use, not an
# empty table (plans chosen for an empty, never-analyzed table make the first run unrepresentative).
PRIME = """
INSERT INTO consent_records (site_id, record_id, event_id, visitor_id, action, surface, purposes,
    policy_version, policy_sha256, language, page_origin, page_path, gpc, created_at,
    valid_until, receipt)
SELECT $1, gen_random_uuid(), gen_random_uuid(), 'visitor_' || (g % 5000), 'accept_all', 'banner',
    '{"necessary": true}', $2, $3, 'en', 'https://bench.example', '/', false,
    now() - g * interval '1 second', now() + interval '365 days', 'v1.bench'
FROM generate_series(1, $4) AS g
"""


@dataclass
class Run:
    mode: str
    round: int
    sent: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    # event_id -> [(status, body bytes)], over the warm-up and the measured part alike
    answers: dict[str, list[tuple[int, bytes]]] = field(default_factory=lambda: defaultdict(list))
    cpu_seconds: float = 0.0
    transactions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def plan_events(count: int, duplicates: float, rng: random.Random) -> list[str]:
    """`count` sends; about `duplicates` of them repeat the event_id just before them, so that
    the two go out at once from two workers."""
    sends: list[str] = []
    while len(sends) < count:
        event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        sends.append(event_id)
        if len(sends) < count and rng.random() < duplicates:
            sends.append(event_id)
    return sends


async def create_site(url: str, name: str) -> tuple[uuid.UUID, str, int]:
    conn = await connect(url)
    try:
        merchant = await merchants.create_merchant(conn, {"name": f"Bench {name}"})
        site = await sites.create_site(
            conn, merchant.merchant_id, {"name": f"Bench {name}", "allowed_origins": [ORIGIN]}
        )
        policy = await policies.publish_policy(
            conn, site, {"title": "Terms", "body": "We keep what you send."}
        )
    finally:
        await conn.close()
    return site["site_id"], site["site_key"], policy["version"]


async def prime(url: str, rows: int) -> None:
    site_id, _, version = await create_site(url, "prime")
    conn = await connect(url)
    try:
        policy = await policies.current_policy(conn, site_id)
        assert policy is not None
        await conn.execute(PRIME, site_id, version, policy["sha256"], rows)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def transactions(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        value = await conn.fetchval(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
        )
    finally:
        await conn.close()
    return int(value)


async def fire(
    session: aiohttp.ClientSession,
    url: str,
    sends: Sequence[str],
    version: int,
    concurrency: int,
    deadline: float,
    run: Run,
    measure: bool,
) -> None:
    queue = iter(sends)
    headers = {"Origin": ORIGIN, "Content-Type": "application/json"}

    async def worker(n: int) -> None:
        for event_id in queue:
            if time.perf_counter() > deadline:
                return
            body = json.dumps(
                {
                    "event_id": event_id,
                    "visitor_id": f"visitor_{n}",
                    "policy_version": version,
                    "action": "custom",
                    "purposes": {"analytics": True},
                    "page_url": PAGE_URL,
                }
            )
            started = time.perf_counter()
            try:
                async with session.post(url, data=body, headers=headers) as r:
                    answer = await r.read()
                    status = r.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                run.problems.append(f"{event_id}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            run.answers[event_id].append((status, answer))
            if measure:
                run.sent += 1
                run.latencies.append(elapsed)
                run.statuses[status] += 1
            if status not in (200, 201) and len(run.problems) < 10:
                run.problems.append(f"{event_id}: HTTP {status}: {answer[:200]!r}")

    await asyncio.gather(*(worker(n) for n in range(concurrency)))


async def verify(url: str, site_id: uuid.UUID, run: Run) -> None:
    """One row per distinct event_id answered; exactly one 201 each; repeats byte-identical."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT event_id, record_id FROM consent_records WHERE site_id = $1", site_id
        )
    finally:
        await conn.close()
    stored = {str(r["event_id"]): str(r["record_id"]) for r in rows}
    answered = {e: a for e, a in run.answers.items() if all(s in (200, 201) for s, _ in a)}
    if len(rows) != len(stored):
        run.problems.append(f"{len(rows)} rows but {len(stored)} distinct event_ids stored")
    if set(stored) != set(answered):
        run.problems.append(
            f"{len(stored)} event_ids stored, {len(answered)} answered with 200/201"
        )
    for event_id, answers in answered.items():
        if sum(1 for s, _ in answers if s == 201) != 1:
            run.problems.append(f"{event_id}: statuses {[s for s, _ in answers]}")
        if len({body for _, body in answers}) != 1:
            run.problems.append(f"{event_id}: repeats got a different body")
        if json.loads(answers[0][1])["id"] != stored.get(event_id):
            run.problems.append(f"{event_id}: answered id is not the stored record_id")


async def one_run(
    args: argparse.Namespace, url: str, mode: str, round_no: int, rng: random.Random
) -> Run:
    run = Run(mode, round_no)
    site_id, site_key, version = await create_site(url, f"{mode} {round_no}")
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WIDGET_SECRET_KEY": secrets.token_urlsafe(48),
        "WIDGET_HOST": "127.0.0.1",
        "WIDGET_PORT": str(port),
        "WIDGET_LOG_LEVEL": "WARNING",
        "WIDGET_RATE_LIMIT_PER_MINUTE": str(10**6),
        "WIDGET_DB_POOL_SIZE": str(args.pool_size),
        "WIDGET_GROUP_COMMIT": mode,
    }
    before = await transactions(url)
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "widget_server", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            endpoint = f"{base}/v1/widget/{site_key}/consents"
            timeout = aiohttp.ClientTimeout(total=30)
            connector = aiohttp.TCPConnector(limit=args.concurrency)
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
                await wait_ready(session, base, server)
                warm = plan_events(WARMUP, args.duplicates, rng)
                await fire(
                    session, endpoint, warm, version, args.concurrency, float("inf"), run, False
                )
                sends = plan_events(args.events, args.duplicates, rng)
                cpu_before = cpu_seconds(server.pid)
                started = time.perf_counter()
                await fire(
                    session,
                    endpoint,
                    sends,
                    version,
                    args.concurrency,
                    started + args.seconds,
                    run,
                    True,
                )
                run.seconds = time.perf_counter() - started
                run.cpu_seconds = cpu_seconds(server.pid) - cpu_before
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            if server.returncode not in (0, -signal.SIGTERM):
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                run.problems.append(f"server exited with {server.returncode}: {tail}")
    # Stats reach pg_stat_database when backends go idle or exit; the server has exited.
    await asyncio.sleep(1.0)
    run.transactions = await transactions(url) - before
    await verify(url, site_id, run)
    return run


def report(runs: Sequence[Run], args: argparse.Namespace) -> None:
    print()
    print(
        f"{'mode':>4} {'round':>5} {'sent':>7} {'secs':>6} {'events/s':>9} {'p50 ms':>7} "
        f"{'p99 ms':>7} {'srv cpu µs/ev':>13} {'db xacts/ev':>11}  statuses  verify"
    )
    for r in runs:
        statuses = ",".join(f"{k}:{v}" for k, v in sorted(r.statuses.items()))
        per_cpu = r.cpu_seconds / r.sent * 1e6 if r.sent else 0.0
        # The warm-up's transactions are in the count too: divide by every send, warm-up included.
        total = sum(len(a) for a in r.answers.values())
        per_xact = r.transactions / total if total else 0.0
        print(
            f"{r.mode:>4} {r.round:>5} {r.sent:>7} {r.seconds:>6.1f} {r.rate:>9.0f} "
            f"{r.pct(0.50):>7.1f} {r.pct(0.99):>7.1f} {per_cpu:>13.0f} {per_xact:>11.2f}  "
            f"{statuses}  {'OK' if not r.problems else 'FAIL'}"
        )
    by_mode: dict[str, list[Run]] = defaultdict(list)
    for r in runs:
        by_mode[r.mode].append(r)
    print()
    for mode, group in by_mode.items():
        rates = [r.rate for r in group]
        print(
            f"{mode:>4}: median events/s {statistics.median(rates):.0f}, "
            f"p50 {statistics.median(r.pct(0.5) for r in group):.1f} ms, "
            f"p99 {statistics.median(r.pct(0.99) for r in group):.1f} ms "
            f"over {len(group)} round(s)"
        )
    if "on" in by_mode and "off" in by_mode:
        on, off = by_mode["on"], by_mode["off"]
        ratio = statistics.median(r.rate for r in on) / statistics.median(r.rate for r in off)
        p50 = statistics.median(r.pct(0.5) for r in on) / statistics.median(r.pct(0.5) for r in off)
        p99 = statistics.median(r.pct(0.99) for r in on) / statistics.median(
            r.pct(0.99) for r in off
        )
        print(
            f"ratio on/off: throughput {ratio:.2f}x, p50 latency {p50:.2f}x, p99 latency {p99:.2f}x "
            f"(concurrency {args.concurrency}, pool {args.pool_size})"
        )
    for r in runs:
        for problem in r.problems[:10]:
            print(f"PROBLEM {r.mode} round {r.round}: {problem}")


async def main() -> int:
    parser = argparse.ArgumentParser(description=USAGE)
    parser.add_argument("--events", type=int, default=20_000, help="POSTs per run (default 20000)")
    parser.add_argument("--concurrency", type=int, default=64, help="requests in flight (64)")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop a run after this (60)")
    parser.add_argument("--duplicates", type=float, default=0.05, help="share sent twice (0.05)")
    parser.add_argument("--rounds", type=int, default=3, help="off/on pairs to run (3)")
    parser.add_argument("--modes", default="off,on", help="comma-separated, in order (off,on)")
    parser.add_argument("--pool-size", type=int, default=10, help="WIDGET_DB_POOL_SIZE (10)")
    parser.add_argument("--prime", type=int, default=50_000, help="rows stored first (50000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or any(m not in ("on", "off") for m in modes):
        parser.error("--modes takes on and/or off")
    server_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    rng = random.Random(args.seed)
    name = f"widget_bench_ingest_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    runs: list[Run] = []
    try:
        conn = await connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        await prime(url, args.prime)
        print(
            f"database {name}; {args.events} POSTs per run at concurrency {args.concurrency} "
            f"(at most {args.seconds:.0f} s), ~{args.duplicates:.0%} sent twice at once, "
            f"{args.prime} rows of another site stored first; "
            f"{os.cpu_count()} CPUs shared by client, server and Postgres"
        )
        for round_no in range(1, args.rounds + 1):
            # Alternate the order (off,on then on,off) so drift on a shared machine evens out.
            for mode in modes if round_no % 2 else modes[::-1]:
                run = await one_run(args, url, mode, round_no, rng)
                runs.append(run)
                print(
                    f"round {round_no} {mode:>3}: {run.sent} sent in {run.seconds:.1f} s, "
                    f"{run.rate:.0f}/s, p50 {run.pct(0.5):.1f} ms, p99 {run.pct(0.99):.1f} ms, "
                    f"{'verified' if not run.problems else 'PROBLEMS'}",
                    flush=True,
                )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    report(runs, args)
    return 1 if any(r.problems for r in runs) else 0


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        sys.exit(asyncio.run(main()))
    sys.exit(uvloop.run(main()))
