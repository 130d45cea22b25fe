"""Bearer-token check for every SCIM path (RFC 7644 §2)."""

from __future__ import annotations

from flask import g, request

from scim.errors import Unauthorized
from webapp import tokens


def require_token() -> None:
    """Accept `Authorization: Bearer <token>` with a token of ours; else 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized("a bearer token is required")
    info = tokens.verify_token(presented.strip())
    if info is None:
        raise Unauthorized("the bearer token is not valid")
    g.scim_token = info.name
    tokens.touch(info.name, info.last_used_at)
