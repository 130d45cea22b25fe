"""Counts of objects by sync state, and one object's mapping preview (CLI and dashboard)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from jobs.sync import control
from jobs.sync.common import connection_of
from jobs.sync.context import sync_context
from jobs.sync.record import link_of
from mappings import MappingConfigError, preview
from scim import store
from scim.schemas import GROUP, USER
from webapp.extensions import db
from webapp.models import ScimGroup, ScimUser, SyncState
from webapp.secrets_box import unseal

STATES = ("synced", "pending", "error", "skipped")
# Intermediate states count as pending: the object is not in its final state yet.
AS_PENDING = {"retrying", "planned", "pending"}


def counts() -> dict[str, Any]:
    """{"users": {"synced": n, …}, "groups": {…}, "paused": {…} | None}."""
    result: dict[str, Any] = {}
    for kind, model in (("user", ScimUser), ("group", ScimGroup)):
        total = int(db.session.scalar(select(func.count()).select_from(model)) or 0)
        rows = db.session.execute(
            select(SyncState.status, func.count()).where(
                SyncState.kind == kind, SyncState.deleted_locally.is_(False))
            .group_by(SyncState.status)).all()
        by_status = {str(status): int(n) for status, n in rows}
        row = {state: int(by_status.get(state, 0)) for state in STATES}
        row["pending"] += sum(int(n) for s, n in by_status.items() if s in AS_PENDING - {"pending"})
        # Objects no job has touched yet are pending too.
        row["pending"] += max(total - sum(int(n) for n in by_status.values()), 0)
        result[f"{kind}s"] = row
    result["paused"] = control.current_pause()
    return result


def mapping_preview(app: Flask, kind: str, object_id: str) -> dict[str, Any]:
    """What the mappings make of one object now: payload, skip reason or error."""
    rt = USER if kind == "user" else GROUP
    row = store.load(rt, object_id)
    if row is None:
        raise LookupError(f"no {kind} with id {object_id!r}")
    context = sync_context(app)
    try:
        engine = context.load_mappings()
    except MappingConfigError as exc:
        return {"status": "config_error", "mapping": exc.mapping, "line": exc.line,
                "message": exc.message}
    state = link_of(kind, object_id)
    return preview(engine, kind, store.full_document(rt, row),
                   password=unseal(getattr(row, "password_enc", None)),
                   connection=connection_of(state) if state is not None else None,
                   provider=context.provider())
