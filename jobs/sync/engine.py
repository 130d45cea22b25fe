"""Run one object's sync: lock, read the current state, sync, record, settle the outbox.

Every outcome other than a payload is an exception, and each exception class has exactly
one action, in the ACTIONS table below (the Graph errors come classified by HTTP status and
Graph error code from jobs/graph/errors.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from redis.exceptions import LockError

from jobs import queue
from jobs.graph import AmbiguousWrite, AuthFailed, GraphSyncError, PlanEntry, Transient
from jobs.sync import control, record
from jobs.sync.context import SyncContext, sync_context
from jobs.sync.groups import sync_group
from jobs.sync.record import Outcome
from jobs.sync.retry import schedule_retry
from jobs.sync.users import sync_user
from mappings import MappingConfigError, ObjectError, SkipObject
from webapp.extensions import db
from webapp.models import PlanEntry as PlanRow
from webapp.models import SyncState

log = logging.getLogger(__name__)
SYNCERS: dict[str, Callable[[SyncContext, str, SyncState, str | None], Outcome]] = {
    "user": sync_user,
    "group": sync_group,
}
MAX_ROUNDS = 5  # changes arriving during a run are synced by the same job, this many times
LOCK_TIMEOUT = 300  # seconds: longer than any one sync; a dead worker's lock expires


class Paused(Exception):
    """The sync is paused (a mapping error) or stopped (refused credentials)."""


@dataclass(frozen=True)
class Handled:
    outcome: Outcome
    settle: bool  # True: the outbox rows are done; False: they stay open for a later run


def run(app: Flask, kind: str, object_id: str, carried_entra_id: str | None = None) -> str:
    """The RQ job body; returns the final status (for logs and tests)."""
    with app.app_context():
        context = sync_context(app)
        with object_lock(kind, object_id) as locked:
            if not locked:
                schedule_retry(kind, object_id, carried_entra_id, delay=5.0)
                return "locked"
            status = "pending"
            for _ in range(MAX_ROUNDS):
                upto = record.watermark(kind, object_id)
                status = attempt(context, kind, object_id, carried_entra_id, upto)
                if status in ("paused", "retrying") or not record.newer_work(
                        kind, object_id, upto):
                    break
            return status


@contextmanager
def object_lock(kind: str, object_id: str, timeout: float = LOCK_TIMEOUT) -> Iterator[bool]:
    """No object is synced by two workers at once (a retry job and a fresh change job, or a
    direct sync and the full sync: one key for all). `timeout` bounds how long a dead
    worker's lock keeps the object from the others."""
    redis = queue.handle().redis
    lock = redis.lock(f"scim2entra:lock:{kind}:{object_id}", timeout=max(timeout, 1.0),
                      blocking_timeout=30)
    acquired = bool(lock.acquire())
    try:
        yield acquired
    finally:
        if acquired:
            try:
                lock.release()
            except LockError:  # expired meanwhile: nothing to release
                log.warning("sync lock of %s %s had expired", kind, object_id)


def attempt(ctx: SyncContext, kind: str, object_id: str, carried: str | None,
            upto: int) -> str:
    started = time.monotonic()
    try:
        check_pause(ctx)
        state = record.link_for_update(kind, object_id)
        handled = Handled(_sync(ctx, kind, object_id, state, carried), settle=True)
    except Exception as exc:  # each class goes to its one action
        db.session.rollback()
        handled = handle(exc, ctx, kind, object_id, carried)
        state = record.link_for_update(kind, object_id)
    record.conclude(state, kind, object_id, handled.outcome, started,
                    upto if handled.settle else None)
    db.session.commit()
    return handled.outcome.status


def _sync(ctx: SyncContext, kind: str, object_id: str, state: SyncState,
          carried: str | None) -> Outcome:
    return planned(ctx, kind, object_id, lambda: SYNCERS[kind](ctx, object_id, state, carried))


