"""SCIM with Entra-issued JWTs (client credentials for api://<app id>/.default, seed 003).

Tokens come from the emulator's real token endpoint through azure-identity, as a SCIM client
in Python would get them; the refused ones are real tokens with one thing wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from typing import Any

import jwt
import pytest
from azure.identity import ClientSecretCredential
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import SyncHarness
from tests.emulator.apps import App
from tests.emulator.clients import credential_kwargs
from tests.emulator.server import EntraEmulator

USER = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "m2m@example.com"}


def app_token(entra: EntraEmulator, caller: App, resource: str) -> str:
    """A client-credentials token for `caller`, asked for `resource`/.default."""
    credential = ClientSecretCredential(entra.tenant_id, caller.client_id, caller.secrets[0],
                                        **credential_kwargs(entra))
    return credential.get_token(f"{resource}/.default").token


@pytest.fixture
def caller(sync: SyncHarness) -> App:
    """A second app registration, the SCIM client calling us, allowed beside our own app."""
    app = sync.entra.register_app(roles=[], display_name="scim client")
    sync.configure(SCIM_ALLOWED_APPS=f"{sync.entra.client_id},{app.client_id}")
    return app


def own_app(entra: EntraEmulator) -> App:
    """scim2entra's own registration: seed 003 has the SCIM client use it."""
    return entra.apps.default


