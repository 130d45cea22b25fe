"""The RQ queue: real Redis from SCIM2ENTRA_REDIS_URL, or an embedded in-process one.

The embedded queue (fakeredis with one shared FakeServer) exists for `scim2entra run` without
Redis: the web server and a worker thread in the same process see the same data.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.job import Job

log = logging.getLogger(__name__)

EXTENSION = "scim2entra.queue"
SYNC_JOB = "jobs.tasks.sync_object"
# Jobs wait this long for a worker before RQ drops them; the outbox makes them re-appear.
JOB_TTL = 24 * 3600


class QueueHandle:
    """The app's Redis connection and queue, built once per process."""

    def __init__(self, redis_url: str | None, queue_name: str) -> None:
        self.embedded = redis_url is None
        self.redis = _embedded_redis() if redis_url is None else _real_redis(redis_url)
        self.queue = Queue(queue_name, connection=self.redis)


def _real_redis(url: str) -> Redis:
    # Short timeouts: a SCIM request must not hang when Redis is down (the outbox has the work).
    return Redis.from_url(url, socket_connect_timeout=1.0, socket_timeout=2.0)


_FAKE_SERVER: Any = None


def _embedded_redis() -> Redis:
    import fakeredis

    global _FAKE_SERVER
    if _FAKE_SERVER is None:
        _FAKE_SERVER = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_FAKE_SERVER)


def init_app(app: Flask) -> None:
    settings = app.config["SCIM2ENTRA"]
    app.extensions[EXTENSION] = QueueHandle(settings["REDIS_URL"], settings["QUEUE_NAME"])


def handle(app: Flask | None = None) -> QueueHandle:
    handle_: QueueHandle = (app or current_app).extensions[EXTENSION]
    return handle_


def sync_job_id(kind: str, object_id: str) -> str:
    """One job id per object, so a burst of changes to one object coalesces into one job.

    RQ only allows letters, digits, `_` and `-` in job ids, hence not `sync:user:<id>`.
    """
    return f"sync-{kind}-{object_id}"


def retry_job_id(kind: str, object_id: str) -> str:
    """The delayed retry of an object's sync (backoff, or a change meeting two busy ids)."""
    return f"retry-{kind}-{object_id}"


def follow_job_id(kind: str, object_id: str) -> str:
    """The second job id of an object: a change arriving while its sync job runs."""
    return f"follow-{kind}-{object_id}"


# A job in one of these states has not read the store yet: it will see any committed change.
_NOT_STARTED = {"queued", "deferred", "scheduled"}


def enqueue_sync(kind: str, object_id: str, app: Flask | None = None,
                 entra_id: str | None = None) -> bool:
    """Enqueue the sync of one object. False when Redis is unreachable (the outbox keeps it).

    A job still waiting for this object is enough: jobs read the current state when they
    run, so the duplicate is dropped (RQ's `unique=True`, an atomic check in Redis). A job
    that has started may already have read the store for the last time, and RQ keeps its
    id taken until it has returned: then a second id queues one follow-up run, or else a
    delayed retry does (without either, the change waited for the outbox sweeper; found by
    tests/test_ops_many_workers.py).
    """
    queue = handle(app).queue
    try:
        for job_id in (sync_job_id(kind, object_id), follow_job_id(kind, object_id)):
            try:
                queue.enqueue(SYNC_JOB, kind, object_id, entra_id, job_id=job_id,
                              unique=True, ttl=JOB_TTL, result_ttl=0,
                              failure_ttl=7 * 24 * 3600)
                return True
            except DuplicateJobError:
                if _status(queue, job_id) in _NOT_STARTED:
                    return True
        with contextlib.suppress(DuplicateJobError):  # a retry is due soon anyway
            queue.enqueue_in(timedelta(seconds=1), SYNC_JOB, kind, object_id, entra_id,
                             job_id=retry_job_id(kind, object_id), unique=True, result_ttl=0)
    except (RedisError, OSError) as exc:
        log.warning("queue unreachable, %s %s stays in the outbox: %s", kind, object_id, exc)
        return False
    return True


def _status(queue: Queue, job_id: str) -> str | None:
    raw = queue.connection.hget(Job.key_for(job_id), "status")
    return raw.decode() if isinstance(raw, bytes) else raw
