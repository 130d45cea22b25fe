"""Helpers for the dashboard tests: sign in through the real form, read CSRF tokens, seed rows."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from webapp.extensions import db
from webapp.models import SyncAttempt, SyncState, utcnow

PASSWORD = "correct horse battery staple"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    return csrf_from(client.get(path).get_data(as_text=True))


def clear_throttle(app: Flask) -> None:
    from webapp.dashboard import throttle

    with app.test_request_context():
        throttle.clear_all()


def sign_in(client: FlaskClient, app: Flask, password: str = PASSWORD) -> Any:
    app.config["SCIM2ENTRA"]["ADMIN_PASSWORD"] = PASSWORD
    return client.post("/login", data={"password": password, "csrf_token": csrf_of(client)})


def signed_in(client: FlaskClient, app: Flask) -> FlaskClient:
    clear_throttle(app)
    response = sign_in(client, app)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def post_form(client: FlaskClient, path: str, data: dict[str, str] | None = None,
              page: str = "/") -> Any:
    """A POST the way the browser sends it: with the CSRF token of a page of this session."""
    return client.post(path, data={**(data or {}), "csrf_token": csrf_of(client, page)})


def set_state(app: Flask, kind: str, object_id: str, status: str, **fields: Any) -> None:
    with app.app_context():
        db.session.add(SyncState(kind=kind, object_id=object_id, status=status, **fields))
        db.session.commit()


def add_attempt(app: Flask, kind: str, object_id: str, outcome: str, at: datetime | None = None,
                message: str | None = None) -> None:
    with app.app_context():
        db.session.add(SyncAttempt(kind=kind, object_id=object_id, outcome=outcome,
                                   at=at or utcnow(), message=message))
        db.session.commit()


def job_ids(app: Flask) -> list[str]:
    from jobs.queue import handle

    return list(handle(app).queue.job_ids)
