"""Per-object sync state after every attempt, its history, and the outbox rows it settles."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update

from jobs.sync import telemetry
from webapp.extensions import db
from webapp.models import OutboxEntry, SyncAttempt, SyncState, utcnow


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended: the state it leaves and what the history says."""

    status: str  # synced / skipped / error / pending / planned / deleted
    action: str | None = None  # created / updated / linked / recreated / unchanged / …
    message: str | None = None


def link_of(kind: str, object_id: str) -> SyncState | None:
    return db.session.scalar(
        select(SyncState).where(SyncState.kind == kind, SyncState.object_id == object_id))


def link_for_update(kind: str, object_id: str) -> SyncState:
    """The link row, created pending when absent (a race with another creator is retried)."""
    state = link_of(kind, object_id)
    if state is None:
        state = SyncState(kind=kind, object_id=object_id, status="pending", attempts=0)
        db.session.add(state)
        db.session.flush()
    return state


def watermark(kind: str, object_id: str) -> int:
    """The newest outbox row for the object now; rows up to it are what this run syncs."""
    return watermarks(kind, [object_id])[object_id]


def links_for_update(kind: str, object_ids: list[str]) -> dict[str, SyncState]:
    """`link_for_update` for many objects in one query; the rows it had to create are
    committed, so that a later rollback in the caller cannot take them away."""
    found = {row.object_id: row for row in db.session.scalars(select(SyncState).where(
        SyncState.kind == kind, SyncState.object_id.in_(object_ids)))}
    missing = [SyncState(kind=kind, object_id=i, status="pending", attempts=0)
               for i in object_ids if i not in found]
    if missing:
        db.session.add_all(missing)
        db.session.commit()
        found.update((row.object_id, row) for row in missing)
    return found


def watermarks(kind: str, object_ids: list[str]) -> dict[str, int]:
    """`watermark` for many objects in one query (0 for those with no open row)."""
    rows = db.session.execute(
        select(OutboxEntry.object_id, func.max(OutboxEntry.id))
        .where(OutboxEntry.kind == kind, OutboxEntry.object_id.in_(object_ids),
               OutboxEntry.done_at.is_(None))
        .group_by(OutboxEntry.object_id))
    found = {str(object_id): int(upto) for object_id, upto in rows}
    return {i: found.get(i, 0) for i in object_ids}


def settle_outbox_many(kind: str, uptos: dict[str, int]) -> None:
    """`settle_outbox` for many objects in one statement."""
    open_rows = [and_(OutboxEntry.object_id == object_id, OutboxEntry.id <= upto)
                 for object_id, upto in uptos.items() if upto]
    if open_rows:
        db.session.execute(update(OutboxEntry).where(
            OutboxEntry.kind == kind, OutboxEntry.done_at.is_(None), or_(*open_rows))
            .values(done_at=utcnow()))


def settle_outbox(kind: str, object_id: str, upto: int) -> None:
    settle_outbox_many(kind, {object_id: upto})


def newer_work(kind: str, object_id: str, upto: int) -> bool:
    """A change arrived while this run was syncing (its own job may have been coalesced)."""
    return watermark(kind, object_id) > upto


def finish(state: SyncState | None, kind: str, object_id: str, outcome: Outcome,
           started: float) -> None:
    """Write the state and one history row; the caller commits."""
    now = utcnow()
    if state is not None:
        state.status = outcome.status
        state.last_attempt_at = now
        if outcome.status in ("synced", "planned", "skipped"):
            state.attempts = 0
            state.last_error = None
            state.next_retry_at = None
        if outcome.status == "synced":
            state.last_synced_at = now
        if outcome.status == "skipped":
            state.skipped_reason = outcome.message
        elif outcome.status != "pending":
            state.skipped_reason = None
        if outcome.status == "error":
            state.last_error = outcome.message
    seconds = time.monotonic() - started
    db.session.add(SyncAttempt(kind=kind, object_id=object_id, outcome=outcome.status,
                               action=outcome.action, message=outcome.message,
                               duration_ms=int(seconds * 1000)))
    telemetry.attempt_finished(kind, object_id, state.entra_id if state else None,
                               outcome.status, outcome.action, outcome.message, seconds)


def conclude(state: SyncState, kind: str, object_id: str, outcome: Outcome, started: float,
             settle_upto: int | None) -> None:
    """The state and history row of one attempt; its outbox rows up to `settle_upto` done,
    or left open (None) for a later run. The caller commits."""
    finish(state, kind, object_id, outcome, started)
    if settle_upto is not None:
        settle_outbox(kind, object_id, settle_upto)


def forget(kind: str, object_id: str) -> None:
    """The object is gone here and there: drop its link."""
    db.session.execute(delete(SyncState).where(SyncState.kind == kind,
                                               SyncState.object_id == object_id))


def remember_remote(state: SyncState, entra_id: str | None, digest: str | None,
                    attributes: dict[str, Any] | None) -> None:
    state.entra_id = entra_id
    state.payload_hash = digest
    if attributes is not None:
        state.remote_attributes = attributes
