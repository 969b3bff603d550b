"""In-process rate limits: token buckets keyed on a keyed hash of the client IP, never the IP."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
import uuid
from collections.abc import Callable, Hashable

Clock = Callable[[], float]


class TokenBuckets:
    """`capacity` tokens per key, refilled evenly over `period` seconds."""

    def __init__(self, capacity: int, period: float, *, clock: Clock = time.monotonic) -> None:
        self.capacity = float(capacity)
        self.rate = capacity / period
        self._clock = clock
        self._buckets: dict[Hashable, tuple[float, float]] = {}
        self._last_prune = clock()
        self._period = period

    def take(self, key: Hashable) -> float:
        """Take one token: 0.0 when allowed, else the seconds until one is available."""
        now = self._clock()
        self._maybe_prune(now)
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def __len__(self) -> int:
        return len(self._buckets)

    def _maybe_prune(self, now: float) -> None:
        # A bucket that has refilled completely is the same as no bucket: forget it, so memory
        # follows the number of recently active clients, not every client ever seen.
        if now - self._last_prune < self._period:
            return
        self._last_prune = now
        full = [
            k
            for k, (tokens, last) in self._buckets.items()
            if tokens + (now - last) * self.rate >= self.capacity
        ]
        for k in full:
            del self._buckets[k]


def retry_after(wait: float) -> int:
    """Whole seconds for a Retry-After header, at least one."""
    return max(1, math.ceil(wait))


class RateLimiter:
    """The widget API's limits: writes per client and site, info requests per site."""

    def __init__(
        self,
        secret: str,
        *,
        writes_per_minute: int,
        requests_per_site_per_hour: int,
        clock: Clock = time.monotonic,
    ) -> None:
        self._key = hmac.new(secret.encode(), b"widget-server rate limit", hashlib.sha256).digest()
        self.writes = TokenBuckets(writes_per_minute, 60.0, clock=clock)
        self.site_requests = TokenBuckets(requests_per_site_per_hour, 3600.0, clock=clock)

    def client_key(self, ip: str) -> bytes:
        return hmac.new(self._key, ip.encode(), hashlib.sha256).digest()[:16]

    def write(self, ip: str, site_id: uuid.UUID) -> int | None:
        """None when a write from this client to this site may go ahead, else Retry-After."""
        wait = self.writes.take((self.client_key(ip), site_id))
        return retry_after(wait) if wait else None

    def info_request(self, site_id: uuid.UUID) -> int | None:
        """None when the site may take one more info request now, else Retry-After."""
        wait = self.site_requests.take(site_id)
        return retry_after(wait) if wait else None
