"""Emulator identity endpoints through azure-identity, msgraph-sdk and msal (auth code flow)."""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import jwt
import msal
import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import CertificateCredential
from azure.identity.aio import AuthorizationCodeCredential
from azure.identity.aio import CertificateCredential as AioCertificateCredential
from msgraph import GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from tests.emulator.clients import (
    aio_credential,
    credential_kwargs,
    graph_client,
    run_graph,
    sync_credential,
)
from tests.emulator.server import EntraEmulator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
GRAPH_SCOPE = "https://graph.microsoft.com/.default"


def verified_claims(entra: EntraEmulator, token: str, audience: str) -> dict[str, Any]:
    """Check the signature against the published JWKS, as a resource server would."""
    config = httpx.get(f"{entra.authority_url}/{entra.tenant_id}/v2.0/.well-known/"
                       "openid-configuration", verify=entra.ca_bundle).json()
    client = jwt.PyJWKClient(config["jwks_uri"],
                             ssl_context=ssl.create_default_context(cafile=entra.ca_bundle))
    key = client.get_signing_key_from_jwt(token)
    return jwt.decode(token, key.key, algorithms=["RS256"], audience=audience)


def test_sync_client_secret_token(entra: EntraEmulator) -> None:
    token = sync_credential(entra).get_token(GRAPH_SCOPE).token
    # the sync credential (MSAL) discovers the tenant first, then posts to the token endpoint
    paths = [e.path for e in entra.audit.filter(kind="identity")]
    assert paths == [f"/{entra.tenant_id}/v2.0/.well-known/openid-configuration",
                     f"/{entra.tenant_id}/oauth2/v2.0/token"]
    claims = verified_claims(entra, token, "https://graph.microsoft.com")
    assert claims["tid"] == entra.tenant_id and claims["appid"] == entra.client_id
    assert claims["iss"] == entra.issuer_v1 and claims["appidacr"] == "1"
    assert set(claims["roles"]) == {"Group.Create", "Group.ReadWrite.All",
                                    "GroupMember.ReadWrite.All", "User.Read",
                                    "User.ReadWrite.All"}


def test_aio_client_secret_and_api_scope(entra: EntraEmulator) -> None:
    async def main() -> tuple[str, str]:
        async with aio_credential(entra) as cred:
            graph = (await cred.get_token(GRAPH_SCOPE)).token
            api = (await cred.get_token(f"api://{entra.client_id}/.default")).token
            return graph, api
    graph, api = asyncio.run(main())
    assert verified_claims(entra, graph, "https://graph.microsoft.com")["exp"]
    claims = verified_claims(entra, api, f"api://{entra.client_id}")
    assert claims["aud"] == f"api://{entra.client_id}" and "roles" not in claims


def test_wrong_secret_is_aadsts7000215(entra: EntraEmulator) -> None:
    with pytest.raises(ClientAuthenticationError) as info:
        sync_credential(entra, secret="wrong").get_token(GRAPH_SCOPE)
    assert "AADSTS7000215" in str(info.value)
    raw = httpx.post(entra.token_endpoint, verify=entra.ca_bundle, data={
        "client_id": entra.client_id, "client_secret": "wrong", "scope": GRAPH_SCOPE,
        "grant_type": "client_credentials"})
    body = raw.json()
    assert raw.status_code == 401 and body["error"] == "invalid_client"
    assert body["error_codes"] == [7000215]
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided")

    async def call(client: GraphServiceClient) -> None:
        await client.users.get()
    async def main() -> None:
        async with aio_credential(entra, secret="wrong") as cred:
            await call(graph_client(entra, cred))
    with pytest.raises(ClientAuthenticationError):
        asyncio.run(main())


def test_certificate_credentials(entra: EntraEmulator) -> None:
    pem = entra.add_certificate()
    sync = CertificateCredential(entra.tenant_id, entra.client_id, pem,
                                 **credential_kwargs(entra))
    claims = verified_claims(entra, sync.get_token(GRAPH_SCOPE).token,
                             "https://graph.microsoft.com")
    assert claims["appidacr"] == "2"

    async def main() -> int:
        async with AioCertificateCredential(entra.tenant_id, entra.client_id, pem,
                                            **credential_kwargs(entra)) as cred:
            users = await graph_client(entra, cred).users.get()
            return len(users.value)
    assert asyncio.run(main()) == 0
    entra.apps.default.certificates.clear()
    fresh = CertificateCredential(entra.tenant_id, entra.client_id, pem,
                                  **credential_kwargs(entra))
    with pytest.raises(ClientAuthenticationError) as info:
        fresh.get_token(GRAPH_SCOPE)
    assert "AADSTS700027" in str(info.value)


