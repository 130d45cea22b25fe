"""Authorization-code flow for dashboard sign-in tests.

https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow — the
authorize endpoint signs in a configured test user at once (``apps.signed_in_user``) or shows a
minimal username/password form; the token endpoint redeems the code (PKCE checked when sent)
for an access token, an ID token (groups, roles, preferred_username, oid, nonce) and a refresh
token, and returns client_info when asked (MSAL asks).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from .apps import App, AuthCode
from .certs import b64url
from .core import Core, html_response, json_response, redirect
from .errors import aadsts
from .httpserver import Request, Response

FORM = """<!doctype html><html><head><title>Sign in - Entra emulator</title></head><body>
<h1>Sign in</h1><p style="color:red">{error}</p>
<form method="post" action="">{hidden}
<label>Username <input name="login" value="{login}"></label>
<label>Password <input name="passwd" type="password"></label>
<button type="submit">Sign in</button></form></body></html>"""
FORM_POST = """<!doctype html><html><body onload="document.forms[0].submit()">
<form method="post" action="{action}">{fields}</form></body></html>"""
PARAMS = ("client_id", "response_type", "redirect_uri", "scope", "state", "nonce",
          "code_challenge", "code_challenge_method", "response_mode", "prompt", "login_hint")


def _error_page(status: int, number: int, text: str) -> Response:
    return html_response(status, f"<html><body><h1>AADSTS{number}</h1><p>"
                                 f"{html.escape(text)}</p></body></html>")


def authorize(core: Core, req: Request) -> Response:
    params = dict(parse_qsl(req.query, keep_blank_values=True))
    if req.method == "POST":
        params.update(parse_qsl(req.body.decode(), keep_blank_values=True))
    app = core.apps.apps.get(params.get("client_id", ""))
    if app is None:
        return _error_page(400, 700016, "Application was not found in the directory.")
    uri = params.get("redirect_uri", "")
    if not uri or (app.redirect_uris and uri not in app.redirect_uris):
        return _error_page(400, 50011, f"The redirect URI '{uri}' specified in the request "
                                       "does not match the redirect URIs configured for the "
                                       "application.")
    if "code" not in params.get("response_type", "").split():
        return _redirect(params, {"error": "unsupported_response_type"})
    user, problem = _sign_in(core, req, params)
    if user is None:
        return _form(params, problem)
    code = core.apps.new_code(AuthCode(
        app.client_id, uri, user["id"], params.get("scope", "").split(),
        params.get("nonce"), params.get("code_challenge"), time.time() + 600))
    return _redirect(params, {"code": code, "state": params.get("state"),
                              "session_state": "emulator-session"})


def _sign_in(core: Core, req: Request, params: dict[str, str]
             ) -> tuple[dict[str, Any] | None, str]:
    with core.state.lock:
        if core.apps.signed_in_user and "login" not in params:
            user = core.state.find_user(core.apps.signed_in_user)
            return (user, "") if user else (None, "Configured signed-in user does not exist.")
        if req.method != "POST" or "login" not in params:
            return None, ""
        user = core.state.find_user(params["login"])
        if user is None or core.state.passwords.get(user["id"]) != params.get("passwd"):
            return None, ("AADSTS50126: Error validating credentials due to invalid username or "
                          "password.")
        if not user.get("accountEnabled", True):
            return None, "AADSTS50057: The user account is disabled."
        return user, ""


def _form(params: dict[str, str], error: str) -> Response:
    hidden = "".join(
        f'<input type="hidden" name="{k}" value="{html.escape(params[k])}">'
        for k in PARAMS if k in params)
    page = FORM.format(error=html.escape(error), hidden=hidden,
                       login=html.escape(params.get("login", params.get("login_hint", ""))))
    return html_response(200 if not error else 400, page)


def _redirect(params: dict[str, str], values: dict[str, Any]) -> Response:
    values = {k: v for k, v in values.items() if v is not None}
    uri, mode = params["redirect_uri"], params.get("response_mode", "query")
    if mode == "form_post":
        fields = "".join(f'<input type="hidden" name="{k}" value="{html.escape(str(v))}">'
                         for k, v in values.items())
        return html_response(200, FORM_POST.format(action=html.escape(uri), fields=fields))
    sep = "#" if mode == "fragment" else ("&" if "?" in uri else "?")
    return redirect(uri + sep + urlencode(values))


def logout(req: Request) -> Response:
    target = dict(parse_qsl(req.query)).get("post_logout_redirect_uri")
    return redirect(target) if target else html_response(200, "<p>Signed out.</p>")


def _invalid_grant(number: int, text: str) -> Response:
    status, body = aadsts("invalid_grant", number, text)
    return json_response(status, body, {"Cache-Control": "no-store"})


def _pkce_ok(challenge: str | None, verifier: str | None) -> bool:
    if not challenge:
        return True
    digest = hashlib.sha256((verifier or "").encode()).digest()
    return b64url(digest) == challenge or verifier == challenge


def redeem(core: Core, app: App, form: dict[str, str]) -> Response:
    """grant_type=authorization_code or refresh_token."""
    if form["grant_type"] == "refresh_token":
        data = core.apps.refresh_tokens.get(form.get("refresh_token", ""))
        if data is None or data["client_id"] != app.client_id:
            return _invalid_grant(9002313, "Invalid request. Request is malformed or invalid.")
        return _issue(core, app, data["user_id"], data["scopes"], None, form)
    code = core.apps.codes.pop(form.get("code", ""), None)
    if code is None or code.expires < time.time() or code.client_id != app.client_id:
        return _invalid_grant(70008, "The provided authorization code or refresh token has "
                                     "expired due to inactivity or was already redeemed.")
    if form.get("redirect_uri") != code.redirect_uri:
        return _invalid_grant(500117, "The reply uri specified in the request does not match "
                                      "the reply uri used in the authorization request.")
    if not _pkce_ok(code.code_challenge, form.get("code_verifier")):
        return _invalid_grant(501481, "The Code_Verifier does not match the code_challenge "
                                      "supplied in the authorization request.")
    return _issue(core, app, code.user_id, code.scopes, code.nonce, form)


def _transitive_groups(core: Core, object_id: str) -> list[str]:
    seen: list[str] = []
    todo = core.state.groups_of(object_id)
    while todo:
        gid = todo.pop()
        if gid not in seen:
            seen.append(gid)
            todo.extend(core.state.groups_of(gid))
    return seen


def _issue(core: Core, app: App, user_id: str, scopes: list[str], nonce: str | None,
           form: dict[str, str]) -> Response:
    with core.state.lock:
        user = core.state.users.get(user_id)
        if user is None:
            return _invalid_grant(50034, "The user account does not exist in the directory.")
        groups = _transitive_groups(core, user_id)
    resource_scopes = [s for s in scopes if s not in ("openid", "profile", "email",
                                                      "offline_access")] or ["User.Read"]
    granted = [s.rsplit("/", 1)[-1] for s in resource_scopes]
    lifetime = core.tokens.lifetime
    body: dict[str, Any] = {
        "token_type": "Bearer", "scope": " ".join([*granted, "openid", "profile", "email"]),
        "expires_in": lifetime, "ext_expires_in": lifetime,
        "access_token": core.tokens.user_access_token(app, user, granted),
        "id_token": core.tokens.id_token(app, user, nonce, groups,
                                         core.apps.user_roles.get(user_id, [])),
    }
    if "offline_access" in scopes or form["grant_type"] == "refresh_token":
        body["refresh_token"] = core.apps.new_refresh_token(
            {"client_id": app.client_id, "user_id": user_id, "scopes": scopes})
    if form.get("client_info") == "1":
        info = json.dumps({"uid": user_id, "utid": core.tenant_id}).encode()
        body["client_info"] = base64.urlsafe_b64encode(info).decode().rstrip("=")
    return json_response(200, body, {"Cache-Control": "no-store"})
