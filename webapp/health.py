"""Liveness and readiness for orchestrators (CONTRACT.md: /healthz, /readyz)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from jobs.queue import handle
from webapp.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> ResponseReturnValue:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; say which
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        handle().redis.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    if checks["redis"] == "ok":
        checks["worker"] = _worker_check()
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503


def _worker_check() -> str:
    """A worker of our queue sent a heartbeat recently, or is busy with a job (an RQ
    SimpleWorker sends none while a job runs; its Redis key expires if it dies)."""
    from rq import Worker

    max_age = float(current_app.config["SCIM2ENTRA"].get("WORKER_HEARTBEAT_MAX_AGE") or 60)
    now = datetime.now(UTC)
    try:
        workers = Worker.all(queue=handle().queue)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    for worker in workers:
        beat = worker.last_heartbeat
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        if worker.get_state() == "busy" or (beat and (now - beat).total_seconds() <= max_age):
            return "ok"
    return f"error: no worker heartbeat within {max_age:g} s ({len(workers)} registered)"
