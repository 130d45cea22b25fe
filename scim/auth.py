"""Bearer-token check for every SCIM path (RFC 7644 §2).

Two kinds of bearer are accepted: our static tokens (`scim2entra token create`) and, when a
tenant is configured, Entra-issued application JWTs (scim/auth_jwt.py).
"""

from __future__ import annotations

import logging

from flask import current_app, g, request

from scim import auth_jwt
from scim.errors import Unauthorized
from webapp import tokens

log = logging.getLogger(__name__)


def require_token() -> None:
    """Accept `Authorization: Bearer <token>` with a token of ours; else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("a bearer token is required")
    if auth_jwt.looks_like_jwt(presented.strip()):
        g.scim_token = "jwt:" + _jwt_caller(presented.strip())
        return
    info = tokens.verify_token(presented.strip())
    if info is None:
        raise Unauthorized("the bearer token is not valid")
    g.scim_token = info.name
    tokens.touch(info.name, info.last_used_at)


def _jwt_caller(token: str) -> str:
    """The calling app id of a valid Entra JWT; else 401, with the reason logged (not the token)."""
    settings = auth_jwt.settings_for(current_app.config["SCIM2ENTRA"])
    if settings is None:
        log.warning("SCIM JWT refused: no tenant is configured (SCIM2ENTRA_TENANT_ID/_CLIENT_ID)")
        raise Unauthorized("the bearer token is not valid")
    try:
        return auth_jwt.verify(token, settings)
    except auth_jwt.JwtRejected as exc:
        log.warning("SCIM JWT refused: %s", exc)
        raise Unauthorized("the bearer token is not valid") from None
