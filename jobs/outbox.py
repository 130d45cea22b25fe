"""Transactional outbox: a SCIM write and its sync intent commit together.

`record()` adds the outbox row to the caller's open transaction; `dispatch()` runs after the
commit and enqueues (for SCIM writes, from the web process's thread in jobs/dispatcher.py).
If Redis is down the row stays open and the sweeper enqueues it later, so nothing
acknowledged to a SCIM client is ever lost (ARCHITECTURE.md, "Transactional outbox").
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from jobs.queue import enqueue_syncs
from webapp.extensions import db
from webapp.models import OutboxEntry


@dataclass(frozen=True)
class Change:
    kind: str  # "user" or "group"
    object_id: str
    action: str  # "upsert" or "delete"
    entra_id: str | None = None  # deletes: the Entra object to deprovision


def record(change: Change) -> Change:
    db.session.add(OutboxEntry(kind=change.kind, object_id=change.object_id,
                               action=change.action, entra_id=change.entra_id))
    return change


def dispatch(changes: list[Change], app: Flask | None = None) -> int:
    """Enqueue one job per changed object; returns how many reached the queue."""
    objects: dict[tuple[str, str], str | None] = {}
    for change in changes:
        objects.setdefault((change.kind, change.object_id), change.entra_id)
    return enqueue_syncs([(kind, object_id, entra_id)
                          for (kind, object_id), entra_id in objects.items()], app)
