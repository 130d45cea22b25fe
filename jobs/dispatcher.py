"""Enqueue after commit from a thread of the web process, not from the request.

A SCIM write commits its outbox row together with the resource (jobs/outbox.py), so telling
the queue afterwards is only a wake-up call. Its Redis round trips (about a fifth of a
POST /Users under load) need not hold a gunicorn worker: each process runs one daemon thread
that takes the committed changes in order and enqueues them (jobs.outbox.dispatch), those
of a burst together: when busy it lingers LINGER seconds, then sends all it has in one
Redis round trip (jobs.queue.enqueue_syncs).

Nothing acknowledged depends on this thread. A change that never reaches Redis (Redis down,
the backlog full, the process killed) keeps its open outbox row, and the sweeper
(jobs/sweeper.py) enqueues it again; at exit the thread gets a moment to empty its backlog.

Under app.testing every submit waits until the thread has enqueued it, so a test finds the
job queued when the response arrives; `flush()` is that wait for anyone else (drain()).
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
import weakref
from collections.abc import Callable

from flask import Flask, current_app

from jobs.outbox import Change, dispatch

log = logging.getLogger(__name__)

EXTENSION = "scim2entra.dispatcher"
BACKLOG_MAX = 10_000  # changes; past this (Redis down for long) the sweeper has them
EXIT_WAIT = 2.0  # seconds the backlog may take at interpreter exit
IDLE_EXIT = 5.0  # seconds without work before the thread ends
LINGER = 0.05  # seconds the thread waits for more writes when busy (tests: none)
BUSY_RATE = 50  # writes per second and process from which the thread lingers
BATCH_MAX = 200  # writes enqueued in one Redis round trip


class Dispatcher:
    """One per app and process: a backlog of committed changes and the thread enqueuing them.

    The thread ends after IDLE_EXIT seconds without work and the next submit starts another,
    so an app that is done with (tests build hundreds) keeps no thread and no connection.
    """

    def __init__(self, app: Flask, *, wait: bool = False) -> None:
        self.app = app
        self.wait = wait
        self._lock = threading.Lock()
        self._running_in: int | None = None  # the pid whose thread is running, if any
        self._backlog: queue.Queue[list[Change]] = queue.Queue(BACKLOG_MAX)
        self._dropping = False
        self._rate = _Rate()
        _LIVE.add(self)

    def submit(self, changes: list[Change]) -> None:
        """Hand over the changes of one committed write (never raises for the queue's sake)."""
        if not changes:
            return
        with self._lock:  # the thread checks for work under it before ending
            self._start_thread()
            try:
                self._backlog.put_nowait(changes)
                self._dropping = False
            except queue.Full:
                if not self._dropping:
                    log.warning("enqueue backlog full; the outbox sweeper enqueues the rest")
                self._dropping = True
        if self.wait:
            self.flush()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every change submitted so far was handed to the queue; False on timeout."""
        backlog = self._backlog
        with backlog.all_tasks_done:
            return backlog.all_tasks_done.wait_for(lambda: backlog.unfinished_tasks == 0,
                                                   timeout)

    def _start_thread(self) -> None:
        if self._running_in == os.getpid():
            return
        if self._running_in is not None:
            # A forked child (gunicorn --preload) has the parent's backlog but not its thread.
            self._backlog = queue.Queue(BACKLOG_MAX)
        threading.Thread(target=self._run, args=(self._backlog,),
                         name="scim2entra-dispatcher", daemon=True).start()
        self._running_in = os.getpid()

    def _run(self, backlog: queue.Queue[list[Change]]) -> None:
        while True:
            try:
                changes = backlog.get(timeout=IDLE_EXIT)
            except queue.Empty:
                with self._lock:
                    if backlog.empty():
                        if self._backlog is backlog:  # not replaced after a fork
                            self._running_in = None
                        return
                continue
            batch = [changes, *self._gather(backlog)]
            try:
                dispatch([change for changes in batch for change in changes], self.app)
            except Exception:  # a bug, not Redis (enqueue_syncs handles that): keep serving
                log.exception("enqueue after commit failed; the outbox sweeper will retry")
            finally:
                for _ in batch:
                    backlog.task_done()

    def _gather(self, backlog: queue.Queue[list[Change]]) -> list[list[Change]]:
        """The writes committed meanwhile: one Redis round trip for them all.

        While this process takes BUSY_RATE writes a second or more (a provisioning cycle),
        the thread lingers LINGER seconds first, so a batch holds several: an enqueue costs
        0.55 ms of CPU alone and 0.15 ms in a batch of 16. Below that rate a write goes at
        once, its sync not delayed. Sleeping rather than waiting on the backlog keeps a
        burst from waking the thread once per write (each wake-up takes the GIL).
        """
        if self._rate.busy() and not self.wait:
            time.sleep(LINGER)
        more: list[list[Change]] = []
        while len(more) < BATCH_MAX:
            try:
                more.append(backlog.get_nowait())
            except queue.Empty:
                break
        self._rate.count(1 + len(more))
        return more


class _Rate:
    """Writes per second, over the last whole second: is this process busy?"""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self._counted = 0
        self._busy = False

    def count(self, writes: int) -> None:
        self._counted += writes

    def busy(self) -> bool:
        now = self._clock()
        if now - self._started >= 1.0:
            self._busy = self._counted / (now - self._started) >= BUSY_RATE
            self._started, self._counted = now, 0
        return self._busy


_LIVE: weakref.WeakSet[Dispatcher] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for dispatcher in list(_LIVE):
        dispatcher.flush(EXIT_WAIT)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Dispatcher(app, wait=app.testing)


def dispatcher_of(app: Flask | None = None) -> Dispatcher | None:
    found: Dispatcher | None = (app or current_app).extensions.get(EXTENSION)
    return found


def dispatch_soon(changes: list[Change]) -> None:
    """Enqueue committed changes from the dispatcher thread (at once without one)."""
    dispatcher = dispatcher_of()
    if dispatcher is None:
        dispatch(changes)
    else:
        dispatcher.submit(changes)