def planned(ctx: SyncContext, kind: str, object_id: str, body: Callable[[], Outcome]
            ) -> Outcome:
    """Run `body`; in dry-run, the writes it would have sent are stored as plan entries."""
    if not ctx.dry_run:
        return body()
    plans: list[PlanEntry] = []
    with ctx.graph.planning(plans):
        outcome = body()
    for entry in plans:
        db.session.add(PlanRow(kind=kind, object_id=object_id, method=entry.method,
                               path=entry.path, body=entry.body))
    return outcome


def check_pause(ctx: SyncContext) -> None:
    info = control.current_pause()
    if info is None:
        return
    ctx.load_mappings() if info.get("reason") == "mapping" else None
    if control.still_paused(info, ctx.fingerprint):
        raise Paused(info.get("message") or info.get("reason", "paused"))
    control.resume()
    from jobs.sweeper import sweep

    sweep(older_than=0)  # everything held back while paused goes out again


# --- the one table: exception class → action ---------------------------------------------

def _skipped(exc: Exception, *_: Any) -> Handled:
    return Handled(Outcome("skipped", None, getattr(exc, "reason", None) or str(exc)), True)


def _object_error(exc: Exception, *_: Any) -> Handled:
    return Handled(Outcome("error", None, getattr(exc, "message", None) or str(exc)), True)


def _pause_for_mapping(exc: Exception, ctx: SyncContext, *_: Any) -> Handled:
    assert isinstance(exc, MappingConfigError)
    control.pause("mapping", mapping=exc.mapping, line=exc.line, message=str(exc),
                  fingerprint=ctx.fingerprint)
    return Handled(Outcome("pending", None, f"sync paused: mapping error: {exc}"), False)


def _paused(exc: Exception, *_: Any) -> Handled:
    return Handled(Outcome("pending", None, f"sync paused: {exc}"), False)


def _stop_for_auth(exc: Exception, *_: Any) -> Handled:
    control.pause("auth", message=str(exc))
    return Handled(Outcome("pending", None, f"sync stopped: Graph refused us: {exc}"), False)


def _retry(exc: Exception, ctx: SyncContext, kind: str, object_id: str,
           carried: str | None) -> Handled:
    assert isinstance(exc, GraphSyncError)
    state = record.link_for_update(kind, object_id)
    delay = schedule_retry(kind, object_id, carried, attempts=state.attempts,
                           retry_after=exc.retry_after)
    state.attempts += 1
    if delay is None:
        return Handled(Outcome("error", None, f"gave up after {state.attempts} attempts: "
                                              f"{exc}"), True)
    return Handled(Outcome("retrying", None, f"retrying in {delay:.1f}s: {exc}"), False)


def _graph_error(exc: Exception, *_: Any) -> Handled:
    return Handled(Outcome("error", None, str(exc)), True)


def _bug(exc: Exception, ctx: SyncContext, kind: str, object_id: str, *_: Any) -> Handled:
    log.exception("sync of %s %s failed unexpectedly", kind, object_id)
    return Handled(Outcome("error", None, f"internal error: {type(exc).__name__}: {exc}"),
                   False)


ACTIONS: tuple[tuple[type[BaseException], Callable[..., Handled], str], ...] = (
    (SkipObject, _skipped, "mark skipped with the mapping's reason"),
    (ObjectError, _object_error, "per-object error; the others go on"),
    (MappingConfigError, _pause_for_mapping, "pause every sync until the mapping changes"),
    (Paused, _paused, "leave pending; the outbox keeps the work"),
    (AuthFailed, _stop_for_auth, "stop the sync for 5 minutes, shown"),
    (Transient, _retry, "retry with backoff honouring Retry-After, bounded"),
    (AmbiguousWrite, _retry, "retry; the next run looks the object up before creating"),
    (GraphSyncError, _graph_error, "per-object error (bad request, conflict, …)"),
    (Exception, _bug, "per-object error, logged with its traceback; retried by the sweeper"),
)


def handle(exc: Exception, ctx: SyncContext, kind: str, object_id: str,
           carried: str | None) -> Handled:
    for error_class, action, _ in ACTIONS:
        if isinstance(exc, error_class):
            return action(exc, ctx, kind, object_id, carried)
    raise exc  # unreachable: Exception is the last row
