"""RQ entry points. Thin: each hands over to the sync engine in the worker's app."""

from __future__ import annotations

from jobs.appctx import job_app


def sync_object(kind: str, object_id: str, entra_id: str | None = None) -> str:
    """Bring one object in Entra to what the store says now (ARCHITECTURE.md: state-based).

    `entra_id` travels with deletes, so deprovisioning never depends on local rows.
    """
    from jobs.sync.engine import run

    return run(job_app(), kind, object_id, entra_id)
