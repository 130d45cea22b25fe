"""Run one object's step of a full sync the way the direct sync runs it.

Why not call `jobs.sync.engine.run` per object: its write() looks an unlinked object up with
one `$filter` read per match key and skips linked objects whose payload hash is unchanged,
so it would neither keep to the run's read budget nor see edits made in Entra. The steps
here use the discovered objects instead, and share everything else with the engine: the
per-object Redis lock (the engine's key, taken in `window.py`, so a direct sync and the full
sync never write one object at once), the pause check, the ACTIONS table for every
exception, the state and history records, the outbox settlement and the dry-run plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from jobs.fullsync.discover import DiscoveredView
from jobs.fullsync.members import NotReady
from jobs.fullsync.reconcile import CreateLater, Window
from jobs.sync import engine, record
from jobs.sync.context import SyncContext
from jobs.sync.record import Outcome
from webapp.extensions import db
from webapp.models import SyncState

Step = Callable[[SyncContext, str, SyncState, DiscoveredView, datetime | None, Window | None],
               Outcome]


@dataclass(frozen=True)
class Deferred:
    """An object whose first create waits for its window's $batch (`window.py`)."""

    kind: str
    object_id: str
    later: CreateLater
    upto: int  # the outbox watermark when its attempt began: the rows the create settles
    started: float


def attempt(ctx: SyncContext, kind: str, object_id: str, step: Step, view: DiscoveredView,
            since: datetime | None, window: Window | None = None, *,
            upto: int | None = None, state: SyncState | None = None) -> str | Deferred:
    """One object's step under its lock (the caller's), recorded and committed; in a
    `window`, a plain first create comes back as `Deferred` instead of being sent.
    `upto` and `state`: the watermark and link, when the caller read them for many."""
    upto = record.watermark(kind, object_id) if upto is None else upto
    started = time.monotonic()
    try:
        if window is None:  # a window checks the pause once for all its objects
            engine.check_pause(ctx)
        link = state if state is not None else record.link_for_update(kind, object_id)
        outcome = engine.planned(ctx, kind, object_id,
                                 lambda: step(ctx, object_id, link, view, since, window))
        if _nothing_to_record(link, outcome, upto):
            if window is None:  # a window ends its read-only transaction once, at its end,
                db.session.rollback()  # so its objects' rows are not expired and read again
            return outcome.status
        settle = True
    except CreateLater as later:
        return Deferred(kind, object_id, later, upto, started)
    except NotReady:
        db.session.rollback()
        return "skipped"
    except Exception as exc:  # each class goes to its one action (engine.ACTIONS)
        db.session.rollback()
        handled = engine.handle(exc, ctx, kind, object_id, None)
        outcome, settle = handled.outcome, handled.settle
        link = record.link_for_update(kind, object_id)
    record.conclude(link, kind, object_id, outcome, started, upto if settle else None)
    db.session.commit()
    return outcome.status


def _nothing_to_record(state: SyncState, outcome: Outcome, upto: int) -> bool:
    """An object in sync that stays in sync: no state change, no history row, no commit.
    Most objects of a periodic run are like this, so a 100k-user run writes only what
    changed to the store instead of 100k rows every four hours."""
    session = db.session
    return (outcome.action == "unchanged" and state.status == outcome.status == "synced"
            and upto == 0 and not (session.new or session.dirty or session.deleted))
