"""Outbox sweeper: enqueue again what was acknowledged but never synced.

Rows stay open until a sync settles them, so a row still open after a while means its job
never ran, died, or was lost (Redis down at write time, a worker killed). Jobs are
idempotent and coalesce per object, so enqueueing again is always safe.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from jobs.queue import enqueue_syncs
from webapp.extensions import db
from webapp.models import OutboxEntry, utcnow

SWEEP_BATCH = 1000  # objects per Redis round trip (jobs.queue.enqueue_syncs)


def sweep(older_than: float = 60.0, limit: int = 10_000) -> int:
    """Enqueue one sync per object with open outbox rows older than `older_than` seconds."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    rows = db.session.execute(
        select(OutboxEntry.kind, OutboxEntry.object_id, func.max(OutboxEntry.entra_id))
        .where(OutboxEntry.done_at.is_(None), OutboxEntry.created_at <= cutoff)
        .group_by(OutboxEntry.kind, OutboxEntry.object_id)
        .limit(limit))
    objects = [(kind, object_id, entra_id) for kind, object_id, entra_id in rows]
    return sum(enqueue_syncs(objects[start : start + SWEEP_BATCH])
               for start in range(0, len(objects), SWEEP_BATCH))
