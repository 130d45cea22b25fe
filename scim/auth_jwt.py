"""Entra-issued JWTs as SCIM bearer tokens (machine-to-machine, seed 003).

A SCIM client gets a token by the client-credentials grant with the scope
`api://<our client id>/.default`; Entra answers with an access token whose audience is that
application ID URI. We validate it the way the access token reference prescribes
(https://learn.microsoft.com/en-us/entra/identity-platform/access-tokens#validate-tokens):
RS256 signature by a key of the tenant's JWKS, issuer, audience, lifetime; then the caller.
PyJWT does the JOSE work (well kept, already a dependency through the Graph SDK stack);
its PyJWKClient caches the key set and refetches at most once per cool-down on an unknown
`kid`, so garbage tokens cannot make us hammer the authority.
"""

from __future__ import annotations

import re
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from webapp.config import as_list

# Three base64url segments: the compact JWS serialisation (RFC 7515 §7.1). Our static tokens
# ("s2e_…", url-safe base64 without dots) never match.
JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# Entra signs access tokens with RS256 only; listing one algorithm also rules out "none" and
# HS256-with-the-public-key confusion (RFC 8725 §3.1).
ALGORITHMS = ["RS256"]
# Clock skew tolerated on exp/nbf, in seconds.
LEEWAY_SECONDS = 60
# Key sets are re-read every hour; an unknown kid forces a refetch at most every 5 minutes.
JWKS_LIFESPAN = 3600
JWKS_COOLDOWN = 300
JWKS_TIMEOUT = 10


class JwtRejected(Exception):
    """Why a JWT was refused: for the log, never for the caller (and never the token)."""


@dataclass(frozen=True)
class JwtSettings:
    jwks_url: str
    issuers: tuple[str, ...]
    audiences: tuple[str, ...]
    allowed_apps: frozenset[str]
    ca_bundle: str | None


def looks_like_jwt(value: str) -> bool:
    return JWT_SHAPE.fullmatch(value) is not None


def settings_for(config: Mapping[str, Any]) -> JwtSettings | None:
    """What a valid token must carry, from SCIM2ENTRA_* settings; None when no tenant is set."""
    tenant = (config.get("TENANT_ID") or "").strip().lower()
    client_id = (config.get("CLIENT_ID") or "").strip()
    if not tenant or not client_id:
        return None
    authority = str(config.get("AUTHORITY_URL") or "").rstrip("/")
    # v1.0 tokens (what client credentials for an api:// scope yield unless the app's manifest
    # asks for v2) are issued by sts.windows.net; v2.0 tokens by the authority itself.
    issuers = (f"https://sts.windows.net/{tenant}/", f"{authority}/{tenant}/v2.0")
    audiences = tuple(as_list(config.get("SCIM_AUDIENCE"))) or (f"api://{client_id}", client_id)
    # Any app registration of the tenant can get a token for our api:// URI by client
    # credentials (no role assignment needed unless the app requires one), so the callers are
    # named: by default our own registration, as seed 003 sets the SCIM client up.
    allowed = as_list(config.get("SCIM_ALLOWED_APPS")) or [client_id]
    return JwtSettings(
        jwks_url=f"{authority}/{tenant}/discovery/v2.0/keys",
        issuers=issuers,
        audiences=audiences,
        allowed_apps=frozenset(a.lower() for a in allowed),
        ca_bundle=config.get("CA_BUNDLE") or None,
    )


_clients: dict[tuple[str, str | None], jwt.PyJWKClient] = {}
_clients_lock = threading.Lock()


def _jwks_client(settings: JwtSettings) -> jwt.PyJWKClient:
    """One cached key-set client per authority and CA bundle, shared by all requests."""
    key = (settings.jwks_url, settings.ca_bundle)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            context = ssl.create_default_context(cafile=settings.ca_bundle)
            client = jwt.PyJWKClient(
                settings.jwks_url, lifespan=JWKS_LIFESPAN, timeout=JWKS_TIMEOUT,
                ssl_context=context, cooldown_duration=JWKS_COOLDOWN,
            )
            _clients[key] = client
        return client


def verify(token: str, settings: JwtSettings) -> str:
    """The calling application's id when `token` is valid for us; else JwtRejected."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise JwtRejected(f"malformed JWT: {exc}") from exc
    if header.get("alg") not in ALGORITHMS:
        raise JwtRejected(f"algorithm {header.get('alg')!r} is not accepted")
    try:
        signing_key = _jwks_client(settings).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token, signing_key, algorithms=ALGORITHMS, audience=list(settings.audiences),
            issuer=settings.issuers, leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise JwtRejected(f"{type(exc).__name__}: {exc}") from exc
    return _caller(claims, settings)


def _caller(claims: dict[str, Any], settings: JwtSettings) -> str:
    # `scp` is only in delegated (user) tokens; SCIM provisioning is app-to-app
    # (https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference).
    if "scp" in claims:
        raise JwtRejected("a delegated (user) token is not accepted, only application tokens")
    # v1.0 tokens name the caller in `appid`, v2.0 tokens in `azp`.
    caller = str(claims.get("appid") or claims.get("azp") or "")
    if not caller:
        raise JwtRejected("the token names no calling application (appid/azp)")
    if caller.lower() not in settings.allowed_apps:
        raise JwtRejected(f"application {caller} is not an allowed SCIM caller "
                          "(SCIM2ENTRA_SCIM_ALLOWED_APPS, default: our own client id)")
    return caller
