"""App registrations (client id, secrets, certificates, granted permissions) and the
short-lived state of the authorization-code flow (codes, refresh tokens, signed-in user).
"""

from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from .certs import make_client_cert, thumbprints

# The application permissions scim2entra's setup guide grants (seed 002, authentik docs).
DEFAULT_PERMISSIONS = [
    "Group.Create", "Group.ReadWrite.All", "GroupMember.ReadWrite.All", "User.Read",
    "User.ReadWrite.All",
]


def new_secret() -> str:
    """Entra client secrets look like ``abc8Q~`` followed by 34 characters."""
    return "Emu8Q~" + secrets.token_urlsafe(26)[:34]


@dataclass
class App:
    client_id: str
    secrets: list[str]
    roles: list[str]
    display_name: str = "scim2entra"
    certificates: list[x509.Certificate] = field(default_factory=list)
    redirect_uris: list[str] = field(default_factory=list)  # empty: any redirect accepted
    access_token_version: int = 1  # manifest accessTokenAcceptedVersion (null means v1)
    api_roles: list[str] = field(default_factory=list)  # roles in tokens for api://<app id>
    service_principal_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def cert_by_thumbprint(self, x5t: str | None, x5t256: str | None) -> x509.Certificate | None:
        for cert in self.certificates:
            sha1, sha256 = thumbprints(cert)
            if (x5t256 and x5t256.rstrip("=") == sha256) or (x5t and x5t.rstrip("=") == sha1):
                return cert
        return None


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    user_id: str
    scopes: list[str]
    nonce: str | None
    code_challenge: str | None
    expires: float


class AppRegistry:
    """All app registrations of the tenant plus the default one scim2entra uses."""

    def __init__(self, client_id: str, secret: str) -> None:
        self.lock = threading.RLock()
        self.default_client_id = client_id
        self.default_secret = secret
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.apps: dict[str, App] = {}
            self.codes: dict[str, AuthCode] = {}
            self.refresh_tokens: dict[str, dict[str, Any]] = {}
            self.signed_in_user: str | None = None
            self.user_roles: dict[str, list[str]] = {}  # app-role values per user (id token)
            self.register(self.default_client_id, self.default_secret, DEFAULT_PERMISSIONS)

    @property
    def default(self) -> App:
        return self.apps[self.default_client_id]

    def register(self, client_id: str | None = None, secret: str | None = None,
                 roles: list[str] | None = None, **kwargs: Any) -> App:
        with self.lock:
            app = App(
                client_id=client_id or str(uuid.uuid4()), secrets=[secret or new_secret()],
                roles=list(DEFAULT_PERMISSIONS if roles is None else roles), **kwargs,
            )
            self.apps[app.client_id] = app
            return app

    def add_certificate(self, client_id: str | None = None) -> tuple[bytes, x509.Certificate]:
        """Generate a client certificate and register it on the app; returns (PEM, cert)."""
        pem, cert = make_client_cert()
        self.apps[client_id or self.default_client_id].certificates.append(cert)
        return pem, cert

    def new_code(self, code: AuthCode) -> str:
        value = secrets.token_urlsafe(32)
        self.codes[value] = code
        return value

    def new_refresh_token(self, data: dict[str, Any]) -> str:
        value = secrets.token_urlsafe(48)
        self.refresh_tokens[value] = data
        return value
