"""Token minting and validation.

Access tokens follow https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference
(v1.0 tokens: iss https://sts.windows.net/{tid}/, aud = resource URI, appid; v2.0 tokens:
iss {authority}/{tid}/v2.0, aud = app id, azp). ID tokens follow
https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from typing import Any
from urllib.parse import urlparse

import jwt
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from .apps import App
from .certs import b64url, make_self_signed, thumbprints
from .state import Clock

GRAPH_RESOURCE = "https://graph.microsoft.com"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_AUDIENCES = {GRAPH_RESOURCE, GRAPH_RESOURCE + "/", GRAPH_APP_ID}


class TokenInvalid(Exception):
    """The Graph-side reason a bearer token is refused (401 InvalidAuthenticationToken)."""


class TokenService:
    def __init__(self, tenant_id: str, clock: Clock) -> None:
        self.tenant_id = tenant_id
        self.clock = clock
        self.authority = ""  # set by the server once the HTTPS port is known
        self.lifetime = 3599  # expires_in of client-credential tokens
        self.key, self.cert = make_self_signed("emulator token signing")
        self.kid = thumbprints(self.cert)[0]
        self._valid: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    @property
    def issuer_v2(self) -> str:
        return f"{self.authority}/{self.tenant_id}/v2.0"

    @property
    def issuer_v1(self) -> str:
        return f"https://sts.windows.net/{self.tenant_id}/"

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        der = self.cert.public_bytes(serialization.Encoding.DER)
        jwk.update({"kid": self.kid, "x5t": self.kid, "use": "sig", "issuer": self.issuer_v2,
                    "x5c": [base64.b64encode(der).decode()]})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        headers = {"typ": "JWT", "kid": self.kid, "x5t": self.kid}
        return jwt.encode(claims, self.key, algorithm="RS256", headers=headers)

    def _times(self) -> dict[str, Any]:
        """Timestamps plus uti, the unique token id Entra puts into every token."""
        now = int(self.clock.now())
        return {"iat": now, "nbf": now, "exp": now + self.lifetime,
                "uti": b64url(uuid.uuid4().bytes)}

    def app_token(self, app: App, resource: str, version: int, cert_auth: bool) -> str:
        """Client-credentials token; ``resource`` is https://graph.microsoft.com or api://id."""
        claims: dict[str, Any] = {**self._times(), "tid": self.tenant_id,
                                  "oid": app.service_principal_id,
                                  "sub": app.service_principal_id, "idtyp": "app",
                                  "rh": "0.emulator"}
        if version == 2:
            claims.update({"ver": "2.0", "iss": self.issuer_v2, "azp": app.client_id,
                           "azpacr": "2" if cert_auth else "1",
                           "aud": resource.removeprefix("api://")})
        else:
            claims.update({"ver": "1.0", "iss": self.issuer_v1, "idp": self.issuer_v1,
                           "appid": app.client_id, "appidacr": "2" if cert_auth else "1",
                           "aud": resource, "app_displayname": app.display_name})
        roles = app.roles if resource == GRAPH_RESOURCE else app.api_roles
        if roles:
            claims["roles"] = list(roles)
        return self.sign(claims)

    def user_access_token(self, app: App, user: dict[str, Any], scopes: list[str]) -> str:
        claims = {**self._times(), "aud": GRAPH_RESOURCE, "iss": self.issuer_v1, "ver": "1.0",
                  "tid": self.tenant_id, "oid": user["id"], "sub": user["id"],
                  "appid": app.client_id, "appidacr": "1", "idtyp": "user",
                  "upn": user.get("userPrincipalName"), "name": user.get("displayName"),
                  "unique_name": user.get("userPrincipalName"), "scp": " ".join(scopes)}
        return self.sign(claims)

    def id_token(self, app: App, user: dict[str, Any], nonce: str | None,
                 groups: list[str], roles: list[str]) -> str:
        claims: dict[str, Any] = {
            **self._times(), "aud": app.client_id, "iss": self.issuer_v2, "ver": "2.0",
            "tid": self.tenant_id, "oid": user["id"], "sub": b64url(
                uuid.uuid5(uuid.NAMESPACE_URL, app.client_id + user["id"]).bytes),
            "preferred_username": user.get("userPrincipalName"),
            "name": user.get("displayName"), "email": user.get("mail"), "groups": groups,
        }
        if roles:
            claims["roles"] = roles
        if nonce is not None:
            claims["nonce"] = nonce
        return self.sign(claims)

    def validate_graph(self, token: str) -> dict[str, Any]:
        """Claims of a Graph bearer token, or TokenInvalid with the service's message."""
        with self._lock:
            claims = self._valid.get(token)
        if claims is None:
            claims = self._decode(token)
            with self._lock:
                if len(self._valid) > 10000:
                    self._valid.clear()
                self._valid[token] = claims
        if claims["exp"] <= self.clock.now():
            raise TokenInvalid("Lifetime validation failed, the token is expired.")
        if claims.get("aud") not in GRAPH_AUDIENCES:
            raise TokenInvalid("Access token validation failure. Invalid audience.")
        if claims.get("tid") != self.tenant_id:
            raise TokenInvalid("Access token validation failure. Invalid tenant.")
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        if token.count(".") != 2:
            raise TokenInvalid("IDX14100: JWT is not well formed, there are no dots (.).")
        try:
            return jwt.decode(token, self.key.public_key(), algorithms=["RS256"],
                              options={"verify_aud": False, "verify_exp": False,
                                       "verify_nbf": False, "verify_iat": False})
        except jwt.PyJWTError as exc:
            raise TokenInvalid("Access token validation failure.") from exc

    def verify_assertion(self, assertion: str, app: App) -> str | None:
        """Check a client assertion (jwt-bearer); returns an error description or None."""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return "AADSTS50027: JWT token is invalid or malformed."
        cert = app.cert_by_thumbprint(header.get("x5t"), header.get("x5t#S256"))
        if cert is None:
            return ("AADSTS700027: Client assertion failed signature validation. "
                    "[Reason - The key was not found.]")
        key: Any = cert.public_key()
        try:
            claims = jwt.decode(assertion, key, algorithms=["RS256", "PS256"],
                                options={"verify_aud": False, "require": ["exp", "aud"]},
                                leeway=300)
        except jwt.PyJWTError as exc:
            return f"AADSTS700027: Client assertion failed signature validation. [{exc}]"
        path = urlparse(str(claims["aud"])).path
        if not path.endswith(("/oauth2/v2.0/token", "/oauth2/token")):
            return "AADSTS700016: Client assertion audience claim does not match."
        if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
            return "AADSTS700023: Client assertion issuer or subject does not match client id."
        return None
