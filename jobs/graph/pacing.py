"""Client-side write pacing, under Graph's write quota.

Identity and access service limits: 3,000 writes per 150 s per app and tenant (about 20/s),
18,000 per 5 minutes per tenant (https://learn.microsoft.com/en-us/graph/throttling-limits).
The boundary calls ``acquire(n)`` before sending n writes and sleeps (on its event loop) for
the seconds it returns, so pacing never blocks the loop thread. A Redis-shared bucket for
many workers implements the same protocol.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Pacer(Protocol):
    def acquire(self, n: int = 1) -> float:
        """Reserve ``n`` writes; return the seconds to wait before sending them."""
        ...

    def hold(self, seconds: float) -> None:
        """Send no writes for ``seconds`` (a 429's Retry-After), for every sharer."""
        ...


class NoPacer:
    def acquire(self, n: int = 1) -> float:
        return 0.0

    def hold(self, seconds: float) -> None:
        return None


class TokenBucketPacer:
    """In-process token bucket with reservations: tokens may go negative, and the debt
    tells the caller how long to wait, so concurrent callers queue fairly."""

    def __init__(self, rate: float = 20.0, burst: float | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = burst if burst is not None else rate
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, n: int = 1) -> float:
        with self._lock:
            now = time.monotonic()
            if now > self._stamp:  # a stamp in the future is a hold(): nothing accrues
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
            self._tokens -= n
            return max(0.0, self._stamp - now) + max(0.0, -self._tokens / self.rate)

    def hold(self, seconds: float) -> None:
        """No tokens accrue for ``seconds`` (the stamp moves into the future)."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + max(0.0, now - self._stamp)
                               * self.rate)
            self._stamp = max(self._stamp, now + seconds)
            self._tokens = min(self._tokens, 0.0)
