"""Dashboard actions: retry / sync one object, retry all errors, full sync, mapping preview.

All are POST forms with a CSRF token (CSRFProtect checks every POST before the view runs).
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import select, update

# The job and id the scheduler and `sync full` use too: one full sync, whoever asks.
from jobs.fullsync.schedule import FULL_SYNC_JOB, FULL_SYNC_JOB_ID
from jobs.queue import JOB_TTL, enqueue_sync, handle
from webapp.dashboard import bp, queries
from webapp.dashboard.login import current_admin, login_required
from webapp.dashboard.views_objects import safe_preview
from webapp.extensions import db
from webapp.models import SyncState

ACTIVE = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
RETRY_CHUNK = 1000


def _audit(what: str) -> None:
    admin = current_admin() or {}
    current_app.logger.info("dashboard action by %s: %s", admin.get("name"), what)


def _requeue(kind: str, object_id: str) -> bool:
    """Fresh attempts and no pending back-off, then a job (coalesced with a waiting one)."""
    state = db.session.scalar(select(SyncState).where(
        SyncState.kind == kind, SyncState.object_id == object_id))
    entra_id = None
    if state is not None:
        state.attempts = 0
        state.next_retry_at = None
        # A delete carries its Entra id: the local row is gone (jobs.queue.enqueue_sync).
        entra_id = state.entra_id if state.deleted_locally else None
        db.session.commit()
    return enqueue_sync(kind, object_id, entra_id=entra_id)


@bp.post("actions/sync/<kind>/<object_id>")
@login_required
def sync_object(kind: str, object_id: str) -> ResponseReturnValue:
    if kind not in queries.KINDS:
        abort(404)
    row, state = queries.load_object(kind, object_id)
    if row is None and state is None:
        abort(404, description=f"no {kind} with id {object_id!r}")
    retry = request.form.get("mode") == "retry"
    if _requeue(kind, object_id):
        flash(f"{'Retry' if retry else 'Sync'} of this {kind} queued.", "ok")
    else:
        flash("The queue is unreachable; the sweeper will enqueue it later.", "error")
    _audit(f"{'retry' if retry else 'sync now'} {kind} {object_id}")
    return redirect(url_for("dashboard.object_page", kind=kind, object_id=object_id))


@bp.post("actions/retry-errors")
@login_required
def retry_errors() -> ResponseReturnValue:
    queued = failed = 0
    last_id = 0
    while True:  # in chunks by primary key: bounded memory with any number of errors
        chunk = db.session.execute(
            select(SyncState.id, SyncState.kind, SyncState.object_id, SyncState.entra_id,
                   SyncState.deleted_locally)
            .where(SyncState.status == "error", SyncState.id > last_id)
            .order_by(SyncState.id).limit(RETRY_CHUNK)).all()
        if not chunk:
            break
        last_id = chunk[-1].id
        db.session.execute(update(SyncState).where(SyncState.id.in_([r.id for r in chunk]))
                           .values(attempts=0, next_retry_at=None))
        db.session.commit()
        for r in chunk:
            entra_id = r.entra_id if r.deleted_locally else None
            if enqueue_sync(r.kind, r.object_id, entra_id=entra_id):
                queued += 1
            else:
                failed += 1
    flash(f"{queued} objects in error queued for a retry."
          + (f" {failed} could not be queued (queue unreachable)." if failed else ""),
          "error" if failed else "ok")
    _audit(f"retry all errors ({queued})")
    return redirect(url_for("dashboard.objects", state="error"))


@bp.post("actions/full-sync")
@login_required
def full_sync() -> ResponseReturnValue:
    """Queue the full sync (jobs.tasks.full_sync, by name); one at a time (unique job id)."""
    try:
        outcome = _enqueue_full_sync()
    except (RedisError, OSError):
        outcome = "The queue is unreachable; try again when Redis is back."
    flash(outcome, "error" if "unreachable" in outcome else "ok")
    _audit("start full sync")
    return redirect(url_for("dashboard.overview"))


def _enqueue_full_sync() -> str:
    queue = handle().queue
    options: dict[str, Any] = {"job_id": FULL_SYNC_JOB_ID, "unique": True, "ttl": JOB_TTL,
                               "result_ttl": 0, "failure_ttl": 24 * 3600}
    try:
        queue.enqueue(FULL_SYNC_JOB, **options)
        return "Full sync queued."
    except DuplicateJobError:
        pass
    # RQ's `unique` refuses while the job's record exists, and a failed run keeps its record
    # (failure_ttl) for the admin to inspect: only a waiting or running job is a duplicate.
    try:
        old = Job.fetch(FULL_SYNC_JOB_ID, connection=queue.connection)
        if old.get_status(refresh=True) in ACTIVE:
            return "A full sync is already queued or running."
        old.delete()
    except NoSuchJobError:  # it expired in between
        pass
    try:
        queue.enqueue(FULL_SYNC_JOB, **options)
    except DuplicateJobError:  # another admin won the race
        return "A full sync is already queued or running."
    return "Full sync queued."


@bp.route("preview", methods=["GET", "POST"])
@login_required
def preview() -> ResponseReturnValue:
    """What the mappings make of a chosen object: payload, skip reason or mapping error."""
    result: dict[str, Any] | None = None
    error = None
    kind = request.values.get("kind", "user")
    ident = request.values.get("ident", "").strip()
    object_id = None
    if request.method == "POST":
        if kind not in queries.KINDS:
            abort(400, description=f"kind must be user or group, not {kind!r}")
        object_id = queries.find_object_id(kind, ident) if ident else None
        if object_id is None:
            error = f"No {kind} with the id or name {ident!r}."
        else:
            result = safe_preview(kind, object_id)
    status = 404 if error else 200
    return render_template("dashboard/preview.html", kind=kind, ident=ident, result=result,
                           object_id=object_id, error=error), status
