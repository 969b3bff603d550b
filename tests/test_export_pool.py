"""Exports cannot starve the widget: slow downloads hold connections of their own pool, not the widget's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.conftest import HOST_ORIGIN, Tenant
from tests.widget_support import consent_body

SLOW_READERS = 4


async def _fill(db: asyncpg.Connection, tenant: Tenant, rows: int) -> None:
    """Enough requests that an unread export fills every socket buffer and waits on its reader."""
    await db.execute(
        """INSERT INTO info_requests (site_id, request_id, event_id, visitor_id, fields, email,
               marketing_opt_in, policy_version, language, page_origin, page_path, created_at,
               updated_at)
           SELECT $1, gen_random_uuid(), gen_random_uuid(), 'v', jsonb_build_object(
                      'name', 'n' || i, 'email', 'a@example.com', 'message', repeat('x', 2000)),
                  'a@example.com', false, $2, 'en', 'https://shop.example', '/', now(), now()
           FROM generate_series(1, $3) AS i""",
        tenant.site_id,
        tenant.policy_version,
        rows,
    )


@pytest.mark.slow
async def test_slow_export_readers_leave_the_widget_its_connections(
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
    tenant: Tenant,
) -> None:
    await _fill(db, tenant, 8000)
    # The widget's pool is smaller than the number of stalled downloads.
    server = await aiohttp_server(
        make_app(db_pool_size=2, export_pool_size=1, db_acquire_timeout=2.0)
    )
    base = f"http://{server.host}:{server.port}"
    url = f"{base}/v1/sites/{tenant.site_key}/requests/export?format=ndjson"
    async with contextlib.AsyncExitStack() as stack:

        async def stalled_download() -> Any:
            session = await stack.enter_async_context(aiohttp.ClientSession(read_bufsize=2**12))
            # Sent, never read: an export that started stalls on its own back-pressure.
            return await asyncio.wait_for(session.get(url, headers=tenant.auth), 120)

        first = await stalled_download()
        assert first.status == 200
        # The export pool is held: more downloads wait for it, then answer 503.
        later = await asyncio.gather(*(stalled_download() for _ in range(SLOW_READERS - 1)))
        assert {r.status for r in later} == {503}
        async with aiohttp.ClientSession() as visitor:
            answers = []
            for _ in range(10):
                r = await visitor.post(
                    f"{base}/v1/widget/{tenant.site_key}/consents",
                    json=consent_body(tenant),
                    headers={"Origin": HOST_ORIGIN},
                )
                answers.append(r.status)
        # The first download still holds its connection, and the widget has all of its own.
        assert answers == [201] * 10
        for response in (first, *later):
            response.close()
