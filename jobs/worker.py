"""RQ workers for scim2entra.

Jobs run in the worker process itself (RQ's SimpleWorker), not in a forked horse: the Graph
client, its token cache and its event loop then live as long as the worker, instead of being
rebuilt (and msgraph's lazy imports re-paid, 3.2 s) for every job (stack-facts.md).
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask
from rq import SimpleWorker
from rq.scheduler import RQScheduler
from rq.timeouts import TimerDeathPenalty

from jobs import appctx
from jobs.dispatcher import dispatcher_of
from jobs.queue import handle

log = logging.getLogger(__name__)
# An idle RQ worker sends a heartbeat every worker_ttl - 15 s (its blocking dequeue timeout):
# 30 s here, inside /readyz's 60 s window (SCIM2ENTRA_WORKER_HEARTBEAT_MAX_AGE).
WORKER_TTL = 45


class SyncWorker(SimpleWorker):
    """The worker of `scim2entra worker`."""


class ThreadWorker(SyncWorker):
    """A worker that can run in a thread of the web process (embedded mode).

    Signals only reach the main thread, so timeouts use a timer and no handlers are installed
    (stack-facts.md, "Embedded queue without a Redis server").
    """

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        return None


def make_worker(app: Flask, worker_class: type[SyncWorker] = SyncWorker) -> SyncWorker:
    appctx.bind(app)
    queue = handle(app).queue
    return worker_class([queue], connection=queue.connection, worker_ttl=WORKER_TTL)


def run_worker(app: Flask, *, burst: bool = False, max_wait: float = 60.0) -> bool:
    """`scim2entra worker`: with RQ's scheduler, so delayed retries fall due."""
    if burst:
        return drain(app, max_wait=max_wait) > 0
    worker = make_worker(app)
    warm_up(app)
    return bool(worker.work(with_scheduler=True, logging_level="WARNING"))


def warm_up(app: Flask) -> None:
    """Build the Graph client and get its token before the first job, so a worker pays
    msgraph's imports and the token request at start, not inside the first sync after a
    deploy (the first full-sync page waited 0.5 s for them). Failing here is harmless: the
    first job meets the same error and records it where operators look."""
    from jobs.sync.context import sync_context

    try:
        with app.app_context():
            sync_context(app).graph.warm_token()
    except Exception as exc:  # e.g. wrong credentials: the jobs report it
        log.warning("worker warm-up: %s", exc)


def drain(app: Flask, *, max_wait: float = 60.0) -> int:
    """Run jobs until the queue is empty and no delayed job (a retry) falls due within
    `max_wait` seconds; returns how many rounds ran jobs. `worker --burst` and tests."""
    dispatcher = dispatcher_of(app)
    if dispatcher is not None:
        dispatcher.flush()  # changes this process committed are queued before we look
    queue = handle(app).queue
    scheduler = RQScheduler([queue], connection=queue.connection)
    deadline = time.monotonic() + max_wait
    rounds = 0
    try:
        while True:
            rounds += bool(make_worker(app).work(burst=True, logging_level="WARNING"))
            waiting = queue.scheduled_job_registry.get_job_ids()
            if not waiting or time.monotonic() > deadline:
                return rounds
            time.sleep(0.1)
            scheduler.acquire_locks()
            scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()


def start_embedded(app: Flask) -> list[threading.Thread]:
    """Worker and scheduler ticker as daemon threads beside the web server (`scim2entra run`)."""
    worker = make_worker(app, ThreadWorker)
    threads = [
        threading.Thread(target=worker.work, kwargs={"logging_level": "WARNING"},
                         name="scim2entra-worker", daemon=True),
        threading.Thread(target=_tick_scheduler, args=(app,), name="scim2entra-scheduler",
                         daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads


def _tick_scheduler(app: Flask, interval: float = 1.0) -> None:
    """Move due delayed jobs (retries) to their queue; RQ's own scheduler would fork away
    from the in-memory server."""
    queue = handle(app).queue
    scheduler = RQScheduler([queue], connection=queue.connection)
    while True:
        try:
            scheduler.acquire_locks()
            scheduler.enqueue_scheduled_jobs()
        except Exception:  # keep ticking; a broken tick must not stop the embedded queue
            log.exception("embedded scheduler tick failed")
        time.sleep(interval)
