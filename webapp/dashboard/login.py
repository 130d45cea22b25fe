"""Sign-in: the session contract, `login_required`, and the local sign-in page.

A signed-in admin is `session["admin"] = {"name", "method": "password"|"oidc"|"token", "at"}`.
Methods (CONTRACT.md, SCIM2ENTRA_ADMIN_PASSWORD): a local password when one is set; else Entra
OIDC (the `dashboard_oidc` blueprint, when registered); else a "first-run token": any valid
SCIM bearer token, so a fresh install can be administered with the token `run` printed.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from redis.exceptions import RedisError

from webapp.dashboard import bp, throttle
from webapp.models import utcnow
from webapp.tokens import verify_token

F = TypeVar("F", bound=Callable[..., Any])
OIDC_START = "dashboard_oidc.start"
PASSWORD_ACCOUNT = "admin"


def current_admin() -> dict[str, Any] | None:
    admin = session.get("admin")
    return admin if isinstance(admin, dict) and admin.get("name") else None


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_admin() is None:
            return redirect(url_for("dashboard.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return cast(F, wrapped)


def sign_in(name: str, method: str) -> None:
    """Start an admin session. A fresh session: an id planted before sign-in is worthless."""
    session.clear()
    session.permanent = True  # PERMANENT_SESSION_LIFETIME (8 h) instead of "until closed"
    session["admin"] = {"name": name, "method": method, "at": utcnow().isoformat()}


def sign_out() -> None:
    session.clear()


def oidc_enabled() -> bool:
    return OIDC_START in current_app.view_functions


def local_method() -> str | None:
    """The local sign-in form to show: "password", "token", or None (Entra only)."""
    if current_app.config["SCIM2ENTRA"].get("ADMIN_PASSWORD"):
        return "password"
    return None if oidc_enabled() else "token"


def safe_next(target: str | None) -> str:
    """Only a path on this site: `next` must not send a fresh admin to someone else's page."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not target.startswith("/") \
            or target.startswith("//") or "\\" in target:
        return url_for("dashboard.overview")
    return target


def _password_ok(presented: str) -> bool:
    expected = str(current_app.config["SCIM2ENTRA"]["ADMIN_PASSWORD"])
    # Digests first: compare_digest then compares equal lengths, leaking nothing about
    # the password's length.
    return hmac.compare_digest(hashlib.sha256(presented.encode()).digest(),
                               hashlib.sha256(expected.encode()).digest())


def _client_ip() -> str:
    return request.remote_addr or "unknown"


def _check_credentials(method: str) -> str | None:
    """The admin's name when the form's credentials are right, else None."""
    if method == "password":
        return PASSWORD_ACCOUNT if _password_ok(request.form.get("password", "")) else None
    info = verify_token(request.form.get("token", "").strip())
    return f"token:{info.name}" if info is not None else None


def _page(method: str | None, error: str | None = None, status: int = 200,
          retry_after: int = 0) -> ResponseReturnValue:
    html = render_template("dashboard/login.html", method=method, error=error,
                           oidc_enabled=oidc_enabled(), next=request.values.get("next", ""),
                           retry_after=retry_after)
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return html, status, headers


@bp.route("login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    method = local_method()
    if request.method == "GET" or method is None:
        return _page(method)
    account = PASSWORD_ACCOUNT if method == "password" else "token"
    try:
        verdict = throttle.check(_client_ip(), account)
    except (RedisError, OSError):
        # Without the failure counters guessing would be unlimited: refuse, and say why.
        # Sessions already open keep working; the CLI needs no sign-in.
        current_app.logger.error("dashboard sign-in refused: Redis unreachable")
        return _page(method, "Sign-in is unavailable while Redis is unreachable "
                     "(it holds the failed sign-in counters). Try again shortly.", 503)
    if not verdict.allowed:
        return _page(method, f"Too many failed sign-ins. Try again in {verdict.retry_after} s.",
                     429, verdict.retry_after)
    name = _check_credentials(method)
    if name is None:
        throttle.failed(_client_ip(), account)
        current_app.logger.warning("dashboard sign-in failed from %s", _client_ip())
        return _page(method, "Wrong password." if method == "password" else "Unknown token.",
                     401)
    throttle.succeeded(_client_ip(), account)
    sign_in(name, method)
    current_app.logger.info("dashboard sign-in: %s (%s)", name, method)
    return redirect(safe_next(request.form.get("next")))


@bp.post("logout")
def logout() -> ResponseReturnValue:
    sign_out()
    return redirect(url_for("dashboard.login"))
