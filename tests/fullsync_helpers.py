"""Helpers of the full-sync tests: run a full sync against the emulator, lose direct jobs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.conftest import reset_queue
from tests.test_scim_groups import new_group
from tests.test_scim_users import new_user


def run_full_sync(sync: Any, max_wait: float = 30.0) -> dict[str, Any]:
    """Trigger a run, let the workers drain it, and return the ended run's progress row."""
    from jobs.fullsync import progress
    from jobs.fullsync.run import trigger

    started = trigger(sync.app)
    assert started.startswith("started"), started
    sync.drain(max_wait=max_wait)
    with sync.app.app_context():
        last = progress.last()
    assert last is not None and last["run_id"] == started.split()[-1], last
    return last


def lose_direct_jobs(sync: Any) -> None:
    """Drop the direct-sync jobs the SCIM writes enqueued (as if Redis had lost them), so
    only the full sync brings these changes to Entra."""
    reset_queue(sync.app)


def add_user(sync: Any, name: str, **extra: Any) -> str:
    response = sync.scim.post("/Users", new_user(name, **extra))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def add_group(sync: Any, name: str, members: list[str] | None = None) -> str:
    response = sync.scim.post("/Groups", new_group(name, members))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def entra_groups_named(sync: Any, name: str) -> list[dict[str, Any]]:
    return [g for g in sync.entra.state.groups.values() if g["displayName"] == name]


def process_env(app: Any, instance: Path, **extra: str) -> dict[str, str]:
    """The environment of a `python -m webapp …` process sharing `app`'s store and queue."""
    settings = app.config["SCIM2ENTRA"]
    env = {**os.environ, "SCIM2ENTRA_INSTANCE_PATH": str(instance)}
    for key in ("TENANT_ID", "CLIENT_ID", "CLIENT_SECRET", "GRAPH_URL", "AUTHORITY_URL",
                "CA_BUNDLE", "REDIS_URL", "QUEUE_NAME", "FULL_SYNC_CHUNK", "FULL_SYNC_LEASE"):
        if settings.get(key) is not None:
            env[f"SCIM2ENTRA_{key}"] = str(settings[key])
    env["SCIM2ENTRA_DATABASE_URL"] = app.config["SQLALCHEMY_DATABASE_URI"]
    env["SCIM2ENTRA_SECRET_KEY"] = app.config["SECRET_KEY"]
    env.update(extra)
    return env
