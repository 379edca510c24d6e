"""A per-token request budget: a token bucket for each API token, in this process.

Each token may make `rate` requests a minute on average, in bursts of up to `rate`. With
several worker processes each keeps its own buckets, so a token's budget is per process.
"""

import math
import threading
import time
from dataclasses import dataclass

from insightboards.errors import TooManyRequests

# Buckets not touched for this long are dropped, so memory stays bounded.
IDLE_SECONDS = 600


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.per_second = per_minute / 60
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._last_sweep = time.monotonic()

    def spend(self, key: str) -> None:
        """Take one request from `key`'s bucket, or raise 429 saying when to retry."""
        if self.per_minute <= 0:
            return
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.per_minute), now)
            bucket.tokens = min(
                float(self.per_minute), bucket.tokens + (now - bucket.updated) * self.per_second
            )
            bucket.updated = now
            if bucket.tokens < 1:
                wait = math.ceil((1 - bucket.tokens) / self.per_second)
                raise TooManyRequests(
                    f"This token may make {self.per_minute} requests a minute; retry in {wait} s.",
                    headers={"Retry-After": str(wait)},
                )
            bucket.tokens -= 1

    def refund(self, key: str) -> None:
        """Give back a request `spend` took, for a request another path answers and spends
        for again."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(float(self.per_minute), bucket.tokens + 1)

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < IDLE_SECONDS:
            return
        self._last_sweep = now
        idle = [k for k, b in self._buckets.items() if now - b.updated > IDLE_SECONDS]
        for key in idle:
            del self._buckets[key]
