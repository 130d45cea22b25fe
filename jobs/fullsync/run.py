"""A full sync run, in short RQ jobs (issue 6; ARCHITECTURE.md "scheduler → full sync").

    trigger ─▶ discover users (one job per page) ─▶ discover groups ─▶ users ─▶ groups
            ─▶ members ─▶ cleanup ─▶ done          (each arrow: the phase's last job)

`trigger()` (RQ entry `jobs.tasks.full_sync`) takes the run lease and starts discovery; the
jobs refresh the lease as they go; the last job of the last phase ends the run, writes the
progress row and frees the lease. A run whose jobs died (a worker killed) keeps its data in
Redis: once its lease has expired, the next trigger (the scheduler's sweep every 30 s, or a
new `sync full`) resumes it where it stopped, re-enqueueing the chunks not marked done.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

from flask import Flask
from redis import Redis
from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from jobs.fullsync import chunks, discover, keys, progress
from jobs.fullsync.lock import RunLock
from jobs.fullsync.members import reconcile_members
from jobs.fullsync.objects import Step
from jobs.fullsync.reconcile import reconcile_group, reconcile_user
from jobs.fullsync.window import WINDOW, run_window
from jobs.queue import JOB_TTL, handle
from jobs.sync import control
from jobs.sync.context import sync_context
from webapp.models import utcnow

log = logging.getLogger(__name__)
PHASES = ("discover_users", "discover_groups", "users", "groups", "members", "cleanup")
DISCOVER_JOB = "jobs.tasks.full_sync_discover"
STEPS: dict[tuple[str, str], Step] = {
    ("users", "user"): reconcile_user, ("cleanup", "user"): reconcile_user,
    ("groups", "group"): reconcile_group, ("cleanup", "group"): reconcile_group,
    ("members", "group"): reconcile_members,
}


def _redis(app: Flask) -> Redis:
    return handle(app).redis


def run_lock(app: Flask) -> RunLock:
    return RunLock(_redis(app), float(app.config["SCIM2ENTRA"].get("FULL_SYNC_LEASE") or 120))


# --- triggers ----------------------------------------------------------------------------

def trigger(app: Flask) -> str:
    """Start a run, resume a stale one, or do nothing while one is running."""
    with app.app_context():
        lock = run_lock(app)
        holder = lock.holder()
        if holder is not None:
            return f"already running: {holder}"
        found = progress.current()
        if found and found.get("state") == "running":
            stale = str(found["run_id"])
            if _redis(app).exists(keys.run(stale, "phase")) and lock.acquire(stale):
                resume(app, stale)
                return f"resumed {stale}"
            if not _redis(app).exists(keys.run(stale, "phase")):
                progress.end(_redis(app), stale, "the run's state in Redis was lost; restarted")
        run_id = uuid.uuid4().hex[:12]
        if not lock.acquire(run_id):
            return f"already running: {lock.holder()}"
        progress.begin(run_id)
        redis = _redis(app)
        redis.set(keys.run(run_id, "started"), utcnow().isoformat(), ex=discover.RUN_TTL)
        start_phase(app, run_id, "discover_users")
        return f"started {run_id}"


def resume_stale(app: Flask) -> str | None:
    """The sweeper's check: a running run without a lease has lost its jobs."""
    with app.app_context():
        found = progress.current()
        if not found or found.get("state") != "running" or run_lock(app).holder():
            return None
        return trigger(app)


def resume(app: Flask, run_id: str) -> None:
    redis = _redis(app)
    phase = (redis.get(keys.run(run_id, "phase")) or b"").decode()  # type: ignore[union-attr]
    log.warning("full sync %s: resuming at %s", run_id, phase)
    if phase.startswith("discover_"):
        cursor = json.loads(redis.get(keys.run(run_id, "cursor")) or "{}")  # type: ignore[arg-type]
        if cursor.get("phase") == phase:
            page = int(cursor["page"])
            if not _waiting(redis, keys.job_id(run_id, phase, page)):
                _enqueue_discover(app, run_id, phase, cursor["url"], page)
        else:
            start_phase(app, run_id, phase)
        return
    left = chunks.pending(redis, run_id, phase)
    if not left and chunks.phase_finished(redis, run_id, phase):
        advance(app, run_id, phase)
    for n in left:
        if not _waiting(redis, keys.job_id(run_id, phase, n)):
            _enqueue_chunk(app, run_id, phase, n)


def _waiting(redis: Redis, job_id: str) -> bool:
    """Still queued (a backlog, not a death): enqueueing it again would run it twice. A job
    left "started" by a killed worker is enqueued again."""
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in (JobStatus.QUEUED, JobStatus.SCHEDULED,
                                            JobStatus.DEFERRED)


# --- phases ------------------------------------------------------------------------------

def start_phase(app: Flask, run_id: str, phase: str) -> None:
    redis = _redis(app)
    redis.set(keys.run(run_id, "phase"), phase, ex=discover.RUN_TTL)
    if phase.startswith("discover_"):
        kind = phase.removeprefix("discover_")[:-1]
        url = discover.first_url(sync_context(app), redis, kind)
        _enqueue_discover(app, run_id, phase, url, 0)
        return
    parts = list(chunks.split(chunks.objects_of(phase), chunks.chunk_size(app, phase)))
    chunks.store_chunks(redis, run_id, phase, parts)
    progress.set_total(redis, run_id, phase, sum(len(p) for p in parts))
    progress.publish(redis, run_id)
    if not parts:
        advance(app, run_id, phase)
        return
    for n in range(len(parts)):
        _enqueue_chunk(app, run_id, phase, n)


