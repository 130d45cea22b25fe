"""Knobs: latency, the write quota, fault injection and eventual consistency.

Write quota: "Microsoft Graph service-specific throttling limits", identity and access service:
3,000 write requests per 150 seconds per app per tenant, 18,000 per 5 minutes per tenant
(https://learn.microsoft.com/en-us/graph/throttling-limits). 429 carries Retry-After
(https://learn.microsoft.com/en-us/graph/throttling).
"""

from __future__ import annotations

import math
import random
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "reset", "hang", "apply_then_fail")


class TokenBucket:
    def __init__(self, capacity: float, period_s: float) -> None:
        self.capacity = capacity
        self.rate = capacity / period_s
        self.tokens = capacity
        self.stamp = time.monotonic()

    def refill(self, now: float, scale: float) -> None:
        elapsed = max(0.0, now - self.stamp)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate * scale)
        self.stamp = max(now, self.stamp)

    def wait(self, scale: float) -> float:
        """Seconds until one token is available (0 if one is there now)."""
        return max(0.0, (1 - self.tokens) / (self.rate * scale))


@dataclass
class WriteQuota:
    enabled: bool = True
    scale: float = 1.0
    retry_after_mode: str = "int"  # "int" | "fraction" | "absent"
    app_capacity: float = 3000
    app_period_s: float = 150
    tenant_capacity: float = 18000
    tenant_period_s: float = 300
    min_retry_after: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._apps: dict[str, TokenBucket] = {}
            self._tenant = TokenBucket(self.tenant_capacity, self.tenant_period_s)

    def configure(self, **values: Any) -> None:
        for key, value in values.items():
            if key.startswith("_") or not hasattr(self, key):
                raise ValueError(f"unknown write quota setting {key!r}")
            setattr(self, key, value)
        self.reset()

    def take(self, app_id: str) -> float | None:
        """Consume one write; None when allowed, else the seconds to wait."""
        if not self.enabled:
            return None
        with self._lock:
            now = time.monotonic()
            app = self._apps.get(app_id)
            if app is None:
                app = self._apps[app_id] = TokenBucket(self.app_capacity, self.app_period_s)
            for bucket in (app, self._tenant):
                bucket.refill(now, self.scale)
            wait = max(app.wait(self.scale), self._tenant.wait(self.scale))
            if wait > 0:
                return max(wait, self.min_retry_after)
            app.tokens -= 1
            self._tenant.tokens -= 1
            return None

    def retry_after(self, wait: float) -> str | None:
        if self.retry_after_mode == "absent":
            return None
        if self.retry_after_mode == "fraction":
            return f"{max(wait, 0.001):.3f}"
        return str(max(1, math.ceil(wait)))


@dataclass
class FaultRule:
    kind: str = "status"  # status | reset | hang | apply_then_fail
    status: int = 503
    method: str | None = None  # regex, full match, case-insensitive
    path_re: str | None = None  # regex searched in the path below /v1.0
    rate: float = 0.0  # probability per matching request (rule stays)
    count: int | None = None  # scripted: answer the next N matching requests
    retry_after: str | None = None  # Retry-After for status faults (None: no header)
    hang_seconds: float = 30.0
    server: str = "graph"  # "graph" or "identity"
    id: int = 0

    def matches(self, server: str, method: str, path: str) -> bool:
        if server != self.server:
            return False
        if self.method and not re.fullmatch(self.method, method, re.IGNORECASE):
            return False
        return not self.path_re or re.search(self.path_re, path, re.IGNORECASE) is not None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Faults:
    seed: int = 1234
    rules: list[FaultRule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._next_id = 1
        self.release = threading.Event()  # set to let hanging requests go

    def add(self, kind: str = "status", **values: Any) -> FaultRule:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {FAULT_KINDS}")
        rule = FaultRule(kind=kind, **values)
        if rule.count is None and not rule.rate:
            rule.count = 1
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self.rules.append(rule)
        return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self._rng = random.Random(self.seed)
        self.release.set()
        self.release = threading.Event()

    def pick(self, server: str, method: str, path: str, allowed: tuple[str, ...] = FAULT_KINDS
             ) -> FaultRule | None:
        """The fault for this request: scripted rules first (in order), then random ones."""
        with self._lock:
            for rule in self.rules:
                if rule.count and rule.kind in allowed and rule.matches(server, method, path):
                    rule.count -= 1
                    if rule.count == 0:
                        self.rules.remove(rule)
                    return rule
            for rule in self.rules:
                if rule.count is None and rule.kind in allowed and rule.rate \
                        and rule.matches(server, method, path) and self._rng.random() < rule.rate:
                    return rule
        return None


@dataclass
class Knobs:
    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    # "404 right after a create": objects younger than this are not found by id...
    replication_delay_ms: float = 0.0
    # ...and, when True, also missing from lists, filters and member lists.
    replication_hides_lists: bool = False
    write_quota: WriteQuota = field(default_factory=WriteQuota)
    faults: Faults = field(default_factory=Faults)

    def reset(self) -> None:
        self.latency_ms = self.latency_jitter_ms = self.replication_delay_ms = 0.0
        self.replication_hides_lists = False
        self.write_quota = WriteQuota()
        self.faults.clear()

    def sleep_latency(self) -> None:
        delay = self.latency_ms + random.random() * self.latency_jitter_ms
        if delay > 0:
            time.sleep(delay / 1000)

    def is_fresh(self, created_monotonic: float) -> bool:
        delay = self.replication_delay_ms
        return delay > 0 and (time.monotonic() - created_monotonic) * 1000 < delay
