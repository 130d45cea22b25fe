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
from rq import Queue, scripts
from rq.exceptions import DuplicateJobError
from rq.job import Job, JobStatus

log = logging.getLogger(__name__)

EXTENSION = "scim2entra.queue"
SYNC_JOB = "jobs.tasks.sync_object"
# Jobs wait this long for a worker before RQ drops them; the outbox makes them re-appear.
JOB_TTL = 24 * 3600
FAILURE_TTL = 7 * 24 * 3600  # a failed job stays visible (dashboard, `rq info`) for a week
# A sync job, one by one (enqueue_sync) or in a batch (enqueue_syncs): no result kept.
SYNC_OPTIONS: dict[str, Any] = {"ttl": JOB_TTL, "result_ttl": 0, "failure_ttl": FAILURE_TTL}


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
                              unique=True, **SYNC_OPTIONS)
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


def enqueue_syncs(objects: list[tuple[str, str, str | None]], app: Flask | None = None) -> int:
    """Enqueue the syncs of several (kind, object id, Entra id) in one Redis round trip;
    returns how many reached the queue.

    Each job goes through RQ's own atomic unique enqueue (its Lua script, rq/scripts.py), as
    `enqueue(unique=True)` would send it, but all scripts travel in one pipeline: a burst of
    SCIM writes costs the web process a third of the CPU per job (bench/scim_ingress.py).
    An object whose sync job id is taken takes the one-by-one path (enqueue_sync).
    """
    if not objects:
        return 0
    queue = handle(app).queue
    try:
        pipe = queue.connection.pipeline(transaction=False)
        pipe.sadd(queue.redis_queues_keys, queue.key)  # what enqueue_job adds for each job
        script = scripts.get_unique_enqueue_script(queue.connection)
        for kind, object_id, entra_id in objects:
            job = queue.create_job(SYNC_JOB, args=(kind, object_id, entra_id),
                                   job_id=sync_job_id(kind, object_id),
                                   status=JobStatus.QUEUED, **SYNC_OPTIONS)
            queue._prepare_for_queue(job)  # origin, enqueued_at, timeout: as enqueue() does
            script(keys=[job.key, queue.key], client=pipe,
                   args=[job.id, "R", job.ttl, *scripts._build_hset_args(job)])
        saved = pipe.execute()[1:]
    except (RedisError, OSError) as exc:
        log.warning("queue unreachable, each of %d objects stays in the outbox: %s",
                    len(objects), exc)
        return 0
    taken = [obj for obj, ok in zip(objects, saved, strict=True) if not ok]
    return len(objects) - len(taken) + sum(
        enqueue_sync(kind, object_id, app, entra_id=entra_id)
        for kind, object_id, entra_id in taken)


def _status(queue: Queue, job_id: str) -> str | None:
    raw = queue.connection.hget(Job.key_for(job_id), "status")
    return raw.decode() if isinstance(raw, bytes) else raw
