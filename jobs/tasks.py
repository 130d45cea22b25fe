"""RQ entry points. Thin: each loads the current state and hands it to the sync engine."""

from __future__ import annotations

from jobs.appctx import job_app
from jobs.state import mark_pending


def sync_object(kind: str, object_id: str) -> str:
    """Bring one object's sync state up to date with the store.

    Until the sync engine lands this records the object as pending; its outbox rows stay
    open so that the engine, once deployed, picks every acknowledged change up.
    """
    app = job_app()
    with app.app_context():
        return mark_pending(kind, object_id)
