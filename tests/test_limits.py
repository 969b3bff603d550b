"""Rate limits and the client address: token buckets, proxies, and the 429s they produce."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.conftest import Tenant
from tests.widget_support import beacon_body, consent_body, post
from widget_server.runtime.limits import RateLimiter, TokenBuckets
from widget_server.web.clientip import resolve


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_capacity_then_waits_for_refill() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(3, 60.0, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(20.0)
    assert buckets.take("b") == 0.0  # another key has its own bucket
    clock.now += 20.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0


def test_full_buckets_are_forgotten() -> None:
    clock = FakeClock()
    buckets = TokenBuckets(2, 10.0, clock=clock)
    for key in range(100):
        buckets.take(key)
    assert len(buckets) == 100
    clock.now += 11.0
    buckets.take("new")
    assert len(buckets) == 1


def test_limiter_never_keeps_the_raw_address() -> None:
    limiter = RateLimiter(
        "s" * 40, writes_per_minute=1, requests_per_site_per_hour=1, clock=FakeClock()
    )
    site = uuid.uuid4()
    assert limiter.write("203.0.113.7", site) is None
    assert limiter.write("203.0.113.7", site) == 60
    assert limiter.write("203.0.113.7", uuid.uuid4()) is None  # per site
    assert limiter.write("203.0.113.8", site) is None  # per client
    keys = repr(limiter.writes._buckets)
    assert "203.0.113" not in keys
    assert limiter.info_request(site) is None
    assert limiter.info_request(site) == 3600


TRUSTED = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8::/32"))


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("203.0.113.1", ["198.51.100.1"], "203.0.113.1"),  # untrusted peer: its header is ignored
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.1", ["1.1.1.1, 198.51.100.1, 10.0.0.2"], "198.51.100.1"),  # spoofed left part
        ("10.0.0.1", ["1.1.1.1", "198.51.100.1"], "198.51.100.1"),  # two header lines
        ("10.0.0.1", ["10.0.0.3, 10.0.0.2"], "10.0.0.3"),  # all trusted: the leftmost
        ("10.0.0.1", ["198.51.100.1, garbage"], "10.0.0.1"),
        ("10.0.0.1", ["2001:db8::5, [2001:db9::1]:443"], "2001:db9::1"),
        ("::ffff:10.0.0.1", ["198.51.100.9"], "198.51.100.9"),
        ("::ffff:203.0.113.1", [], "203.0.113.1"),
        (None, [], "unknown"),
    ],
)
def test_client_ip(peer: str | None, xff: list[str], expected: str) -> None:
    assert resolve(peer, xff, TRUSTED) == expected


@pytest.fixture
async def tight(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]],
    make_app: Callable[..., web.Application],
    db: asyncpg.Connection,
) -> TestClient[Any, Any]:
    app = make_app(trusted_proxies=(ipaddress.ip_network("127.0.0.1/32"),), rate_limit_per_minute=3)
    return await aiohttp_client(app)


async def test_writes_are_limited_per_client_and_site(
    tight: TestClient[Any, Any], db: asyncpg.Connection, tenant: Tenant, other_tenant: Tenant
) -> None:
    def from_ip(ip: str) -> dict[str, str]:
        return {"X-Forwarded-For": ip}

    kinds = ["consents", "events", "consents"]
    for kind in kinds:
        body = consent_body(tenant) if kind == "consents" else beacon_body()
        r = await post(tight, tenant.site_key, kind, body, headers=from_ip("198.51.100.1"))
        assert r.status in (201, 202)
    r = await post(tight, tenant.site_key, "events", beacon_body(), headers=from_ip("198.51.100.1"))
    assert r.status == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert (await r.json())["status"] == 429
    # Another client of the same site, and the same client on another site, go ahead.
    r = await post(tight, tenant.site_key, "events", beacon_body(), headers=from_ip("198.51.100.2"))
    assert r.status == 202
    r = await post(
        tight,
        other_tenant.site_key,
        "events",
        beacon_body(url="https://other.example/"),
        origin="https://other.example",
        headers=from_ip("198.51.100.1"),
    )
    assert r.status == 202


async def test_config_reads_are_not_write_limited(
    tight: TestClient[Any, Any], tenant: Tenant
) -> None:
    for _ in range(10):
        r = await tight.get(f"/v1/widget/{tenant.site_key}/config")
        assert r.status == 200
