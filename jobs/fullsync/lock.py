"""One full sync at a time, across any number of workers and machines: a lease in Redis.

The lease is a key holding the run id, set with NX and a TTL. The run's jobs refresh it as
they work; when the run ends it is released. A run whose jobs all died stops refreshing, the
lease expires, and the next trigger resumes that run (`run.resume_stale`). The compare-and-
refresh and compare-and-delete are Lua scripts, so a run never extends or frees another
run's lease (the pattern of https://redis.io/docs/latest/develop/use/patterns/distributed-locks/).
"""

from __future__ import annotations

from redis import Redis

from jobs.fullsync import keys

_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RunLock:
    def __init__(self, redis: Redis, lease_seconds: float) -> None:
        self.redis = redis
        self.lease_ms = max(int(lease_seconds * 1000), 1000)
        self.key = keys.lock()

    def acquire(self, run_id: str) -> bool:
        return bool(self.redis.set(self.key, run_id, nx=True, px=self.lease_ms))

    def refresh(self, run_id: str) -> bool:
        """Extend the lease; False when the lease is not (or no longer) this run's."""
        return bool(self.redis.eval(_REFRESH, 1, self.key, run_id, self.lease_ms))

    def release(self, run_id: str) -> bool:
        return bool(self.redis.eval(_RELEASE, 1, self.key, run_id))

    def holder(self) -> str | None:
        value = self.redis.get(self.key)
        return value.decode() if isinstance(value, bytes) else value
