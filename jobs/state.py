"""Per-object sync state (the link table)."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import SyncState


def get_or_create(kind: str, object_id: str) -> SyncState:
    state = db.session.scalar(
        select(SyncState).where(SyncState.kind == kind, SyncState.object_id == object_id)
    )
    if state is None:
        state = SyncState(kind=kind, object_id=object_id, status="pending", attempts=0)
        db.session.add(state)
    return state


def mark_pending(kind: str, object_id: str) -> str:
    state = get_or_create(kind, object_id)
    state.status = "pending"
    db.session.commit()
    return state.status
