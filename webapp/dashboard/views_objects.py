"""Object lists (errors, skipped, search), one object's page, and the dry-run plan."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from jobs.status import mapping_preview
from scim import store
from scim.schemas import GROUP, USER
from webapp.dashboard import bp, queries
from webapp.dashboard.login import login_required

MAX_SEARCH = 256


def _list_args() -> dict[str, Any]:
    """The list's filters from the query string; bad values are a 400 with a reason."""
    kind = request.args.get("kind", "user")
    state = request.args.get("state") or None
    search = request.args.get("q", "").strip()
    if kind not in queries.KINDS:
        abort(400, description=f"kind must be user or group, not {kind!r}")
    if state is not None and state not in queries.STATES:
        abort(400, description=f"state must be one of {', '.join(queries.STATES)}")
    if len(search) > MAX_SEARCH:
        abort(400, description=f"search is limited to {MAX_SEARCH} characters")
    return {"kind": kind, "state": state, "search": search,
            "after": request.args.get("after"), "before": request.args.get("before")}


def _list_context() -> dict[str, Any]:
    args = _list_args()
    page = queries.list_objects(**args)
    return {"page": page, **args}


@bp.get("objects")
@login_required
def objects() -> ResponseReturnValue:
    return render_template("dashboard/objects.html", **_list_context())


@bp.get("fragments/objects")
@login_required
def objects_fragment() -> ResponseReturnValue:
    return render_template("dashboard/_objects_table.html", **_list_context())


def _check_kind(kind: str) -> None:
    if kind not in queries.KINDS:
        abort(404)


@bp.get("objects/<kind>/<object_id>")
@login_required
def object_page(kind: str, object_id: str) -> ResponseReturnValue:
    _check_kind(kind)
    row, state = queries.load_object(kind, object_id)
    if row is None and state is None:
        abort(404, description=f"no {kind} with id {object_id!r}")
    document = None
    preview = None
    if row is not None:
        document = store.full_document(USER if kind == "user" else GROUP, row)
        preview = safe_preview(kind, object_id)
    return render_template(
        "dashboard/object.html", kind=kind, object_id=object_id, row=row, state=state,
        document=document, preview=preview,
        attempts=queries.recent_attempts(kind, object_id),
        plan=queries.plan_entries(None, kind, object_id, limit=20))


@bp.get("fragments/objects/<kind>/<object_id>/state")
@login_required
def object_state_fragment(kind: str, object_id: str) -> ResponseReturnValue:
    _check_kind(kind)
    _row, state = queries.load_object(kind, object_id)
    return render_template("dashboard/_object_state.html", kind=kind, object_id=object_id,
                           state=state,
                           attempts=queries.recent_attempts(kind, object_id))


@bp.get("plan")
@login_required
def plan() -> ResponseReturnValue:
    raw = request.args.get("before")
    try:
        before = int(raw) if raw else None
    except ValueError:
        abort(400, description="before must be a plan entry number")
    entries = queries.plan_entries(before)
    older = entries[-1].id if len(entries) == queries.PAGE_SIZE else None
    return render_template("dashboard/plan.html", entries=entries, older=older,
                           dry_run=current_app.config["DRY_RUN"])


def safe_preview(kind: str, object_id: str) -> dict[str, Any]:
    """The mapping preview, or why there is none: the page must render either way.

    The preview may reach Graph (the tenant's verified domains, cached); a network failure
    there is shown on the page rather than turned into a 500.
    """
    try:
        return mapping_preview(current_app._get_current_object(),  # type: ignore[attr-defined]
                               kind, object_id)
    except Exception as exc:
        current_app.logger.exception("mapping preview of %s %s failed", kind, object_id)
        return {"status": "unavailable", "message": f"{type(exc).__name__}: {exc}"}


@bp.errorhandler(400)
@bp.errorhandler(404)
def _readable_error(error: HTTPException) -> ResponseReturnValue:
    return render_template("dashboard/error.html", title=error.name,
                           message=error.description), error.code or 400
