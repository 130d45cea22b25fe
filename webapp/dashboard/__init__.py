"""The admin dashboard: server-rendered pages behind a sign-in, CSRF on every form.

`init_app` wires what the whole app needs for it (CSRF, cookie policy, proxy headers) and
registers the blueprint; the views live in one module per concern.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Flask, Request, Response, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

bp = Blueprint("dashboard", __name__, url_prefix="/")
csrf = CSRFProtect()

SESSION_LIFETIME = timedelta(hours=8)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie gets `Secure` whenever the request came over https.

    Flask's own setting is static; behind a TLS-terminating proxy, ProxyFix (only when
    SCIM2ENTRA_TRUSTED_PROXIES is set) makes `request.is_secure` reflect X-Forwarded-Proto.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        forced = bool(app.config.get("SESSION_COOKIE_SECURE"))
        return forced or (has_request_context() and request.is_secure)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # No cookie, an empty session: what Flask would return, without building the
        # signer first: 21 us of every SCIM request, which never sends a cookie.
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    _trust_proxies(app)
    app.session_interface = _SessionInterface()
    # Not setdefault: Flask's own default (31 days) is always present.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    # The token lives as long as the session that holds it (the 1 h default would break a
    # dashboard tab left open).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    # SCIM clients authenticate with bearer tokens, orchestrators probe health: no cookies,
    # so no CSRF risk and no token to send.
    from scim.blueprint import bp as scim_bp
    from webapp import health

    csrf.exempt(scim_bp)
    csrf.exempt(health.bp)

    from webapp.dashboard import (  # noqa: F401  (the modules attach their views to bp)
        actions,
        login,
        views_config,
        views_objects,
        views_overview,
        views_tokens,
    )

    app.register_blueprint(bp)
    app.register_error_handler(CSRFError, _csrf_failed)


@bp.after_request
def _security_headers(response: Response) -> Response:
    """Same-origin everything: the pages load nothing from elsewhere and are never framed."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _trust_proxies(app: Flask) -> None:
    """Honour X-Forwarded-* from this many proxies; never by default (they can be forged)."""
    raw = app.config["SCIM2ENTRA"].get("TRUSTED_PROXIES")
    if not raw:
        return
    try:
        hops = int(raw)
    except ValueError as exc:
        from webapp.config import ConfigError

        raise ConfigError(
            f"SCIM2ENTRA_TRUSTED_PROXIES must be a number of proxies, not {raw!r}") from exc
    app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


# On the blueprint as well as the app: the blueprint's own 400 handler would win otherwise.
@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    from flask import render_template

    return render_template("dashboard/error.html", title="Form expired or forged",
                           message=error.description), 400