def scim_get(sync: SyncHarness, token: str) -> Any:
    return sync.app.test_client().get(
        "/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def test_v1_app_token_for_our_app_id_uri_is_accepted(sync: SyncHarness, caller: App) -> None:
    token = app_token(sync.entra, caller, f"api://{sync.entra.client_id}")
    assert claims_of(token)["iss"] == sync.entra.issuer_v1
    client = sync.app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/scim+json"}
    created = client.post("/scim/v2/Users", json=USER, headers=headers)
    assert created.status_code == 201, created.get_json()
    listed = client.get("/scim/v2/Users", headers=headers)
    assert listed.status_code == 200 and listed.get_json()["totalResults"] == 1


def test_v2_app_token_is_accepted(sync: SyncHarness, caller: App) -> None:
    sync.entra.apps.default.access_token_version = 2  # manifest accessTokenAcceptedVersion: 2
    token = app_token(sync.entra, caller, f"api://{sync.entra.client_id}")
    claims = claims_of(token)
    assert (claims["iss"], claims["aud"]) == (sync.entra.issuer_v2, sync.entra.client_id)
    assert scim_get(sync, token).status_code == 200


def test_static_tokens_still_work_beside_jwts(sync: SyncHarness) -> None:
    assert sync.scim.get("/Users").status_code == 200


def test_token_for_another_audience_is_refused(sync: SyncHarness, caller: App,
                                               caplog: pytest.LogCaptureFixture) -> None:
    other = sync.entra.register_app(roles=[])
    token = app_token(sync.entra, caller, f"api://{other.client_id}")
    with caplog.at_level(logging.WARNING, logger="scim.auth"):
        answer = scim_get(sync, token)
    assert answer.status_code == 401
    assert answer.get_json()["detail"] == "the bearer token is not valid"
    assert "InvalidAudienceError" in caplog.text and token not in caplog.text


def test_graph_token_is_refused(sync: SyncHarness, caller: App) -> None:
    # Seed 003's warning: a token asked for the Graph scope is not one for us.
    token = app_token(sync.entra, caller, "https://graph.microsoft.com")
    assert scim_get(sync, token).status_code == 401


def test_expired_token_is_refused(sync: SyncHarness, caller: App,
                                  caplog: pytest.LogCaptureFixture) -> None:
    sync.entra.advance_clock(-2 * 3600)  # issued two hours ago, valid for one
    token = app_token(sync.entra, caller, f"api://{sync.entra.client_id}")
    with caplog.at_level(logging.WARNING, logger="scim.auth"):
        assert scim_get(sync, token).status_code == 401
    assert "ExpiredSignatureError" in caplog.text


def test_token_not_yet_valid_is_refused(sync: SyncHarness, caller: App) -> None:
    sync.entra.advance_clock(600)  # nbf ten minutes ahead, beyond the allowed skew
    token = app_token(sync.entra, caller, f"api://{sync.entra.client_id}")
    assert scim_get(sync, token).status_code == 401


def _reissued(sync: SyncHarness, caller: App, **changes: Any) -> dict[str, Any]:
    claims = claims_of(app_token(sync.entra, caller, f"api://{sync.entra.client_id}"))
    claims.update(changes)
    return claims


def test_wrong_issuer_is_refused(sync: SyncHarness, caller: App) -> None:
    # Signed by the tenant's real key, but issued for another tenant.
    claims = _reissued(sync, caller, iss="https://sts.windows.net/another-tenant/")
    assert scim_get(sync, sync.entra.core.tokens.sign(claims)).status_code == 401


def test_token_signed_by_another_key_is_refused(sync: SyncHarness, caller: App) -> None:
    claims = _reissued(sync, caller)
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = sync.entra.core.tokens.kid  # claims to be signed by the tenant's key
    forged = jwt.encode(claims, forger, algorithm="RS256", headers={"kid": kid})
    assert scim_get(sync, forged).status_code == 401


def test_unsigned_token_is_refused(sync: SyncHarness, caller: App) -> None:
    unsigned = jwt.encode(_reissued(sync, caller), None, algorithm="none")
    assert scim_get(sync, unsigned).status_code == 401


def test_hs256_keyed_with_the_public_key_is_refused(sync: SyncHarness, caller: App) -> None:
    # The classic algorithm confusion (RFC 8725 §2.1): HMAC keyed with the public RSA key.
    public_pem = sync.entra.core.tokens.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": sync.entra.core.tokens.kid}
    signing_input = ".".join(
        base64url(json.dumps(part).encode()) for part in (header, _reissued(sync, caller)))
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert scim_get(sync, f"{signing_input}.{base64url(mac)}").status_code == 401


def test_delegated_user_token_is_refused(sync: SyncHarness, caller: App) -> None:
    claims = _reissued(sync, caller, scp="User.Read", idtyp="user")
    assert scim_get(sync, sync.entra.core.tokens.sign(claims)).status_code == 401


def test_seed_003_own_app_token_is_accepted_by_default(sync: SyncHarness) -> None:
    token = app_token(sync.entra, own_app(sync.entra), f"api://{sync.entra.client_id}")
    assert scim_get(sync, token).status_code == 200


def test_other_apps_of_the_tenant_are_refused_unless_allowed(
        sync: SyncHarness, caplog: pytest.LogCaptureFixture) -> None:
    # Any app registration of the tenant can get a token for our api:// URI.
    stranger = sync.entra.register_app(roles=[])
    token = app_token(sync.entra, stranger, f"api://{sync.entra.client_id}")
    with caplog.at_level(logging.WARNING, logger="scim.auth"):
        assert scim_get(sync, token).status_code == 401
    assert f"application {stranger.client_id} is not an allowed SCIM caller" in caplog.text
    sync.configure(SCIM_ALLOWED_APPS=f"00000000-0000-0000-0000-000000000001, {stranger.client_id}")
    assert scim_get(sync, token).status_code == 200
    own = app_token(sync.entra, own_app(sync.entra), f"api://{sync.entra.client_id}")
    assert scim_get(sync, own).status_code == 401  # the list replaces the default


def test_audience_setting_overrides_the_default(sync: SyncHarness, caller: App) -> None:
    token = app_token(sync.entra, caller, f"api://{sync.entra.client_id}")
    sync.configure(SCIM_AUDIENCE="api://scim.example.com")
    assert scim_get(sync, token).status_code == 401
    sync.configure(SCIM_AUDIENCE=f"api://scim.example.com,api://{sync.entra.client_id}")
    assert scim_get(sync, token).status_code == 200


def test_unreachable_key_set_is_a_401_not_a_500(sync: SyncHarness, caller: App,
                                                caplog: pytest.LogCaptureFixture) -> None:
    token = app_token(sync.entra, caller, f"api://{sync.entra.client_id}")
    sync.configure(AUTHORITY_URL="https://127.0.0.1:9")  # discard port: nothing listens
    with caplog.at_level(logging.WARNING, logger="scim.auth"):
        assert scim_get(sync, token).status_code == 401
    assert "PyJWKClientConnectionError" in caplog.text


def test_jwt_without_a_configured_tenant_is_refused(client: Any, entra: EntraEmulator) -> None:
    token = app_token(entra, own_app(entra), f"api://{entra.client_id}")
    answer = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401


@pytest.mark.parametrize("garbage", ["a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "x.y.z" * 50])
def test_malformed_jwts_are_a_401(sync: SyncHarness, garbage: str) -> None:
    assert scim_get(sync, garbage).status_code == 401
