"""A run's progress, stored for the dashboard (SyncControl rows, see the contract below).

Key ``full_sync``: ``{"run_id", "state": "running"|"done"|"failed", "started", "finished",
"phases": {"<phase>": {"done", "total"}}, "error"}``; when a run ends it is copied to
``full_sync_last``. Chunk jobs run in parallel, so the counters live in Redis (HINCRBY is
atomic) and the row is rewritten from them under a row lock (PostgreSQL: SELECT … FOR
UPDATE; SQLite has one writer anyway), so it never goes backwards.
"""

from __future__ import annotations

from typing import Any

from redis import Redis

from jobs.fullsync import keys
from webapp.extensions import db
from webapp.models import SyncControl, utcnow

CURRENT = "full_sync"
LAST = "full_sync_last"


def current() -> dict[str, Any] | None:
    """The run in progress, or the last one while no other has started."""
    return _read(CURRENT)


def last() -> dict[str, Any] | None:
    """The last run that ended (done or failed)."""
    return _read(LAST)


def _read(key: str) -> dict[str, Any] | None:
    row = db.session.get(SyncControl, key)
    return dict(row.value) if row is not None else None


def begin(run_id: str) -> dict[str, Any]:
    value: dict[str, Any] = {"run_id": run_id, "state": "running", "started": utcnow().isoformat(),
                             "finished": None, "phases": {}, "error": None}
    _write(CURRENT, value)
    db.session.commit()
    return value


def set_total(redis: Redis, run_id: str, phase: str, total: int) -> None:
    redis.hset(keys.run(run_id, "total"), phase, total)


def add_done(redis: Redis, run_id: str, phase: str, n: int) -> None:
    redis.hincrby(keys.run(run_id, "done"), phase, n)


def publish(redis: Redis, run_id: str) -> None:
    """Copy the Redis counters into the row, unless the row belongs to another run."""
    row = db.session.get(SyncControl, CURRENT, with_for_update=True)
    if row is None or row.value.get("run_id") != run_id:
        db.session.rollback()
        return
    totals = _counters(redis, keys.run(run_id, "total"))
    done = _counters(redis, keys.run(run_id, "done"))
    phases = {phase: {"done": min(done.get(phase, 0), total), "total": total}
              for phase, total in totals.items()}
    row.value = {**row.value, "phases": phases}
    db.session.commit()


def end(redis: Redis, run_id: str, error: str | None = None) -> dict[str, Any] | None:
    """Mark the run done (or failed with `error`) and copy it to ``full_sync_last``."""
    publish(redis, run_id)
    row = db.session.get(SyncControl, CURRENT, with_for_update=True)
    if row is None or row.value.get("run_id") != run_id:
        db.session.rollback()
        return None
    value = {**row.value, "state": "failed" if error else "done",
             "finished": utcnow().isoformat(), "error": error}
    row.value = value
    _write(LAST, value)
    db.session.commit()
    return value


def _write(key: str, value: dict[str, Any]) -> None:
    row = db.session.get(SyncControl, key)
    if row is None:
        db.session.add(SyncControl(key=key, value=value))
    else:
        row.value = value


def _counters(redis: Redis, key: str) -> dict[str, int]:
    raw = redis.hgetall(key)
    return {k.decode(): int(v) for k, v in raw.items()}  # type: ignore[union-attr]
