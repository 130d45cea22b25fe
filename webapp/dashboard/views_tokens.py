"""SCIM token management: list, create (the token is shown once, in that response only), revoke.

The new token is rendered straight into the POST's response, never put in the flash: Flask's
session cookie is signed, not encrypted, so a token stored there would be readable.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from webapp.dashboard import bp
from webapp.dashboard.login import current_admin, login_required
from webapp.tokens import TokenError, create_token, list_tokens, revoke_token

MAX_NAME = 128


def _page(new_token: str | None = None, new_name: str | None = None, error: str | None = None,
          status: int = 200) -> ResponseReturnValue:
    html = render_template("dashboard/tokens.html", tokens=list_tokens(), new_token=new_token,
                           new_name=new_name, error=error)
    # Nothing may keep the page that shows a token: no cache, no back-button copy.
    return html, status, {"Cache-Control": "no-store"}


@bp.get("tokens")
@login_required
def tokens() -> ResponseReturnValue:
    return _page()


@bp.post("tokens")
@login_required
def token_create() -> ResponseReturnValue:
    name = request.form.get("name", "").strip()
    if len(name) > MAX_NAME:
        return _page(error=f"A token name has at most {MAX_NAME} characters.", status=400)
    try:
        token = create_token(name)
    except TokenError as exc:
        return _page(error=str(exc), status=400)
    current_app.logger.info("dashboard: %s created SCIM token %r",
                            (current_admin() or {}).get("name"), name)
    return _page(new_token=token, new_name=name)


@bp.post("tokens/revoke")
@login_required
def token_revoke() -> ResponseReturnValue:
    name = request.form.get("name", "")
    try:
        revoke_token(name)
    except TokenError as exc:
        return _page(error=str(exc), status=404)
    current_app.logger.info("dashboard: %s revoked SCIM token %r",
                            (current_admin() or {}).get("name"), name)
    flash(f"Token {name!r} revoked.", "ok")
    return redirect(url_for("dashboard.tokens"))
