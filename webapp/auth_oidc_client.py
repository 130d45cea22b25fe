"""The msal client and the admin rule behind Entra sign-in (webapp/auth_oidc.py).

msal (Microsoft's own library, already installed with azure-identity) runs the authorization
code flow with PKCE, state and nonce, and validates the ID token's issuer, audience, nonce and
lifetime. It does not check the ID token's signature: the token comes straight from the token
endpoint over TLS, which OpenID Connect Core §3.1.3.7 (6) accepts in place of one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msal
import requests

from webapp.config import has_credentials

HTTP_TIMEOUT_SECONDS = 15


def enabled(settings: dict[str, Any]) -> bool:
    """Entra sign-in needs the app registration and a rule saying who is an admin."""
    return has_credentials(settings) and bool(
        settings.get("ADMIN_GROUP") or settings.get("ADMIN_ROLE"))


class _PinnedSession(requests.Session):
    """A requests session whose CA bundle wins over REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE.

    requests lets those environment variables replace a session's `verify` (msal's `verify=`
    too); proxies from the environment are kept, unlike with `trust_env = False`.
    """

    def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        merged: dict[str, Any] = super().merge_environment_settings(*args, **kwargs)
        merged["verify"] = self.verify
        return merged


def http_session(ca_bundle: str | None) -> requests.Session:
    if not ca_bundle:
        return requests.Session()
    session = _PinnedSession()
    session.verify = ca_bundle
    return session


def _client_credential(settings: Mapping[str, Any]) -> Any:
    """The client secret, or the certificate (PEM with its key) as msal takes it."""
    if settings.get("CLIENT_SECRET"):
        return settings["CLIENT_SECRET"]
    with open(settings["CLIENT_CERTIFICATE"], encoding="ascii") as pem_file:
        pem = pem_file.read()
    # msal computes the SHA-256 thumbprint from the certificate (msal >= 1.35).
    return {"private_key": pem, "public_certificate": pem}


def msal_app(settings: Mapping[str, Any]) -> msal.ConfidentialClientApplication:
    """A fresh client per sign-in step: its token cache then never mixes two admins' tokens.

    Building one reads the tenant's OpenID configuration (one HTTPS request).
    """
    authority = f"{str(settings['AUTHORITY_URL']).rstrip('/')}/{settings['TENANT_ID']}"
    return msal.ConfidentialClientApplication(
        settings["CLIENT_ID"],
        client_credential=_client_credential(settings),
        authority=authority,
        # Instance discovery asks login.microsoftonline.com whether the authority is a known
        # cloud; a sovereign cloud or the test emulator is configured explicitly instead.
        instance_discovery=False,
        http_client=http_session(settings.get("CA_BUNDLE")),
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def admin_refusal(claims: Mapping[str, Any], settings: Mapping[str, Any]) -> str | None:
    """None when the ID token's claims make its user an admin, else why not (for the log).

    Claims: https://learn.microsoft.com/en-us/entra/identity-platform/id-token-claims-reference
    (`roles`: app roles assigned to the user; `groups`: group object ids, when the app's
    groupMembershipClaims asks for them).
    """
    role = settings.get("ADMIN_ROLE")
    group = str(settings.get("ADMIN_GROUP") or "").lower()
    if role and role in (claims.get("roles") or []):
        return None
    groups = claims.get("groups")
    if group and isinstance(groups, list) and group in {str(g).lower() for g in groups}:
        return None
    if group and groups is None and "groups" in (claims.get("_claim_names") or {}):
        # Group overage: past 200 groups Entra leaves them out of the token and points to Graph.
        return ("the user is in too many groups for the token to list them; "
                "use SCIM2ENTRA_ADMIN_ROLE or emit only groups assigned to the application")
    wanted = []
    if group:
        wanted.append(f"the admin group {group}")
    if role:
        wanted.append(f"the app role {role}")
    return f"the ID token carries neither {' nor '.join(wanted)}"


def display_name(claims: Mapping[str, Any]) -> str:
    return str(claims.get("preferred_username") or claims.get("name") or claims.get("oid")
               or "unknown")
