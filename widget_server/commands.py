"""The CLI verbs' work, each an async function over a resolved database URL."""

from __future__ import annotations

import dataclasses
import logging
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

from widget_server.app import create_app
from widget_server.db import connect, migrate
from widget_server.queries import merchants, retention, sites
from widget_server.runner import serve
from widget_server.settings import Secret, Settings

log = logging.getLogger("widget_server.cli")


def snippet(public_url: str, site_key: str) -> str:
    return f'<script async src="{public_url}/widget.js" data-site="{site_key}"></script>'


async def cmd_migrate(url: str) -> list[str]:
    conn = await connect(url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def cmd_serve(settings: Settings, url: str) -> None:
    await cmd_migrate(url)
    app = create_app(dataclasses.replace(settings, database_url=Secret(url)))

    async def ready(urls: list[str]) -> None:
        log.info("serving on %s (public URL %s)", urls[0], settings.public_url)

    await serve([(app, settings.host, settings.port)], on_ready=ready)


async def cmd_merchant_create(url: str, name: str) -> None:
    conn = await connect(url)
    try:
        async with conn.transaction():
            merchant_id = await merchants.create_merchant(conn, name)
            _, secret = await merchants.create_key(conn, merchant_id, name="first key")
    finally:
        await conn.close()
    print(f"merchant_id: {merchant_id}")
    print(f"api_key: {secret}")
    print("The key is shown once; it is stored only as a hash.", file=sys.stderr)


async def cmd_key_create(url: str, merchant_id: uuid.UUID, name: str, scopes: Sequence[str]) -> int:
    conn = await connect(url)
    try:
        if not await merchants.merchant_exists(conn, merchant_id):
            print(f"widget-server: no merchant {merchant_id}", file=sys.stderr)
            return 1
        row, secret = await merchants.create_key(conn, merchant_id, name=name, scopes=scopes)
    finally:
        await conn.close()
    print(f"key_id: {row['key_id']}")
    print(f"scopes: {','.join(row['scopes'])}")
    print(f"api_key: {secret}")
    return 0


async def cmd_site_create(
    url: str,
    public_url: str,
    merchant_id: uuid.UUID,
    name: str,
    origins: Sequence[str],
    locale: str,
) -> int:
    conn = await connect(url)
    try:
        if not await merchants.merchant_exists(conn, merchant_id):
            print(f"widget-server: no merchant {merchant_id}", file=sys.stderr)
            return 1
        row = await sites.create_site(
            conn, merchant_id, name=name, allowed_origins=origins, default_locale=locale
        )
    finally:
        await conn.close()
    print(f"site_key: {row['site_key']}")
    print(f"snippet: {snippet(public_url, row['site_key'])}")
    return 0


async def cmd_policy_publish(
    url: str, site_key: str, path: Path, title: str | None, language: str | None
) -> int:
    from widget_server.cli_policy import publish_policy_file

    conn = await connect(url)
    try:
        row = await publish_policy_file(conn, site_key, path, title=title, language=language)
    except (LookupError, OSError, ValueError) as exc:
        print(f"widget-server: {exc}", file=sys.stderr)
        return 1
    finally:
        await conn.close()
    print(f"version: {row['version']}")
    print(f"sha256: {row['sha256']}")
    return 0


async def cmd_consent_verify(url: str, secret: str, record_id: uuid.UUID) -> int:
    from widget_server.cli_policy import verify_consent

    conn = await connect(url)
    try:
        ok, record = await verify_consent(conn, secret, record_id)
    finally:
        await conn.close()
    if record is None:
        print(f"widget-server: no consent record {record_id}", file=sys.stderr)
        return 1
    print(
        f"record {record_id}: {'receipt valid' if ok else 'RECEIPT INVALID: the record was altered'}"
    )
    return 0 if ok else 3


async def cmd_purge(url: str) -> None:
    conn = await connect(url)
    try:
        counts = await retention.purge(conn)
    finally:
        await conn.close()
    print(", ".join(f"{table}: {n} deleted" for table, n in counts.items()))
