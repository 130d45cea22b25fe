"""`scim2entra scheduler` and `scim2entra sync full [--wait]` (CONTRACT.md, "CLI")."""

from __future__ import annotations

import time
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Periodic full sync (SCIM2ENTRA_FULL_SYNC_CRON) and the outbox sweeper."""
    from jobs.fullsync.schedule import CronError, run_scheduler
    from jobs.queue import handle

    if handle().embedded:
        raise click.ClickException(
            "scim2entra scheduler needs SCIM2ENTRA_REDIS_URL; without Redis use scim2entra run")
    try:
        run_scheduler(_app())
    except CronError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("full")
@click.option("--wait", is_flag=True, help="Show progress until the run ends.")
@click.option("--timeout", type=float, default=None, help="With --wait: give up after N s.")
@with_appcontext
def sync_full(wait: bool, timeout: float | None) -> None:
    """Enqueue a full sync (discovery, linking, reconcile, scope cleanup)."""
    from jobs.fullsync import progress
    from jobs.fullsync.schedule import enqueue_full_sync
    from jobs.queue import handle

    app = _app()
    before = progress.current()
    enqueue_full_sync(app)
    click.echo("full sync enqueued")
    if handle().embedded:
        # No Redis: the queue lives in this process only, so run the jobs here.
        from jobs.worker import drain

        drain(app, max_wait=timeout or 3600)
    if wait or handle().embedded:
        _follow(app, before, timeout)


def _follow(app: Flask, before: dict[str, Any] | None, timeout: float | None) -> None:
    """Print each phase's progress until our run ends; exit non-zero when it failed."""
    from jobs.fullsync import progress
    from webapp.extensions import db

    deadline = None if timeout is None else time.monotonic() + timeout
    shown: dict[str, tuple[int, int]] = {}
    while True:
        db.session.rollback()  # a fresh snapshot of the progress row
        found = progress.current()
        if _is_ours(found, before):
            assert found is not None
            _show(found, shown)
            if found["state"] != "running":
                break
        if deadline is not None and time.monotonic() > deadline:
            raise click.ClickException("still running after the timeout; see sync status")
        time.sleep(0.5)
    if found["state"] == "failed":
        raise click.ClickException(f"full sync failed: {found.get('error')}")
    click.echo(f"full sync {found['run_id']} done")


def _is_ours(found: dict[str, Any] | None, before: dict[str, Any] | None) -> bool:
    """The run we asked for: the one that was already running, else a newer one."""
    if found is None:
        return False
    if before is None or before.get("state") == "running":
        return before is None or found["run_id"] == before["run_id"]
    return bool(found["run_id"] != before["run_id"])


def _show(found: dict[str, Any], shown: dict[str, tuple[int, int]]) -> None:
    for phase, counts in found.get("phases", {}).items():
        now = (int(counts["done"]), int(counts["total"]))
        if shown.get(phase) != now:
            shown[phase] = now
            click.echo(f"{phase:16} {now[0]:>8}/{now[1]}")
