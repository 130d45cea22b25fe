"""RQ entry points. Thin: each hands over to the sync engine in the worker's app."""

from __future__ import annotations

from jobs.appctx import job_app


def sync_object(kind: str, object_id: str, entra_id: str | None = None) -> str:
    """Bring one object in Entra to what the store says now (ARCHITECTURE.md: state-based).

    `entra_id` travels with deletes, so deprovisioning never depends on local rows.
    """
    from jobs.sync.engine import run

    return run(job_app(), kind, object_id, entra_id)


def full_sync() -> str:
    """Start (or resume) a full sync; the dashboard enqueues it with job id "full-sync"."""
    from jobs.fullsync.run import trigger

    return trigger(job_app())


def full_sync_discover(run_id: str, phase: str, url: str, page: int) -> str:
    from jobs.fullsync.run import discover_page

    return discover_page(job_app(), run_id, phase, url, page)


def full_sync_chunk(run_id: str, phase: str, n: int) -> str:
    from jobs.fullsync.run import run_chunk

    return run_chunk(job_app(), run_id, phase, n)


def sweep_outbox(older_than: float = 60.0) -> str:
    """The scheduler's 30-second tick: re-enqueue open outbox rows and resume a full sync
    whose jobs died (its lease expired)."""
    from jobs.fullsync.run import resume_stale
    from jobs.sweeper import sweep

    app = job_app()
    with app.app_context():
        swept = sweep(older_than=older_than)
    resumed = resume_stale(app)
    return f"swept {swept}" + (f"; full sync {resumed}" if resumed else "")
