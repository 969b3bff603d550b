"""The CLI verbs: each opens a connection, calls one service, and prints what it gives."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from widget_server.app import create_app
from widget_server.db.migrations import migrate
from widget_server.db.pool import connect
from widget_server.domain.snippet import snippet
from widget_server.services import api_keys, consents, merchants, policies, retention, sites
from widget_server.settings import Secret, Settings
from widget_server.web.serve import serve

log = logging.getLogger("widget_server.cli")


@asynccontextmanager
async def connection(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def cmd_migrate(url: str) -> list[str]:
    async with connection(url) as conn:
        return await migrate(conn)


async def cmd_serve(settings: Settings, url: str) -> None:
    await cmd_migrate(url)
    app = create_app(dataclasses.replace(settings, database_url=Secret(url)))

    async def ready(urls: list[str]) -> None:
        log.info("serving on %s (public URL %s)", urls[0], settings.public_url)

    await serve([(app, settings.host, settings.port)], on_ready=ready)


def _given(**values: object) -> dict[str, object]:
    """The options the operator gave; the rest take the service's defaults."""
    return {k: v for k, v in values.items() if v is not None}


async def dispatch(args: argparse.Namespace, settings: Settings, url: str) -> int:
    """Run the verb; a service's refusal (a DomainError) is printed by the caller."""
    verb = args.verb
    if verb == "serve":
        await cmd_serve(settings, url)
        return 0
    if verb == "worker":
        from widget_server.jobs.worker import run_worker

        await cmd_migrate(url)
        await run_worker(dataclasses.replace(settings, database_url=Secret(url)))
        return 0
    if verb == "migrate":
        applied = await cmd_migrate(url)
        print(
            f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else "")
        )
        return 0
    if verb == "demo":
        from widget_server.cli.demo import run_demo

        await run_demo(settings, url, args.host_page_port or settings.port + 1)
        return 0
    async with connection(url) as conn:
        if verb == "merchant":
            made = await merchants.create_merchant(conn, {"name": args.name})
            print(f"merchant_id: {made.merchant_id}")
            print(f"api_key: {made.secret}")
            print("The key is shown once; it is stored only as a hash.", file=sys.stderr)
        elif verb == "key":
            row, secret = await api_keys.create_key(
                conn, args.merchant, _given(name=args.name, scopes=args.scope)
            )
            print(f"key_id: {row['key_id']}")
            print(f"scopes: {','.join(row['scopes'])}")
            print(f"api_key: {secret}")
        elif verb == "site":
            data = _given(name=args.name, allowed_origins=args.origin, default_locale=args.locale)
            row = await sites.create_site(conn, args.merchant, data)
            print(f"site_key: {row['site_key']}")
            print(f"snippet: {snippet(settings.public_url, row['site_key'])}")
        elif verb == "policy":
            row = await policies.publish_policy_file(
                conn, args.site, args.file, title=args.title, language=args.language
            )
            print(f"version: {row['version']}")
            print(f"sha256: {row['sha256']}")
        elif verb == "consent":
            ok, _ = await consents.verify_record(conn, settings.secret_key.reveal(), args.record_id)
            verdict = "receipt valid" if ok else "RECEIPT INVALID: the record was altered"
            print(f"record {args.record_id}: {verdict}")
            return 0 if ok else 3
        elif verb == "purge":
            counts = await retention.purge(conn)
            print(", ".join(f"{table}: {n} deleted" for table, n in counts.items()))
    return 0
