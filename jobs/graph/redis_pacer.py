"""One write bucket for every worker process and machine: a token bucket kept in Redis.

Graph counts writes per app and tenant (identity and access service: 3,000 writes per 150 s,
https://learn.microsoft.com/en-us/graph/throttling-limits), not per worker, so the pacing
must be shared too: each worker reserving its own 20/s would, with N workers, run into 429
storms. The bucket is a Redis hash updated by one Lua script (atomic: Redis runs a script to
the end before any other command), with Redis's own clock (``TIME``), so machines whose
clocks differ still agree. Same reservation semantics as ``pacing.TokenBucketPacer``: the
balance may go negative and the debt is the caller's wait, so callers queue fairly.

A 429 seen by any worker ``hold()``s the bucket: no tokens accrue and every reservation waits
until the Retry-After has passed (https://learn.microsoft.com/en-us/graph/throttling, "wait
the number of seconds specified in the Retry-After header"), so the other workers do not all
meet the same 429 in turn.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from jobs.graph.pacing import TokenBucketPacer

log = logging.getLogger(__name__)

DEFAULT_KEY = "scim2entra:pacer:writes"
# Keys expire once idle: a bucket left full is the same as no bucket.
IDLE_TTL_S = 3600
REDIS_RETRY_S = 30.0  # after a Redis error, pace in-process this long before asking again

# KEYS[1] bucket hash {tokens, stamp}; ARGV: rate, capacity, n (reserve) or hold seconds, mode.
# "stamp" may lie in the future: that is a hold, no refill before it.
_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local amount = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
if now > stamp then
  tokens = math.min(capacity, tokens + (now - stamp) * rate)
  stamp = now
end
local wait = 0
if ARGV[4] == 'hold' then
  local hold_until = now + amount
  if hold_until > stamp then stamp = hold_until end
  if tokens > 0 then tokens = 0 end
else
  tokens = tokens - amount
  wait = (stamp - now)
  if tokens < 0 then wait = wait + (-tokens) / rate end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(stamp))
redis.call('EXPIRE', KEYS[1], ARGV[5])
return tostring(wait)
"""


class RedisTokenBucket:
    """The ``Pacer`` protocol (``acquire``, ``hold``) over one Redis key."""

    def __init__(self, redis: Redis, rate: float = 20.0, burst: float | None = None,
                 key: str = DEFAULT_KEY) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.redis = redis
        self.rate = float(rate)
        # one second of writes by default: Graph's window would allow 3,000 at once, but a
        # full burst leaves nothing for the tenant's other apps (18,000 / 5 min per tenant)
        self.capacity = float(burst if burst is not None else rate)
        if self.capacity < 1:
            raise ValueError("burst must allow at least one write")
        self.key = key
        self._script: Any = redis.register_script(_SCRIPT)
        self._local = TokenBucketPacer(self.rate, self.capacity)  # when Redis is unreachable
        self._down_until = 0.0

    def _run(self, amount: float, mode: str) -> float:
        answer = self._script(keys=[self.key],
                              args=[self.rate, self.capacity, amount, mode, IDLE_TTL_S])
        return max(0.0, float(answer))

    def acquire(self, n: int = 1) -> float:
        """Reserve ``n`` writes; the seconds to wait before sending them (never blocks).
        Redis unreachable: this process paces alone at the full rate (Graph's 429s and their
        Retry-After still bound the damage) rather than failing the write."""
        if time.monotonic() >= self._down_until:
            try:
                return self._run(n, "take")
            except RedisError as exc:
                # a failed connect costs seconds (client retries): not again for a while
                self._down_until = time.monotonic() + REDIS_RETRY_S
                log.warning("write pacer: Redis unreachable (%s); pacing in this process "
                            "for %.0f s", exc, REDIS_RETRY_S)
        return self._local.acquire(n)

    def hold(self, seconds: float) -> None:
        """Stop every worker's writes for ``seconds`` (a 429's Retry-After)."""
        if seconds <= 0:
            return
        self._local.hold(seconds)
        if time.monotonic() < self._down_until:
            return
        try:
            self._run(seconds, "hold")
        except RedisError as exc:
            self._down_until = time.monotonic() + REDIS_RETRY_S
            log.warning("write pacer: Redis unreachable (%s); hold kept in this process", exc)

    def reset(self) -> None:
        self.redis.delete(self.key)


def bucket_key(tenant_id: str | None, client_id: str | None, scope: str = "") -> str:
    """One bucket per app and tenant (the unit Graph counts); ``scope`` separates
    deployments that share a Redis server (their queue name)."""
    parts = [DEFAULT_KEY, scope, tenant_id or "-", client_id or "-"]
    return ":".join(p for p in parts if p)
