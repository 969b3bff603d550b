"""Smoke: the app starts on a real database and answers health checks."""

from typing import Any

from aiohttp.test_utils import TestClient


async def test_healthz_and_readyz(client: TestClient[Any, Any]) -> None:
    r = await client.get("/healthz")
    assert r.status == 200
    assert (await r.json()) == {"status": "ok"}
    r = await client.get("/readyz")
    assert r.status == 200, await r.text()
    assert r.headers["X-Request-Id"]
