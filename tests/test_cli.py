"""The scim2entra CLI: tokens and migrations."""

from __future__ import annotations

from typing import Any

from webapp.tokens import verify_token


def test_token_create_prints_token_alone_on_last_line(app: Any, runner: Any) -> None:
    result = runner.invoke(args=["token", "create", "okta"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("s2e_") and " " not in token
    with app.app_context():
        info = verify_token(token)
        assert info is not None and info.name == "okta"


def test_token_stored_only_as_hash(app: Any, runner: Any) -> None:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import ScimToken

    token = runner.invoke(args=["token", "create", "entra"]).stdout.strip().splitlines()[-1]
    with app.app_context():
        stored = db.session.scalars(select(ScimToken)).one()
        assert token not in (stored.token_hash, stored.name) and len(stored.token_hash) == 64


def test_token_list_and_revoke(app: Any, runner: Any, client: Any) -> None:
    token = runner.invoke(args=["token", "create", "jc"]).stdout.strip().splitlines()[-1]
    listed = runner.invoke(args=["token", "list"])
    assert "jc" in listed.output and token not in listed.output
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/scim/v2/Users", headers=auth).status_code == 200
    assert runner.invoke(args=["token", "revoke", "jc"]).exit_code == 0
    assert client.get("/scim/v2/Users", headers=auth).status_code == 401


def test_token_errors_are_readable(runner: Any) -> None:
    assert runner.invoke(args=["token", "create", "a"]).exit_code == 0
    again = runner.invoke(args=["token", "create", "a"])
    assert again.exit_code != 0 and "exists already" in again.output
    missing = runner.invoke(args=["token", "revoke", "zzz"])
    assert missing.exit_code != 0 and "no token named 'zzz'" in missing.output


def test_db_upgrade_is_idempotent(runner: Any) -> None:
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output


def test_worker_refuses_without_redis(tmp_path: Any) -> None:
    from tests.conftest import make_app

    app = make_app(f"sqlite:///{tmp_path / 'w.db'}", None, str(tmp_path))
    result = app.test_cli_runner().invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "SCIM2ENTRA_REDIS_URL" in result.output
