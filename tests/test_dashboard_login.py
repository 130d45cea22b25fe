"""Dashboard sign-in: redirects without a session, password / token sign-in, slowed-down
failures, cookie flags, CSRF on the forms, the OIDC button slot."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient

from tests.conftest import make_app
from tests.dashboard_support import (
    PASSWORD,
    clear_throttle,
    csrf_of,
    post_form,
    sign_in,
    signed_in,
)
from webapp.dashboard import throttle

PAGES = ["/", "/fragments/overview", "/fragments/chart", "/objects", "/objects?state=error",
         "/fragments/objects", "/objects/user/some-id", "/fragments/objects/user/some-id/state",
         "/plan", "/preview", "/config", "/tokens"]
ACTIONS = ["/actions/sync/user/some-id", "/actions/retry-errors", "/actions/full-sync",
           "/preview", "/tokens", "/tokens/revoke"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_redirects_to_sign_in_without_a_session(client: FlaskClient,
                                                           path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ACTIONS)
def test_every_action_redirects_to_sign_in_without_a_session(client: FlaskClient,
                                                             path: str) -> None:
    # With a valid CSRF token (from the sign-in page), so it is the login check that refuses.
    response = post_form(client, path, page="/login")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_password_sign_in_then_pages_open(app: Flask, client: FlaskClient) -> None:
    clear_throttle(app)
    response = sign_in(client, app)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        assert session["admin"]["name"] == "admin"
        assert session["admin"]["method"] == "password"
        assert "at" in session["admin"]


def test_sign_in_returns_to_next_but_never_off_site(app: Flask, client: FlaskClient) -> None:
    clear_throttle(app)
    app.config["SCIM2ENTRA"]["ADMIN_PASSWORD"] = PASSWORD
    for target, expected in (("/plan", "/plan"), ("//evil.example/x", "/"),
                             ("https://evil.example/", "/"), ("/\\evil.example", "/")):
        client.post("/logout", data={"csrf_token": csrf_of(client)})
        response = client.post("/login", data={"password": PASSWORD, "next": target,
                                               "csrf_token": csrf_of(client)})
        assert response.headers["Location"] == expected


def test_session_cookie_is_httponly_lax_and_lasts_eight_hours(app: Flask,
                                                              client: FlaskClient) -> None:
    clear_throttle(app)
    cookie = sign_in(client, app).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http: a Secure cookie would never come back
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", cookie).group(1))
    lifetime = (expires - datetime.now(UTC)).total_seconds()
    assert 8 * 3600 - 60 < lifetime <= 8 * 3600


def test_session_cookie_is_secure_over_https(app: Flask) -> None:
    client = app.test_client()
    clear_throttle(app)
    app.config["SCIM2ENTRA"]["ADMIN_PASSWORD"] = PASSWORD
    token = csrf_of(client)
    response = client.post("/login", base_url="https://localhost",
                           data={"password": PASSWORD, "csrf_token": token},
                           headers={"Referer": "https://localhost/login"})
    assert response.status_code == 302
    assert "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("proxies, secure", [(None, False), ("1", True)])
def test_forwarded_proto_is_trusted_only_with_trusted_proxies(
        database_url: str, redis_url: str, tmp_path: Any, proxies: str | None,
        secure: bool) -> None:
    app = make_app(database_url, redis_url, str(tmp_path), TRUSTED_PROXIES=proxies,
                   ADMIN_PASSWORD=PASSWORD)
    clear_throttle(app)
    client = app.test_client()
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": csrf_of(client)},
                           headers={"X-Forwarded-Proto": "https",
                                    # over https Flask-WTF also checks the Referer is us
                                    "Referer": "https://localhost/login"})
    assert response.status_code == 302
    assert ("Secure" in response.headers["Set-Cookie"]) is secure


def test_wrong_password_is_refused_then_slowed_down(app: Flask, client: FlaskClient) -> None:
    clear_throttle(app)
    for _ in range(throttle.FREE_ATTEMPTS):
        response = sign_in(client, app, password="wrong")
        assert response.status_code == 401
        assert "Wrong password" in response.get_data(as_text=True)
    assert sign_in(client, app, password="wrong").status_code == 401  # starts the wait
    # Now even the right password waits: the guesser learns nothing during the delay.
    locked = sign_in(client, app)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) >= 1
    assert "Too many failed sign-ins" in locked.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "admin" not in session


def test_account_lock_holds_across_client_addresses(app: Flask) -> None:
    clear_throttle(app)
    for n in range(throttle.FREE_ATTEMPTS + 1):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{n}"
        assert sign_in(client, app, password="wrong").status_code == 401
    fresh = app.test_client()
    fresh.environ_base["REMOTE_ADDR"] = "198.51.100.200"
    assert sign_in(fresh, app).status_code == 429


def test_after_the_wait_the_right_password_works_and_resets(app: Flask,
                                                            client: FlaskClient) -> None:
    clear_throttle(app)
    for _ in range(throttle.FREE_ATTEMPTS + 1):
        sign_in(client, app, password="wrong")
    assert sign_in(client, app).status_code == 429
    _expire_waits(app)
    assert sign_in(client, app).status_code == 302
    # a success forgets the failures: the next mistake is a free one again
    client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert sign_in(client, app, password="wrong").status_code == 401
    assert sign_in(client, app).status_code == 302


def _expire_waits(app: Flask) -> None:
    """Move every wait into the past, as time passing would."""
    from jobs.queue import handle

    redis = handle(app).redis
    with app.test_request_context():
        for key in redis.scan_iter(match=throttle._key("*", "*")):
            redis.hset(key, "until", "0")


def test_waits_double_and_are_capped() -> None:
    waits = [throttle.wait_after(n) for n in range(1, 20)]
    assert waits[: throttle.FREE_ATTEMPTS] == [0.0] * throttle.FREE_ATTEMPTS
    assert waits[throttle.FREE_ATTEMPTS: throttle.FREE_ATTEMPTS + 3] == [2.0, 4.0, 8.0]
    assert max(waits) == throttle.MAX_WAIT


def test_first_run_token_sign_in(app: Flask, client: FlaskClient, token: str) -> None:
    clear_throttle(app)
    page = client.get("/login").get_data(as_text=True)
    assert 'name="token"' in page and 'name="password"' not in page
    bad = client.post("/login", data={"token": "s2e_not-a-token", "csrf_token": csrf_of(client)})
    assert bad.status_code == 401
    good = client.post("/login", data={"token": token, "csrf_token": csrf_of(client)})
    assert good.status_code == 302
    with client.session_transaction() as session:
        assert session["admin"]["method"] == "token"
        assert session["admin"]["name"].startswith("token:test-")


def test_password_form_when_a_password_is_set(app: Flask, client: FlaskClient) -> None:
    app.config["SCIM2ENTRA"]["ADMIN_PASSWORD"] = PASSWORD
    page = client.get("/login").get_data(as_text=True)
    assert 'name="password"' in page and 'name="token"' not in page
    assert "Sign in with Microsoft Entra" not in page


def test_entra_button_appears_when_the_oidc_route_exists(app: Flask,
                                                         client: FlaskClient) -> None:
    oidc = Blueprint("dashboard_oidc", __name__)
    oidc.add_url_rule("/login/oidc", "start", lambda: "start")
    app.register_blueprint(oidc)
    page = client.get("/login?next=/plan").get_data(as_text=True)
    assert "Sign in with Microsoft Entra" in page
    assert 'href="/login/oidc?next=/plan"' in page
    # no password set and Entra available: no token form
    assert 'name="token"' not in page


def test_login_without_csrf_token_is_rejected(app: Flask, client: FlaskClient) -> None:
    clear_throttle(app)
    app.config["SCIM2ENTRA"]["ADMIN_PASSWORD"] = PASSWORD
    response = client.post("/login", data={"password": PASSWORD})
    assert response.status_code == 400
    with client.session_transaction() as session:
        assert "admin" not in session


def test_sign_out_needs_post_and_ends_the_session(app: Flask, client: FlaskClient) -> None:
    signed_in(client, app)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 302
    assert client.get("/").status_code == 302


def test_sign_in_starts_a_fresh_session(app: Flask, client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    signed_in(client, app)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_sign_in_is_refused_while_redis_is_down(database_url: str, tmp_path: Any) -> None:
    # Port 1: nothing listens, so the failure counters cannot be read.
    app = make_app(database_url, "redis://127.0.0.1:1/0", str(tmp_path),
                   ADMIN_PASSWORD=PASSWORD)
    client = app.test_client()
    response = client.post("/login", data={"password": PASSWORD, "csrf_token": csrf_of(client)})
    assert response.status_code == 503
    assert "Redis is unreachable" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "admin" not in session


def test_open_sessions_still_see_the_overview_while_redis_is_down(database_url: str,
                                                                  tmp_path: Any) -> None:
    app = make_app(database_url, "redis://127.0.0.1:1/0", str(tmp_path))
    client = app.test_client()
    with client.session_transaction() as session:
        session["admin"] = {"name": "admin", "method": "password", "at": "2026-01-01"}
    response = client.get("/fragments/overview")
    assert response.status_code == 200
    assert "Redis unreachable" in response.get_data(as_text=True)


def test_trusted_proxies_must_be_a_number(database_url: str, redis_url: str,
                                          tmp_path: Any) -> None:
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match="TRUSTED_PROXIES must be a number"):
        make_app(database_url, redis_url, str(tmp_path), TRUSTED_PROXIES="yes")
