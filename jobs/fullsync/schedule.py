"""`scim2entra scheduler`: the periodic full sync and the outbox sweeper, on rq-scheduler.

Why rq-scheduler and not RQ's own `rq cron` (stack-facts.md, "Scheduling"): rq-scheduler
keeps the schedule in Redis and takes a lock before each enqueue round, so any number of
scheduler processes (one per machine, restarts) enqueue each tick once; `rq cron` is beta,
keeps its state in memory and has no lock across instances, so two schedulers would
enqueue twice. rq-scheduler's known costs are handled here: fixed job ids (re-installed at
every start instead of added again), keys under the queue's name, and the FutureWarning
`crontab` raises at each cron computation silenced. Two full syncs could not overlap anyway
(the run lease), and the sweeper's jobs coalesce per object.

The cron expression is read in the machine's local time (UTC in the shipped containers).
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from rq import Queue
from rq_scheduler import Scheduler
from rq_scheduler.utils import get_next_scheduled_time

from jobs.fullsync import progress
from jobs.queue import JOB_TTL, handle

log = logging.getLogger(__name__)
SWEEP_ID = "outbox-sweep"  # job ids are "<queue name>-<this>": fixed per deployment
CRON_ID = "full-sync-cron"
FULL_SYNC_JOB = "jobs.tasks.full_sync"
FULL_SYNC_JOB_ID = "full-sync"  # the dashboard and `sync full` enqueue under this id
SWEEP_JOB = "jobs.tasks.sweep_outbox"
SWEEP_EVERY = 30  # seconds between two sweeps
SWEEP_AGE = 60.0  # seconds an outbox row may wait for its own job before it is swept
TICK = 5  # seconds between two looks for due jobs

# crontab warns about its own future default at every next-time computation
warnings.filterwarnings("ignore", category=FutureWarning, module="rq_scheduler")


@contextmanager
def quiet_crontab() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, module="rq_scheduler")
        yield


class QueueScheduler(Scheduler):  # type: ignore[misc]
    """rq-scheduler with its keys under the queue's name (its defaults are global)."""

    def __init__(self, queue: Queue, interval: int = TICK) -> None:
        super().__init__(queue=queue, connection=queue.connection, interval=interval)
        base = f"rq:scheduler:{queue.name}"
        self.scheduler_lock_key = f"{base}:lock"
        self.scheduled_jobs_key = f"{base}:scheduled_jobs"
        self.redis_scheduler_namespace_prefix = f"{base}:instance:"


class CronError(ValueError):
    pass


def check_cron(expression: str) -> None:
    try:
        with quiet_crontab():
            get_next_scheduled_time(expression)
    except Exception as exc:  # crontab raises ValueError and others on bad input
        raise CronError(f"SCIM2ENTRA_FULL_SYNC_CRON {expression!r} is not a cron expression "
                        f"(minute hour day month weekday): {exc}") from exc


def make_scheduler(app: Flask, interval: int = TICK) -> QueueScheduler:
    return QueueScheduler(handle(app).queue, interval)


def install(app: Flask, scheduler: QueueScheduler) -> list[str]:
    """(Re)register the periodic jobs under fixed ids; returns their ids."""
    cron = (app.config["SCIM2ENTRA"].get("FULL_SYNC_CRON") or "").strip()
    if cron:
        check_cron(cron)
    sweep_id, cron_id = periodic_ids(scheduler)
    for job_id in (sweep_id, cron_id):
        scheduler.cancel(job_id)
    scheduler.schedule(scheduled_time=datetime.now(UTC).replace(tzinfo=None), func=SWEEP_JOB,
                       kwargs={"older_than": SWEEP_AGE}, interval=SWEEP_EVERY, id=sweep_id,
                       timeout=600)
    if not cron:
        return [sweep_id]
    with quiet_crontab():
        scheduler.cron(cron, func=FULL_SYNC_JOB, id=cron_id, timeout=600)
    return [sweep_id, cron_id]


def periodic_ids(scheduler: QueueScheduler) -> tuple[str, str]:
    return f"{scheduler.queue_name}-{SWEEP_ID}", f"{scheduler.queue_name}-{CRON_ID}"


def enqueue_full_sync(app: Flask) -> None:
    """Ask a worker for a full sync (it starts one, resumes a dead one, or sees it running)."""
    options: dict[str, Any] = {"ttl": JOB_TTL, "result_ttl": 0, "failure_ttl": 24 * 3600}
    handle(app).queue.enqueue(FULL_SYNC_JOB, job_id=FULL_SYNC_JOB_ID, **options)


def first_start(app: Flask) -> bool:
    """A full sync now when none has ever run (the first start of a deployment)."""
    with app.app_context():
        if progress.current() is not None or progress.last() is not None:
            return False
    enqueue_full_sync(app)
    log.info("first start: full sync enqueued")
    return True


def run_scheduler(app: Flask) -> None:
    """The `scim2entra scheduler` process: install, first start, then rq-scheduler's loop."""
    scheduler = make_scheduler(app)
    install(app, scheduler)
    first_start(app)
    scheduler.run()


def tick(scheduler: QueueScheduler) -> list[Any]:
    """One round of the loop (the embedded queue's thread, tests): enqueue what is due."""
    if not scheduler.acquire_lock():
        return []
    try:
        with quiet_crontab():
            # rq-scheduler's enqueue_jobs() returns its consumed generator: list them first
            due = list(scheduler.get_jobs_to_queue())
            for job in due:
                scheduler.enqueue_job(job)
            return due
    finally:
        scheduler.remove_lock()


def start_thread(app: Flask) -> threading.Thread:
    """The scheduler as a daemon thread of `scim2entra run` (rq-scheduler's own loop
    installs signal handlers, which only the main thread may)."""
    scheduler = make_scheduler(app)
    install(app, scheduler)
    first_start(app)

    def loop() -> None:
        while True:
            try:
                tick(scheduler)
            except Exception:  # keep ticking: one broken round must not stop the schedule
                log.exception("scheduler tick failed")
            time.sleep(TICK)

    thread = threading.Thread(target=loop, name="scim2entra-cron", daemon=True)
    thread.start()
    return thread
