"""Run one object's step of a full sync the way the direct sync runs it.

Why not call `jobs.sync.engine.run` per object: its write() looks an unlinked object up with
one `$filter` read per match key and skips linked objects whose payload hash is unchanged,
so it would neither keep to the run's read budget nor see edits made in Entra. The steps
here use the discovered objects instead, and share everything else with the engine: the
per-object Redis lock (the engine's key, so a direct sync and the full sync never write one
object at once), the pause check, the ACTIONS table for every exception, the state and
history records, the outbox settlement and the dry-run plan.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from jobs.fullsync.discover import DiscoveredView
from jobs.fullsync.members import NotReady
from jobs.queue import enqueue_sync
from jobs.sync import engine, record
from jobs.sync.context import SyncContext
from jobs.sync.record import Outcome
from webapp.extensions import db
from webapp.models import SyncState

Step = Callable[[SyncContext, str, SyncState, DiscoveredView, datetime | None], Outcome]


def run_one(ctx: SyncContext, kind: str, object_id: str, step: Step, view: DiscoveredView,
            since: datetime | None, lease: float) -> str:
    """Returns the object's status after the step ("locked": left to a direct sync)."""
    # The engine's lock, held only as long as the run's lease: a full-sync worker killed inside
    # a step must not keep the resumed run (or direct syncs) off the object for minutes.
    with engine.object_lock(kind, object_id, timeout=lease) as locked:
        if not locked:  # a direct sync holds it for long: it syncs the current state anyway
            enqueue_sync(kind, object_id)
            return "locked"
        upto = record.watermark(kind, object_id)
        started = time.monotonic()
        try:
            engine.check_pause(ctx)
            state = record.link_for_update(kind, object_id)
            outcome = engine.planned(ctx, kind, object_id,
                                     lambda: step(ctx, object_id, state, view, since))
            if _nothing_to_record(state, outcome, upto):
                db.session.rollback()
                return outcome.status
            settle = True
        except NotReady:
            db.session.rollback()
            return "skipped"
        except Exception as exc:  # each class goes to its one action (engine.ACTIONS)
            db.session.rollback()
            handled = engine.handle(exc, ctx, kind, object_id, None)
            outcome, settle = handled.outcome, handled.settle
            state = record.link_for_update(kind, object_id)
        record.finish(state, kind, object_id, outcome, started)
        if settle:
            record.settle_outbox(kind, object_id, upto)
        db.session.commit()
        return outcome.status


def _nothing_to_record(state: SyncState, outcome: Outcome, upto: int) -> bool:
    """An object in sync that stays in sync: no state change, no history row, no commit.
    Most objects of a periodic run are like this, so a 100k-user run writes only what
    changed to the store instead of 100k rows every four hours."""
    session = db.session
    return (outcome.action == "unchanged" and state.status == outcome.status == "synced"
            and upto == 0 and not (session.new or session.dirty or session.deleted))
