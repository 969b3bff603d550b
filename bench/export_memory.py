"""Peak RSS of a real server process before and while it exports 100,000 info requests over HTTP."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
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
    "Creates a scratch database on the Postgres server of TEST_DATABASE_URL (or DATABASE_URL), fills it, "
    "starts `python -m widget_server serve` against it, streams the CSV and NDJSON exports, and prints "
    "the server's peak RSS (VmHWM) before and after each with the ratio; the database is dropped after."
)
FILL = """
INSERT INTO info_requests (site_id, request_id, event_id, visitor_id, fields, email, marketing_opt_in,
                           status, policy_version, language, page_origin, page_path, created_at, updated_at)
SELECT $1, gen_random_uuid(), gen_random_uuid(), 'visitor_' || g,
       jsonb_build_object('name', 'Person ' || g, 'email', 'p' || g || '@example.com',
                          'phone', '+49 30 ' || g, 'message', repeat('Tell me more about it. ', 12)),
       'p' || g || '@example.com', g % 3 = 0, 'new', 1, 'en', 'https://shop.example', '/contact',
       now() - g * interval '1 second', now() - g * interval '1 second'
FROM generate_series(1, $2) AS g
"""


def peak_rss_mib(pid: int) -> float:
    """VmHWM: the process's peak resident set so far (Linux), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


async def prepare(url: str, rows: int) -> tuple[str, str]:
    conn = await connect(url)
    try:
        await migrate(conn)
        merchant = await merchants.create_merchant(conn, {"name": "Bench"})
        key = merchant.secret
        site = await sites.create_site(
            conn,
            merchant.merchant_id,
            {"name": "Bench", "allowed_origins": ["https://shop.example"]},
        )
        await policies.publish_policy(conn, site, {"title": "Terms", "body": "Text"})
        started = time.perf_counter()
        await conn.execute(FILL, site["site_id"], rows)
        await conn.execute("ANALYZE info_requests")
        print(f"filled {rows:,} info requests in {time.perf_counter() - started:.1f} s")
    finally:
        await conn.close()
    return key, site["site_key"]


async def download(base: str, path: str, key: str) -> tuple[int, int, float]:
    """Stream the body away; returns (bytes, lines, seconds)."""
    size = lines = 0
    started = time.perf_counter()
    timeout = aiohttp.ClientTimeout(total=600)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.get(base + path, headers={"Authorization": f"Bearer {key}"}) as response,
    ):
        response.raise_for_status()
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            lines += chunk.count(b"\n")
    return size, lines, time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=USAGE)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    server_url = os.environ.get("TEST_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not server_url:
        sys.exit("set TEST_DATABASE_URL or DATABASE_URL to a Postgres server")
    name = f"widget_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(server_url, name)
    server: subprocess.Popen[bytes] | None = None
    try:
        key, site_key = await prepare(url, args.rows)
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "WIDGET_SECRET_KEY": secrets.token_urlsafe(48),
            "WIDGET_HOST": "127.0.0.1",
            "WIDGET_PORT": str(port),
            "WIDGET_LOG_LEVEL": "WARNING",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "widget_server", "serve"], cwd=ROOT, env=env
        )
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, base, server)
        # Warm up every code path on a small page and a filtered (tiny) export first.
        await download(base, f"/v1/sites/{site_key}/requests?limit=50", key)
        await download(
            base, f"/v1/sites/{site_key}/requests/export?format=csv&since=2999-01-01", key
        )
        await download(
            base, f"/v1/sites/{site_key}/requests/export?format=ndjson&since=2999-01-01", key
        )
        before = peak_rss_mib(server.pid)
        print(f"server peak RSS before the exports: {before:.1f} MiB")
        for fmt in ("csv", "ndjson"):
            size, lines, seconds = await download(
                base, f"/v1/sites/{site_key}/requests/export?format={fmt}", key
            )
            during = peak_rss_mib(server.pid)
            print(
                f"{fmt:>6}: {lines - (fmt == 'csv'):,} rows, {size / 2**20:.1f} MiB in {seconds:.1f} s; "
                f"server peak RSS {during:.1f} MiB, ratio to before {during / before:.2f}"
            )
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
