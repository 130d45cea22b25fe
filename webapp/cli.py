"""The `scim2entra` command: a Flask CLI group (CONTRACT.md, "CLI")."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from webapp.config import ConfigError


def _create_app() -> Flask:
    from webapp import create_app

    try:
        return create_app()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False)
def main() -> None:
    """scim2entra: SCIM 2.0 to Microsoft Entra ID provisioning."""


def init_app(app: Flask) -> None:
    from webapp.cli_scheduler import scheduler_command, sync_full
    from webapp.cli_sync import mapping_group, sync_group

    sync_group.add_command(sync_full)
    for command in (run_command, serve_command, worker_command, token_group, sync_group,
                    mapping_group, scheduler_command):
        app.cli.add_command(command)


def _app() -> Flask:
    return current_app._get_current_object()  # type: ignore[attr-defined,no-any-return]


# --- token ------------------------------------------------------------------------------

@click.group("token")
def token_group() -> None:
    """Manage SCIM bearer tokens."""


@token_group.command("create")
@click.argument("name")
@with_appcontext
def token_create(name: str) -> None:
    """Create a token; it is printed once, alone on the last line."""
    from webapp.tokens import TokenError, create_token

    try:
        token = create_token(name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Token {name!r} created. It is shown only now; store it in your SCIM client.",
               err=True)
    click.echo(token)


@token_group.command("list")
@with_appcontext
def token_list() -> None:
    """List token names (never the tokens)."""
    from webapp.tokens import list_tokens

    rows = list_tokens()
    if not rows:
        click.echo("no tokens; create one with: scim2entra token create NAME")
    for info in rows:
        used = info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else "never"
        click.echo(f"{info.name}\tcreated {info.created_at:%Y-%m-%d %H:%M}\tlast used {used}")


@token_group.command("revoke")
@click.argument("name")
@with_appcontext
def token_revoke(name: str) -> None:
    """Revoke a token by name; clients using it get 401 from now on."""
    from webapp.tokens import TokenError, revoke_token

    try:
        revoke_token(name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"token {name!r} revoked")


# --- processes ---------------------------------------------------------------------------

@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit 0 once the queues are empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an RQ worker (with RQ's scheduler for delayed retries)."""
    from jobs.queue import handle
    from jobs.worker import run_worker

    if handle().embedded:
        raise click.ClickException(
            "scim2entra worker needs SCIM2ENTRA_REDIS_URL; without Redis use scim2entra run"
        )
    run_worker(_app(), burst=burst)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int, workers: int) -> None:
    """Web only (SCIM + dashboard) under gunicorn; applies pending migrations first."""
    from webapp.store import upgrade_database
    from webapp.wsgi import serve_with_gunicorn

    app = _app()
    upgrade_database(app)
    serve_with_gunicorn(host, port, workers)


@click.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@with_appcontext
def run_command(host: str, port: int) -> None:
    """Web + worker + scheduler in one process tree (embedded queue without Redis)."""
    from jobs.queue import handle
    from webapp.store import upgrade_database

    app = _app()
    upgrade_database(app)
    _announce(app, host, port)
    children: list[subprocess.Popen[Any]] = []
    if handle().embedded:
        from jobs.fullsync.schedule import start_thread
        from jobs.worker import start_embedded

        start_embedded(app)
        start_thread(app)
    else:
        children.append(subprocess.Popen([sys.executable, "-m", "webapp", "worker"]))
        children.append(subprocess.Popen([sys.executable, "-m", "webapp", "scheduler"]))
    try:
        _serve_threaded(app, host, port)
    finally:
        for child in children:
            child.terminate()


def _announce(app: Flask, host: str, port: int) -> None:
    from webapp.tokens import create_token, list_tokens

    click.echo(f"scim2entra at http://{host}:{port}/  (SCIM base: http://{host}:{port}/scim/v2)")
    if app.config["DRY_RUN"]:
        click.echo("dry-run: no tenant credentials set, Graph writes are planned, not sent")
    if not list_tokens():
        token = create_token("first-run")
        click.echo("first start: a SCIM bearer token was created (shown only now):")
        click.echo(token)


def _serve_threaded(app: Flask, host: str, port: int) -> None:
    from werkzeug.serving import make_server

    server = make_server(host, port, app, threaded=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
