"""Dashboard sign-in with Microsoft Entra ID: the OpenID Connect authorization code flow.

https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow
`/auth/oidc/start` keeps msal's flow (state, nonce, PKCE verifier) in the signed session and
sends the browser to Entra; Entra posts the answer to `/auth/oidc/callback` (response_mode
form_post, what msal recommends: the code stays out of URLs and logs). The callback redeems
the code, checks that the ID token names an admin (SCIM2ENTRA_ADMIN_GROUP in `groups` or
SCIM2ENTRA_ADMIN_ROLE in `roles`) and starts the dashboard session via the dashboard's
`sign_in(name, "oidc")`. Registered only when `enabled()`; the dashboard shows its "Sign in
with Microsoft Entra" button exactly when the `dashboard_oidc.start` endpoint exists.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

import requests
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from webapp import auth_oidc_client as oidc

log = logging.getLogger(__name__)

bp = Blueprint("dashboard_oidc", __name__, url_prefix="/auth/oidc")

FLOW_KEY = "oidc_flow"
NEXT_KEY = "oidc_next"
HOP_FIELD = "s2e_hop"
# What an authorization response may carry (RFC 6749 §4.1.2, Entra adds session_state).
ANSWER_FIELDS = ("code", "state", "session_state", "error", "error_description", "error_uri")
PAGE_POLICY = ("default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
               "form-action 'self'")


def init_app(app: Flask) -> None:
    """Register the sign-in routes when Entra sign-in is configured, else an explaining page."""
    if not oidc.enabled(app.config["SCIM2ENTRA"]):
        app.add_url_rule("/auth/oidc/start", "oidc_not_configured", _not_configured)
        return
    from webapp.dashboard import csrf

    # The callback receives Entra's cross-site POST, which cannot carry our CSRF token; the
    # flow's `state` (checked by msal) is the CSRF protection there (RFC 6749 §10.12).
    csrf.exempt(callback)
    app.register_blueprint(bp)


def _settings() -> dict[str, Any]:
    settings: dict[str, Any] = current_app.config["SCIM2ENTRA"]
    return settings


def _page(title: str, message: str, status: int) -> ResponseReturnValue:
    return render_template("auth_oidc/message.html", title=title, message=message), status


def _not_configured() -> ResponseReturnValue:
    return _page("Entra sign-in is not set up",
                 "Signing in with Microsoft Entra needs the app registration "
                 "(SCIM2ENTRA_TENANT_ID, _CLIENT_ID, _CLIENT_SECRET) and SCIM2ENTRA_ADMIN_GROUP "
                 "or SCIM2ENTRA_ADMIN_ROLE to say who is an admin.", 404)


def _unreachable(exc: Exception) -> ResponseReturnValue:
    log.warning("Entra sign-in: the authority cannot be reached: %s", exc)
    return _page("Microsoft Entra cannot be reached",
                 "The sign-in service did not answer. Try again in a moment.", 502)


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", PAGE_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.get("/start")
def start() -> ResponseReturnValue:
    from webapp.dashboard.login import safe_next

    try:
        flow = oidc.msal_app(_settings()).initiate_auth_code_flow(
            [], redirect_uri=url_for(".callback", _external=True),
            response_mode="form_post", prompt="select_account")
    except (requests.RequestException, ValueError) as exc:
        return _unreachable(exc)
    session[FLOW_KEY] = flow
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    return redirect(flow["auth_uri"])


@bp.route("/callback", methods=["GET", "POST"])
def callback() -> ResponseReturnValue:
    values = request.form if request.method == "POST" else request.args
    answer = {name: values[name] for name in ANSWER_FIELDS if name in values}
    flow = session.pop(FLOW_KEY, None)
    if flow is None:
        if request.method == "POST" and HOP_FIELD not in values and "state" in answer:
            return _hop(answer)
        log.warning("Entra sign-in: an answer arrived for no sign-in started in this browser")
        return _page("Sign-in expired",
                     "This sign-in was not started in this browser, or it has expired. "
                     "Start again from the sign-in page.", 400)
    next_url = session.pop(NEXT_KEY, None) or url_for("dashboard.overview")
    try:
        result = oidc.msal_app(_settings()).acquire_token_by_auth_code_flow(flow, answer)
    except ValueError as exc:  # msal: the state does not match the flow
        log.warning("Entra sign-in refused: %s", exc)
        return _page("Sign-in refused",
                     "The answer from Microsoft Entra does not belong to this sign-in. "
                     "Start again from the sign-in page.", 400)
    except requests.RequestException as exc:
        return _unreachable(exc)
    return _finish(result, next_url)


def _hop(answer: dict[str, str]) -> ResponseReturnValue:
    """Post Entra's answer again from our own origin, so the session cookie comes along."""
    nonce = secrets.token_urlsafe(16)
    html = render_template("auth_oidc/hop.html", action=url_for(".callback"), fields=answer,
                           hop_field=HOP_FIELD, nonce=nonce)
    policy = (f"default-src 'none'; script-src 'nonce-{nonce}'; form-action 'self'; "
              "frame-ancestors 'none'")
    return html, 200, {"Content-Security-Policy": policy}


def _finish(result: dict[str, Any], next_url: str) -> ResponseReturnValue:
    if "error" in result:
        log.warning("Entra sign-in failed: %s: %s", result.get("error"),
                    result.get("error_description"))
        return _page("Sign-in failed", "Microsoft Entra answered: "
                     f"{result.get('error_description') or result['error']}", 401)
    claims = result.get("id_token_claims") or {}
    name = oidc.display_name(claims)
    refusal = oidc.admin_refusal(claims, _settings())
    if refusal is not None:
        log.warning("Entra sign-in refused for %s: %s", name, refusal)
        return _page("Not a scim2entra admin",
                     f"You signed in to Microsoft Entra as {name}, but this account is not "
                     "allowed to use this dashboard: it is neither in the admin group nor "
                     "holds the admin app role. Ask an administrator to add you.", 403)
    from webapp.dashboard.login import sign_in

    sign_in(name, "oidc")
    log.info("dashboard sign-in: %s (oidc)", name)
    return redirect(next_url)