def advance(app: Flask, run_id: str, phase: str) -> None:
    following = PHASES.index(phase) + 1
    if following < len(PHASES):
        start_phase(app, run_id, PHASES[following])
    else:
        finish(app, run_id)


def finish(app: Flask, run_id: str, error: str | None = None) -> None:
    redis = _redis(app)
    pause = control.current_pause()
    if error is None and pause is not None:
        error = f"sync paused ({pause.get('reason')}): {pause.get('message', '')}"
    progress.end(redis, run_id, error)
    run_lock(app).release(run_id)
    for key in redis.scan_iter(match=keys.run(run_id, "*"), count=1000):
        redis.delete(key)
    log.info("full sync %s %s", run_id, "failed: " + error if error else "done")


def _enqueue_discover(app: Flask, run_id: str, phase: str, url: str, page: int) -> None:
    _redis(app).set(keys.run(run_id, "cursor"),
                    json.dumps({"phase": phase, "url": url, "page": page}), ex=discover.RUN_TTL)
    handle(app).queue.enqueue(DISCOVER_JOB, run_id, phase, url, page,
                              job_id=keys.job_id(run_id, phase, page), **_job_options())


def _enqueue_chunk(app: Flask, run_id: str, phase: str, n: int) -> None:
    handle(app).queue.enqueue(chunks.CHUNK_JOB, run_id, phase, n,
                              job_id=keys.job_id(run_id, phase, n), **_job_options())


def _job_options() -> dict[str, Any]:
    # A job that raises (the database or Redis gone for a moment) is tried again soon,
    # instead of the run waiting for its lease to expire and the sweeper to resume it.
    return {"job_timeout": chunks.CHUNK_TIMEOUT, "ttl": JOB_TTL, "result_ttl": 0,
            "failure_ttl": 7 * 24 * 3600, "retry": Retry(max=3, interval=[5, 30, 60])}


# --- job bodies --------------------------------------------------------------------------

def _holds(app: Flask, run_id: str) -> bool:
    """Is this run the lease holder (taking the lease back when it merely expired)?"""
    lock = run_lock(app)
    if lock.refresh(run_id):
        return True
    found = progress.current()
    return bool(found and found.get("run_id") == run_id and found.get("state") == "running"
                and lock.acquire(run_id))


def discover_page(app: Flask, run_id: str, phase: str, url: str, page: int) -> str:
    with app.app_context():
        if not _holds(app, run_id):
            return "not this run's turn"
        ctx, redis = sync_context(app), _redis(app)
        if _cursor(redis, run_id) != (phase, page):
            return "an older page, already read"  # a duplicate after a resume
        kind = phase.removeprefix("discover_")[:-1]
        try:  # a 410 or a lost mirror is no failure: read.next_url starts a full round
            read = discover.read_into_mirror(ctx, redis, kind, url)
        except Exception as exc:  # AuthFailed, a bad request, retries exhausted: run failed
            log.exception("full sync %s: discovery failed", run_id)
            finish(app, run_id, f"discovery of {kind}s failed: {exc}")
            return "failed"
        progress.add_done(redis, run_id, phase, read.count)
        progress.set_total(redis, run_id, phase,
                           int(redis.hget(keys.run(run_id, "done"), phase) or 0))  # type: ignore[arg-type]
        progress.publish(redis, run_id)
        if read.next_url:
            _enqueue_discover(app, run_id, phase, read.next_url, page + 1)
        elif chunks.phase_finished(redis, run_id, phase):  # once, even if run twice
            advance(app, run_id, phase)
        return f"page {page}: {read.count}" + (", a full round next" if read.restarted else "")


def _cursor(redis: Redis, run_id: str) -> tuple[str, int] | None:
    raw = redis.get(keys.run(run_id, "cursor"))
    if not raw:
        return None
    cursor = json.loads(raw)  # type: ignore[arg-type]
    return str(cursor["phase"]), int(cursor["page"])


def run_chunk(app: Flask, run_id: str, phase: str, n: int) -> str:
    with app.app_context():
        if not _holds(app, run_id):
            return "not this run's turn"
        redis = _redis(app)
        items = chunks.load_chunk(redis, run_id, phase, n)
        if items is None:
            return "gone"
        ctx = sync_context(app)
        since = _started(redis, run_id)
        lease = run_lock(app).lease_ms / 1000
        # A members step may take minutes (20 members per write): one group per window, so
        # no group's lock waits, held, for the others' steps and outlives the lease.
        size = 1 if phase == "members" else WINDOW
        for start in range(0, len(items), size):
            window = items[start:start + size]
            for kind in dict.fromkeys(k for k, _ in window):  # one step per kind
                run_window(ctx, kind, [i for k, i in window if k == kind],
                           STEPS[(phase, kind)], discover.DiscoveredView(redis, kind), since, lease)
            if not _holds(app, run_id):  # refreshed once per window
                return "lease lost"
        first, last = chunks.complete(redis, run_id, phase, n)
        if first:
            progress.add_done(redis, run_id, phase, len(items))
            progress.publish(redis, run_id)
        if last:
            advance(app, run_id, phase)
        return f"{phase} chunk {n}: {len(items)}"


def _started(redis: Redis, run_id: str) -> datetime | None:
    raw = redis.get(keys.run(run_id, "started"))
    return datetime.fromisoformat(raw.decode()) if isinstance(raw, bytes) else None
