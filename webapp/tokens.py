"""SCIM bearer tokens: random, shown once, stored as SHA-256, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import ScimToken, utcnow

TOKEN_PREFIX = "s2e_"


class TokenError(ValueError):
    """A token command that cannot be done; the message is for the admin."""


@dataclass(frozen=True)
class TokenInfo:
    name: str
    created_at: datetime
    last_used_at: datetime | None


def _digest(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 (no slow KDF) is safe and cheap to
    # check on every SCIM request.
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(name: str) -> str:
    name = name.strip()
    if not name:
        raise TokenError("a token needs a name")
    if db.session.scalar(select(ScimToken).where(ScimToken.name == name)) is not None:
        raise TokenError(f"a token named {name!r} exists already; revoke it first")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(ScimToken(name=name, token_hash=_digest(token)))
    db.session.commit()
    return token


def list_tokens() -> list[TokenInfo]:
    rows = db.session.scalars(select(ScimToken).order_by(ScimToken.name))
    return [TokenInfo(r.name, r.created_at, r.last_used_at) for r in rows]


def revoke_token(name: str) -> None:
    row = db.session.scalar(select(ScimToken).where(ScimToken.name == name))
    if row is None:
        raise TokenError(f"no token named {name!r}")
    db.session.delete(row)
    db.session.commit()
    _recent.pop(row.token_hash, None)  # at once in this process


# Valid tokens seen in the last few seconds, by digest: a SCIM burst then costs no database
# round trip per request. A revocation reaches every process within CACHE_SECONDS.
CACHE_SECONDS = 5.0
_recent: dict[str, tuple[float, TokenInfo]] = {}


def verify_token(presented: str) -> TokenInfo | None:
    """The token's record when `presented` is a valid token, else None."""
    digest = _digest(presented)
    cached = _recent.get(digest)
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    info = _lookup(digest)
    if info is None:
        _recent.pop(digest, None)
    else:
        if len(_recent) > 1000:
            _recent.clear()
        _recent[digest] = (time.monotonic(), info)
    return info


def _lookup(digest: str) -> TokenInfo | None:
    row = db.session.scalar(select(ScimToken).where(ScimToken.token_hash == digest))
    # The lookup is by digest; the constant-time compare guards against any timing
    # difference in how the database compared it.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return TokenInfo(row.name, row.created_at, row.last_used_at)


def touch(name: str, last_used_at: datetime | None) -> None:
    """Record use at most every five minutes per token, keeping SCIM requests write-light."""
    now = utcnow()
    if last_used_at is not None and (now - last_used_at).total_seconds() < 300:
        return
    db.session.execute(
        ScimToken.__table__.update().where(ScimToken.name == name).values(last_used_at=now)
    )
    db.session.commit()
    for digest, (seen, info) in list(_recent.items()):
        if info.name == name:
            _recent[digest] = (seen, TokenInfo(info.name, info.created_at, now))
