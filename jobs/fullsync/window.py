"""A chunk's objects in windows of 20, their first creates sent as one JSON $batch.

Why: a tenant's first full sync is nearly all creates, and at the write quota each write may
use only 1/rate s of the host. One HTTP round trip, one pacer call and one commit per object
cost more than that on a small host, so the run fell behind the quota. JSON batching
(https://learn.microsoft.com/en-us/graph/json-batching) carries up to 20 requests in one
round trip; each item still counts against the quota (the boundary reserves one pacer token
per item), so the writes and their pace are the same, only the overhead goes.

Everything that is not a plain first create runs alone, as a direct sync would. A create
Graph refuses inside the batch is handled as that object's own POST would have been:
ObjectConflict or AmbiguousWrite → the object runs alone again, and since its create flag was
committed before the batch, it looks for the object before creating (never a duplicate);
any other error → its action in the engine's one table (`engine.ACTIONS`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime
from typing import Any

from sqlalchemy import select

from jobs.fullsync.discover import DiscoveredView
from jobs.fullsync.objects import Deferred, Step, attempt
from jobs.fullsync.reconcile import Window
from jobs.graph.batch import MAX_BATCH, BatchResponse
from jobs.graph.errors import AmbiguousWrite, ObjectConflict
from jobs.graph.writer import WriteResult
from jobs.queue import enqueue_sync
from jobs.sync import engine, record
from jobs.sync.common import remember_write
from jobs.sync.context import SyncContext
from jobs.sync.record import Outcome
from mappings import payload_hash
from scim import store
from scim.schemas import GROUP, USER
from webapp.extensions import db
from webapp.models import ScimGroup, ScimUser, SyncState

log = logging.getLogger(__name__)
WINDOW = MAX_BATCH  # objects per window: one $batch holds at most 20 requests


def run_window(ctx: SyncContext, kind: str, object_ids: Sequence[str], step: Step,
               view: DiscoveredView, since: datetime | None, lease: float) -> None:
    """Each object's step under its lock, the deferred creates then sent together; every
    lock of the window is held until its object's outcome is committed."""
    with ExitStack() as held:
        locked = [i for i in object_ids if _lock(held, kind, i, lease)]
        if not locked:
            return
        uptos = record.watermarks(kind, locked)  # before the rows are read (engine.run)
        states = record.links_for_update(kind, locked)
        window: Window | None = Window(_documents(kind, locked))
        try:
            engine.check_pause(ctx)
        except Exception:  # paused: each object records it as its own attempt would
            window = None
        waiting = [result for i in locked
                   if isinstance(result := attempt(ctx, kind, i, step, view, since, window,
                                                   upto=uptos[i], state=states[i]), Deferred)]
        if waiting:
            _create_together(ctx, waiting, step, view, since)
        db.session.rollback()  # ends the read-only transaction of objects left unchanged


def _lock(held: ExitStack, kind: str, object_id: str, lease: float) -> bool:
    # held only as long as the run's lease: a full-sync worker killed inside a window must
    # not keep the resumed run (or direct syncs) off its objects for minutes
    if held.enter_context(engine.object_lock(kind, object_id, timeout=lease)):
        return True
    enqueue_sync(kind, object_id)  # a direct sync holds it: that sync brings it up to date
    return False


def _documents(kind: str, object_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The SCIM documents of the window, with their groups or members, in two queries
    (the rows stay in the session, so the steps' look-ups cost nothing)."""
    rt, model = (USER, ScimUser) if kind == "user" else (GROUP, ScimGroup)
    model_: Any = model
    rows = db.session.scalars(select(model_).where(model_.id.in_(object_ids))).all()
    related = store.related_of(rt, [row.id for row in rows])
    return {row.id: store.document(rt, row, related.get(row.id, [])) for row in rows}


def _create_together(ctx: SyncContext, waiting: list[Deferred], step: Step,
                     view: DiscoveredView, since: datetime | None) -> None:
    kind, client = waiting[0].kind, waiting[0].later.client
    states = _flag_attempted(kind, waiting)
    try:
        answers = client.create_many([d.later.body for d in waiting])
    except Exception:  # the $batch itself failed (an ambiguous POST, auth): each alone
        log.warning("a batch of %d %s creates failed; sending them one by one",
                    len(waiting), kind, exc_info=True)
        alone = waiting
    else:
        alone = _record(ctx, waiting, answers, states)
    for deferred in alone:
        attempt(ctx, deferred.kind, deferred.object_id, step, view, since, upto=deferred.upto)


def _flag_attempted(kind: str, waiting: list[Deferred]) -> dict[str, SyncState]:
    """Committed before the POST (as push() does): a create whose answer is lost is looked
    up by the next attempt, never sent twice."""
    states = record.links_for_update(kind, [d.object_id for d in waiting])
    for state in states.values():
        state.create_attempted = True
    db.session.commit()
    return states


def _record(ctx: SyncContext, waiting: list[Deferred], answers: list[BatchResponse],
            states: dict[str, SyncState]) -> list[Deferred]:
    """Record every final answer in one commit; return the objects to run alone."""
    alone, settled = [], {}
    for deferred, answer in zip(waiting, answers, strict=True):
        state = states[deferred.object_id]
        if answer.error is None and isinstance(answer.body, dict) and answer.body.get("id"):
            body = deferred.later.body
            remember_write(state, body, payload_hash(body),
                           WriteResult("created", str(answer.body["id"]), dict(answer.body)))
            outcome, settle = Outcome("synced", "created"), True
        elif answer.error is None or isinstance(answer.error, ObjectConflict | AmbiguousWrite):
            alone.append(deferred)  # no id in a success: look it up, as an ambiguous create
            continue
        else:
            handled = engine.handle(answer.error, ctx, deferred.kind, deferred.object_id, None)
            outcome, settle = handled.outcome, handled.settle
        record.conclude(state, deferred.kind, deferred.object_id, outcome, deferred.started,
                        None)
        if settle:
            settled[deferred.object_id] = deferred.upto
    record.settle_outbox_many(waiting[0].kind, settled)
    db.session.commit()
    return alone
