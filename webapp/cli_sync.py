"""`scim2entra sync …` and `scim2entra mapping …`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("sync")
def sync_group() -> None:
    """Sync status and runs."""


@sync_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@with_appcontext
def sync_status(as_json: bool) -> None:
    """Counts of users and groups by state (synced, pending, error, skipped)."""
    from jobs.status import STATES, counts

    found = counts()
    if as_json:
        click.echo(json.dumps(found, sort_keys=True))
        return
    click.echo(f"{'':8}" + "".join(f"{state:>10}" for state in STATES))
    for kind in ("users", "groups"):
        click.echo(f"{kind:8}" + "".join(f"{found[kind][s]:>10}" for s in STATES))
    if found["paused"]:
        pause = found["paused"]
        click.echo(f"SYNC PAUSED ({pause.get('reason')}): {pause.get('message', '')}")


@click.group("mapping")
def mapping_group() -> None:
    """Property mappings."""


@mapping_group.command("test")
@click.argument("kind", type=click.Choice(["user", "group"]))
@click.argument("object_id")
@with_appcontext
def mapping_test(kind: str, object_id: str) -> None:
    """Print the Graph payload the mappings produce for one object (or the skip / error)."""
    from jobs.status import mapping_preview

    try:
        result = mapping_preview(current_app._get_current_object(),  # type: ignore[attr-defined]
                                 kind, object_id)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(result, indent=2, sort_keys=True, default=str))
    if result["status"] in ("error", "config_error"):
        raise SystemExit(1)