def test_graph_401_and_403(entra: EntraEmulator) -> None:
    async def expect(client: GraphServiceClient) -> ODataError:
        with pytest.raises(ODataError) as info:
            await client.users.get()
        return info.value

    async def main() -> list[ODataError]:
        async with aio_credential(entra) as cred:
            errors = [await expect(graph_client(entra, cred,
                                                allowed_hosts=["graph.microsoft.com"]))]
            errors.append(await expect(graph_client(
                entra, cred, scopes=[f"api://{entra.client_id}/.default"])))
            await graph_client(entra, cred).users.get()  # token cached now
            entra.advance_clock(3600)
            errors.append(await expect(graph_client(entra, cred)))
            return errors
    empty, audience, expired = asyncio.run(main())
    for err in (empty, audience, expired):
        assert err.response_status_code == 401
        assert err.error.code == "InvalidAuthenticationToken"
    assert empty.error.message == "Access token is empty."
    assert "audience" in audience.error.message
    assert "expired" in expired.error.message

    entra.advance_clock(-3600)
    entra.grant(["User.Read"])

    async def denied(client: GraphServiceClient) -> ODataError:
        return await expect(client)
    err = run_graph(entra, denied)
    assert (err.response_status_code, err.error.code) == (403, "Authorization_RequestDenied")


def test_domains_and_organization_need_directory_permissions(entra: EntraEmulator) -> None:
    async def body(client: GraphServiceClient) -> Any:
        with pytest.raises(ODataError) as info:
            await client.domains.get()
        assert info.value.response_status_code == 403
        return None
    run_graph(entra, body)
    entra.grant([*entra.apps.default.roles, "Domain.Read.All", "Organization.Read.All",
                 "Directory.Read.All"])

    async def granted(client: GraphServiceClient) -> None:
        domains = {d.id: d.is_verified for d in (await client.domains.get()).value}
        assert domains == {entra.default_domain: True, "example.com": True,
                           "unverified.example.net": False}
        org = (await client.organization.get()).value[0]
        assert org.id == entra.tenant_id
        assert {d.name for d in org.verified_domains} == {entra.default_domain, "example.com"}
        user = entra.state.seed_user("obj@example.com")
        obj = await client.directory_objects.by_directory_object_id(user["id"]).get()
        assert obj.odata_type == "#microsoft.graph.user"
    run_graph(entra, granted)


def _msal_app(entra: EntraEmulator) -> msal.ConfidentialClientApplication:
    # msal's verify= is set on a requests.Session, and requests lets REQUESTS_CA_BUNDLE /
    # CURL_CA_BUNDLE from the environment override a session's verify: hand msal a session
    # that ignores the environment.
    session = requests.Session()
    session.trust_env = False
    session.verify = entra.ca_bundle
    return msal.ConfidentialClientApplication(
        entra.client_id, client_credential=entra.client_secret,
        authority=f"{entra.authority_url}/{entra.tenant_id}", instance_discovery=False,
        http_client=session)


def test_auth_code_flow_with_msal(entra: EntraEmulator) -> None:
    user = entra.state.seed_user("dash@example.com", displayName="Dash Admin")
    group = entra.state.seed_group("Dashboard admins", members=[user["id"]])
    entra.sign_in_as("dash@example.com", roles=["Admin"])
    app = _msal_app(entra)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost/cb",
                                       response_mode="form_post")
    answer = httpx.get(flow["auth_uri"], verify=entra.ca_bundle)
    assert answer.status_code == 200 and 'action="http://localhost/cb"' in answer.text
    params = dict(re.findall(r'name="(\w+)" value="([^"]*)"', answer.text))
    assert set(params) == {"code", "state", "session_state"}
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "access_token" in result, result
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == "dash@example.com"
    assert claims["oid"] == user["id"] and claims["groups"] == [group["id"]]
    assert claims["roles"] == ["Admin"] and claims["nonce"]
    assert claims["iss"] == entra.issuer_v2 and claims["aud"] == entra.client_id
    again = app.acquire_token_silent(["User.Read"], account=app.get_accounts()[0])
    assert again and "access_token" in again


