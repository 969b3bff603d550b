"""Statistics: beacon ingest against a bare aiohttp handler, and the stats endpoint over a year."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchutil import free_port, wait_ready, with_database  # noqa: E402

from widget_server.db.migrations import migrate  # noqa: E402
from widget_server.db.pool import connect  # noqa: E402
from widget_server.db.queries import stats_facts  # noqa: E402
from widget_server.services import merchants, policies, sites  # noqa: E402

USAGE = (
    "Creates a scratch database on the Postgres server of TEST_DATABASE_URL (default "
    "postgresql://root@127.0.0.1:5432/postgres) and starts `python -m widget_server serve` and a "
    "bare aiohttp app (a handler that reads the body and answers 202) side by side. (1) wrk "
    "fires the same beacon POSTs (70% page views from ever new addresses through a trusted "
    "proxy header, 30% engagement) at each in turn, rounds alternating the order; prints "
    "requests/s and latency of both and their ratio, and checks that every answered beacon was "
    "stored. (2) A site gets a year of daily aggregates summing to --pageviews page views "
    "(400 paths and 60 referrers a day, two policy versions) plus a day's raw facts for today; "
    "GET /stats for the whole year (and stats.svg) is timed one at a time and 8 at once; prints "
    "p50 and p99. Drops the database."
)
DEFAULT_SERVER = "postgresql://root@127.0.0.1:5432/postgres"
ORIGIN = "https://bench.example"
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["Origin"] = "%(origin)s"
wrk.headers["User-Agent"] = "%(ua)s"
local n = 0
request = function()
  n = n + 1
  local a = math.floor(n / 65536) %% 256
  local b = math.floor(n / 256) %% 256
  wrk.headers["X-Forwarded-For"] = string.format("10.%%d.%%d.%%d", (a + %(seed)d) %% 256, b, n %% 256)
  local path = "/page/" .. (n %% 50)
  local body
  if n %% 10 < 7 then
    body = '{"type":"pageview","url":"%(origin)s' .. path .. '?utm=x","referrer":"https://search.example/q"}'
  else
    body = '{"type":"engagement","url":"%(origin)s' .. path .. '","engaged_ms":' .. (n %% 90000 + 1) .. '}'
  end
  return wrk.format(nil, nil, nil, body)
end
"""
BARE = """
import sys
from aiohttp import web
async def beacon(request):
    await request.read()
    return web.Response(status=202)
app = web.Application()
app.router.add_post("/v1/widget/{site_key}/events", beacon)
app.router.add_get("/readyz", lambda r: web.Response(text="ok"))
try:
    import uvloop
    uvloop.install()
except ImportError:
    pass
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def run_wrk(url: str, script: Path, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "non2xx": 0.0,
        "errors": 0.0,
    }
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        found["non2xx"] = float(bad.group(1))
    socket_errors = re.search(r"Socket errors: (.*)", out)
    if socket_errors:
        found["errors"] = float(sum(int(x) for x in re.findall(r"\d+", socket_errors.group(1))))
    for label in ("50%", "99%"):
        m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)\b", out)
        if m:
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            found[label] = float(m.group(1)) * scale
    return found


async def make_site(url: str, name: str) -> tuple[str, str, str]:
    conn = await connect(url)
    try:
        merchant = await merchants.create_merchant(conn, {"name": name})
        site = await sites.create_site(
            conn, merchant.merchant_id, {"name": name, "allowed_origins": [ORIGIN]}
        )
        await policies.publish_policy(conn, site, {"title": "Terms", "body": "Text"})
    finally:
        await conn.close()
    return str(site["site_id"]), site["site_key"], merchant.secret


def start(cmd: list[str], env: dict[str, str], log: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)  # type: ignore[arg-type]


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def ingest(args: argparse.Namespace, url: str) -> list[str]:
    problems: list[str] = []
    site_id, site_key, _ = await make_site(url, "Beacons")
    app_port, bare_port = free_port(), free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WIDGET_SECRET_KEY": secrets.token_urlsafe(48),
        "WIDGET_PORT": str(app_port),
        "WIDGET_LOG_LEVEL": "WARNING",
        "WIDGET_RATE_LIMIT_PER_MINUTE": str(10**6),
        "WIDGET_TRUSTED_PROXIES": "127.0.0.1",
        "WIDGET_JOBS": "off",
    }
    results: dict[str, list[dict[str, float]]] = {"app": [], "bare": []}
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory() as folder:
        app = start([sys.executable, "-m", "widget_server", "serve"], env, log)
        bare = start([sys.executable, "-c", BARE, str(bare_port)], env, log)
        try:
            async with aiohttp.ClientSession() as session:
                await wait_ready(session, f"http://127.0.0.1:{app_port}", app)
                await wait_ready(session, f"http://127.0.0.1:{bare_port}", bare)
            targets = {
                "app": f"http://127.0.0.1:{app_port}/v1/widget/{site_key}/events",
                "bare": f"http://127.0.0.1:{bare_port}/v1/widget/{site_key}/events",
            }
            for round_no in range(args.rounds + 1):  # round 0 warms both up
                order = ["app", "bare"] if round_no % 2 else ["bare", "app"]
                for name in order:
                    script = Path(folder) / f"{name}{round_no}.lua"
                    script.write_text(
                        WRK_SCRIPT % {"origin": ORIGIN, "ua": UA, "seed": round_no * 2 + len(name)}
                    )
                    seconds = 2 if round_no == 0 else args.seconds
                    found = run_wrk(targets[name], script, seconds, args.connections)
                    if round_no:
                        results[name].append(found)
                        print(
                            f"round {round_no} {name:>4}: {found['rps']:.0f} req/s, p50 "
                            f"{found.get('50%', 0):.2f} ms, p99 {found.get('99%', 0):.2f} ms, "
                            f"non-2xx {found['non2xx']:.0f}, socket errors {found['errors']:.0f}",
                            flush=True,
                        )
                    elif name == "app":
                        results["warm"] = [found]
        finally:
            stop(bare)
            stop(app)  # SIGTERM: what is queued for the database is written first
        if app.returncode not in (0, -signal.SIGTERM):
            log.seek(0)
            problems.append(f"server exited {app.returncode}: {log.read()[-2000:]!r}")
    answered = sum(r["requests"] - r["non2xx"] for r in results["app"] + results["warm"])
    conn = await asyncpg.connect(url)
    try:
        stored = await conn.fetchval(
            "SELECT count(*) FROM stats_facts WHERE site_id = $1::uuid", site_id
        )
    finally:
        await conn.close()
    if stored < answered:
        problems.append(f"{answered:.0f} beacons answered but {stored} stored")
    app_rps = statistics.median(r["rps"] for r in results["app"])
    bare_rps = statistics.median(r["rps"] for r in results["bare"])
    # Each round's pair ran back to back: their ratio is the least disturbed by other load.
    ratios = [a["rps"] / b["rps"] for a, b in zip(results["app"], results["bare"], strict=True)]
    print(
        f"beacon ingest: widget-server {app_rps:.0f} req/s, bare aiohttp handler {bare_rps:.0f} "
        f"req/s (medians); ratio per round {', '.join(f'{r:.2f}' for r in ratios)}, median "
        f"{statistics.median(ratios):.2f} (wrk 1 thread, {args.connections} connections); "
        f"{stored} facts stored for {answered:.0f} beacons answered"
    )
    for name in ("app", "bare"):
        print(
            f"  {name:>4} latency: p50 {statistics.median(r.get('50%', 0) for r in results[name]):.2f} ms, "
            f"p99 {statistics.median(r.get('99%', 0) for r in results[name]):.2f} ms"
        )
    return problems


async def seed_year(url: str, site_id: str, total: int, rng: random.Random) -> dt.date:
    """365 days of aggregates ending yesterday that sum to `total` page views, and today raw."""
    import uuid

    sid = uuid.UUID(site_id)
    today = dt.datetime.now(dt.UTC).date()
    days = [today - dt.timedelta(days=i) for i in range(365, 0, -1)]
    weights = [1.0 + 0.3 * (d.weekday() < 5) + rng.random() * 0.2 for d in days]
    per_day = [int(total * w / sum(weights)) for w in weights]
    per_day[-1] += total - sum(per_day)
    paths = [f"/docs/page-{i}" for i in range(400)]
    zipf = [1 / (i + 1) for i in range(len(paths))]
    hosts = [f"ref{i}.example" for i in range(60)]
    day_rows, page_rows, ref_rows, consent_rows = [], [], [], []
    for day, views in zip(days, per_day, strict=True):
        visitors = views * 4 // 10
        day_rows.append((sid, day, views, visitors, views // 2, views // 2 * 30_000, 21_000, 12))
        shares = [int(views * z / sum(zipf)) for z in zipf]
        shares[0] += views - sum(shares)
        for path, n in zip(paths, shares, strict=True):
            page_rows.append((sid, day, path, n, n * 4 // 10, n // 2, n // 2 * 30_000, 21_000))
        for i, host in enumerate(hosts):
            ref_rows.append((sid, day, host, max(1, views // (20 * (i + 1)))))
        version = 1 if day < days[180] else 2
        consent_rows.append(
            (
                sid,
                day,
                version,
                f'{{"accept_all": {visitors // 5}, "reject_all": {visitors // 10}}}',
                f'{{"necessary": {visitors * 3 // 10}, "analytics": {visitors // 5}}}',
                visitors,
                visitors * 3 // 10,
            )
        )
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "INSERT INTO policies (site_id, version, title, body, language, sha256, published_at) "
            "VALUES ($1, 2, 'T', 'B', 'en', 'h', $2)",
            sid,
            dt.datetime.combine(days[180], dt.time(), dt.UTC),
        )
        await conn.copy_records_to_table(
            "stats_days",
            records=day_rows,
            columns=["site_id", "day", "pageviews", "visitors", "engagements", "engaged_ms",
                     "median_engaged_ms", "requests"],
        )  # fmt: skip
        await conn.copy_records_to_table(
            "stats_pages",
            records=page_rows,
            columns=["site_id", "day", "path", "pageviews", "entries", "engagements",
                     "engaged_ms", "median_engaged_ms"],
        )  # fmt: skip
        await conn.copy_records_to_table("stats_referrers", records=ref_rows)
        # The monthly sums the rollup keeps beside the days.
        await conn.execute(
            """INSERT INTO stats_pages_months
               SELECT site_id, date_trunc('month', day)::date, path, sum(pageviews),
                      sum(engagements), sum(engaged_ms)
               FROM stats_pages WHERE site_id = $1 GROUP BY 1, 2, 3""",
            sid,
        )
        await conn.execute(
            """INSERT INTO stats_referrers_months
               SELECT site_id, date_trunc('month', day)::date, host, sum(visits)
               FROM stats_referrers WHERE site_id = $1 GROUP BY 1, 2, 3""",
            sid,
        )
        await conn.executemany(
            "INSERT INTO stats_consents VALUES ($1, $2, $3, $4::text::jsonb, $5::text::jsonb, $6, $7)",
            consent_rows,
        )
        await conn.execute(
            "INSERT INTO stats_rollups (site_id, final_through) VALUES ($1, $2)", sid, days[-1]
        )
        await stats_facts.create_partitions(conn, [today])
        facts = []
        for i in range(per_day[-1]):
            kind = "pageview" if i % 3 else "engagement"
            facts.append(
                (
                    today,
                    sid,
                    i * 24 // per_day[-1],
                    kind,
                    paths[min(int(rng.paretovariate(1.2)) - 1, 399)],
                    rng.choice(hosts) if kind == "pageview" and i % 5 == 0 else None,
                    rng.randrange(1, 120_000) if kind == "engagement" else None,
                    kind == "pageview" and i % 5 < 2,
                )
            )
        await conn.copy_records_to_table("stats_facts", records=facts, columns=stats_facts.COLUMNS)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    print(
        f"seeded {sum(per_day):,} page views over 365 days of aggregates "
        f"({len(page_rows):,} page rows, {len(ref_rows):,} referrer rows) and {len(facts):,} "
        f"raw facts for today",
        flush=True,
    )
    return days[0]


async def timed(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], count: int, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            started = time.perf_counter()
            async with session.get(url, headers=headers) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"{url}: HTTP {r.status}")
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def endpoint(args: argparse.Namespace, url: str) -> list[str]:
    site_id, site_key, key = await make_site(url, "Year")
    first = await seed_year(url, site_id, args.pageviews, random.Random(args.seed))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "WIDGET_SECRET_KEY": secrets.token_urlsafe(48),
        "WIDGET_PORT": str(port),
        "WIDGET_LOG_LEVEL": "WARNING",
        "WIDGET_JOBS": "off",
    }
    today = dt.datetime.now(dt.UTC).date()
    base = f"http://127.0.0.1:{port}/v1/sites/{site_key}"
    query = f"from={first}&to={today}"  # the year of aggregates and today's raw facts
    headers = {"Authorization": f"Bearer {key}"}
    with tempfile.TemporaryFile() as log:
        app = start([sys.executable, "-m", "widget_server", "serve"], env, log)
        try:
            async with aiohttp.ClientSession() as session:
                await wait_ready(session, f"http://127.0.0.1:{port}", app)
                async with session.get(f"{base}/stats?{query}", headers=headers) as r:
                    answer = await r.json()
                views = answer["totals"]["pageviews"]
                print(
                    f"GET /stats?{query}: {views:,} page views, {len(answer['days'])} days",
                    flush=True,
                )
                for path, label in (
                    (f"stats?{query}", "stats"),
                    (f"stats.svg?{query}", "stats.svg"),
                ):
                    await timed(session, f"{base}/{path}", headers, 20, 1)  # warm-up
                    for concurrency in (1, 8):
                        lat = await timed(
                            session, f"{base}/{path}", headers, args.requests, concurrency
                        )
                        print(
                            f"{label} over 365 days + today, {concurrency} at a time: "
                            f"p50 {pct(lat, 0.5):.1f} ms, p99 {pct(lat, 0.99):.1f} ms "
                            f"({len(lat)} requests)",
                            flush=True,
                        )
        finally:
            stop(app)
    return []


async def main() -> int:
    parser = argparse.ArgumentParser(description=USAGE)
    parser.add_argument("--seconds", type=int, default=10, help="wrk seconds per run (10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--rounds", type=int, default=3, help="app/bare pairs (3)")
    parser.add_argument("--requests", type=int, default=300, help="stats GETs per timing (300)")
    parser.add_argument("--pageviews", type=int, default=10_000_000, help="year total (10M)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", choices=("ingest", "endpoint"), default=None)
    args = parser.parse_args()
    server_url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    name = f"widget_bench_stats_{os.getpid()}_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    problems: list[str] = []
    try:
        conn = await connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        print(f"database {name}; {os.cpu_count()} CPUs shared by wrk, servers and Postgres")
        if args.only in (None, "ingest"):
            problems += await ingest(args, url)
        if args.only in (None, "endpoint"):
            problems += await endpoint(args, url)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