@pytest.mark.filterwarnings("ignore:response_mode")
def test_auth_code_flow_with_login_form(entra: EntraEmulator) -> None:
    entra.state.seed_user("form@example.com", password="S3cret!pass")
    app = _msal_app(entra)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost/cb",
                                       response_mode="query")
    with httpx.Client(verify=entra.ca_bundle) as http:
        form = http.get(flow["auth_uri"])
        assert form.status_code == 200 and "<form" in form.text
        wrong = http.post(flow["auth_uri"], data={"login": "form@example.com", "passwd": "x"})
        assert wrong.status_code == 400 and "AADSTS50126" in wrong.text
        ok = http.post(flow["auth_uri"], data={"login": "form@example.com",
                                               "passwd": "S3cret!pass"})
    assert ok.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlparse(ok.headers["location"]).query).items()}
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert result["id_token_claims"]["preferred_username"] == "form@example.com"


def test_token_endpoint_fault_is_retried_by_azure_core(entra: EntraEmulator) -> None:
    entra.add_fault("status", status=503, server="identity", path_re="/token$", count=1)
    assert sync_credential(entra).get_token(GRAPH_SCOPE).token
    statuses = [e.status for e in entra.audit.filter(kind="identity", path_re="/token$")]
    assert statuses == [503, 200]


def _authorize(entra: EntraEmulator, redirect_uri: str = "http://localhost/cb"
               ) -> httpx.Response:
    return httpx.get(f"{entra.authority_url}/{entra.tenant_id}/oauth2/v2.0/authorize",
                     verify=entra.ca_bundle, params={
                         "client_id": entra.client_id, "response_type": "code",
                         "redirect_uri": redirect_uri, "scope": "openid User.Read",
                         "state": "s1"})


def test_delegated_token_me_and_userinfo(entra: EntraEmulator) -> None:
    user = entra.state.seed_user("me@example.com", displayName="Me Myself")
    group = entra.state.seed_group("Mine", members=[user["id"]])
    entra.sign_in_as(user["id"])
    location = urlparse(_authorize(entra).headers["location"])
    code = parse_qs(location.query)["code"][0]

    async def main() -> None:
        async with AuthorizationCodeCredential(
            entra.tenant_id, entra.client_id, code, "http://localhost/cb",
            client_secret=entra.client_secret, **credential_kwargs(entra),
        ) as cred:
            client = graph_client(entra, cred, scopes=["User.Read"])
            me = await client.me.get()
            assert (me.id, me.display_name) == (user["id"], "Me Myself")
            groups = await client.me.member_of.get()
            assert [g.id for g in groups.value] == [group["id"]]
        async with aio_credential(entra) as app_cred:
            with pytest.raises(ODataError) as info:
                await graph_client(entra, app_cred).me.get()
            assert info.value.response_status_code == 400
            assert "delegated" in info.value.error.message
    asyncio.run(main())


def test_redirect_uri_must_be_registered_when_the_app_lists_some(entra: EntraEmulator) -> None:
    entra.state.seed_user("r@example.com")
    entra.sign_in_as("r@example.com")
    entra.apps.default.redirect_uris = ["http://localhost/cb"]
    assert _authorize(entra).status_code == 302
    wrong = _authorize(entra, "http://evil.example/cb")
    assert wrong.status_code == 400 and "AADSTS50011" in wrong.text


def test_refresh_token_grant_via_msal(entra: EntraEmulator) -> None:
    entra.state.seed_user("refresh@example.com")
    entra.sign_in_as("refresh@example.com")
    app = _msal_app(entra)
    flow = app.initiate_auth_code_flow(["User.Read"], redirect_uri="http://localhost/cb",
                                       response_mode="form_post")
    page = httpx.get(flow["auth_uri"], verify=entra.ca_bundle).text
    first = app.acquire_token_by_auth_code_flow(
        flow, dict(re.findall(r'name="(\w+)" value="([^"]*)"', page)))
    account = app.get_accounts()[0]
    refreshed = app.acquire_token_silent(["User.Read"], account=account, force_refresh=True)
    assert refreshed["access_token"] != first["access_token"]
    assert entra.audit.count(kind="identity", path_re="/token$") == 2
