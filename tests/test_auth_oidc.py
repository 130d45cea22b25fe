"""Dashboard sign-in with Entra (OIDC authorization code flow) against the emulator.

The browser's part is played by httpx (the emulator's authorize page) and Flask's test client
(our pages); tests/e2e drives the same flow in Chromium.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import emulator_config, make_app
from tests.emulator.server import EntraEmulator
from webapp.auth_oidc_client import admin_refusal

ADMIN_ROLE = "Scim2Entra.Admin"
HIDDEN = re.compile(r'name="(\w+)" value="([^"]*)"')


@pytest.fixture
def make_oidc_app(entra: EntraEmulator, redis_url: str, tmp_path_factory: Any,
                  tmp_path: Any) -> Iterator[Any]:
    """Build apps wired to the emulator; sign-in touches no table, so SQLite is enough."""
    folder = tmp_path_factory.getbasetemp() / "oidc"
    folder.mkdir(exist_ok=True)
    built: list[Flask] = []

    def build(**settings: Any) -> Flask:
        app = make_app(f"sqlite:///{folder / 'store.db'}", redis_url, str(tmp_path),
                       **{**emulator_config(entra), **settings})
        built.append(app)
        return app

    yield build
    from webapp.extensions import db

    for app in built:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def oidc_app(make_oidc_app: Any) -> Flask:
    app: Flask = make_oidc_app(ADMIN_ROLE=ADMIN_ROLE)
    return app


def entra_answer(entra: EntraEmulator, client: FlaskClient, next_url: str = "") -> dict[str, str]:
    """Start sign-in, let the emulator sign the configured user in; its form_post fields."""
    started = client.get("/auth/oidc/start" + (f"?next={next_url}" if next_url else ""))
    assert started.status_code == 302, started.get_data(as_text=True)
    location = started.headers["Location"]
    assert location.startswith(f"{entra.authority_url}/{entra.tenant_id}/oauth2/v2.0/authorize")
    query = parse_qs(urlparse(location).query)
    assert query["response_mode"] == ["form_post"] and query["code_challenge_method"] == ["S256"]
    page = httpx.get(location, verify=ssl.create_default_context(cafile=entra.ca_bundle))
    assert page.status_code == 200, page.text
    return dict(HIDDEN.findall(page.text))


def signed_in(client: FlaskClient) -> Any:
    with client.session_transaction() as session:
        return session.get("admin")


def test_admin_by_app_role_signs_in(entra: EntraEmulator, oidc_app: Flask) -> None:
    entra.state.seed_user("ada@example.com", displayName="Ada")
    entra.sign_in_as("ada@example.com", roles=[ADMIN_ROLE])
    client = oidc_app.test_client()
    done = client.post("/auth/oidc/callback", data=entra_answer(entra, client))
    assert done.status_code == 302 and done.headers["Location"] == "/"
    admin = signed_in(client)
    assert (admin["name"], admin["method"]) == ("ada@example.com", "oidc")
    with client.session_transaction() as session:
        assert "oidc_flow" not in session  # the flow is used once


def test_admin_by_group_signs_in(entra: EntraEmulator, make_oidc_app: Any) -> None:
    user = entra.state.seed_user("grace@example.com")
    group = entra.state.seed_group("scim2entra admins", members=[user["id"]])
    entra.sign_in_as("grace@example.com")
    client = make_oidc_app(ADMIN_GROUP=group["id"].upper()).test_client()
    assert client.post("/auth/oidc/callback",
                       data=entra_answer(entra, client)).status_code == 302
    assert signed_in(client)["name"] == "grace@example.com"


def test_user_without_the_group_or_role_is_refused(entra: EntraEmulator, make_oidc_app: Any,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    admins = entra.state.seed_group("scim2entra admins")
    entra.state.seed_user("mallory@example.com")
    entra.sign_in_as("mallory@example.com", roles=["Reader"])
    client = make_oidc_app(ADMIN_GROUP=admins["id"], ADMIN_ROLE=ADMIN_ROLE).test_client()
    refused = client.post("/auth/oidc/callback", data=entra_answer(entra, client))
    assert refused.status_code == 403
    page = refused.get_data(as_text=True)
    assert "Not a scim2entra admin" in page and "mallory@example.com" in page
    assert signed_in(client) is None
    assert f"neither the admin group {admins['id']} nor the app role {ADMIN_ROLE}" in caplog.text


def test_cross_site_answer_is_posted_again_with_the_session(entra: EntraEmulator,
                                                            oidc_app: Flask) -> None:
    # A browser leaves the SameSite=Lax session cookie out of Entra's cross-site POST.
    entra.state.seed_user("ada@example.com")
    entra.sign_in_as("ada@example.com", roles=[ADMIN_ROLE])
    client = oidc_app.test_client()
    answer = entra_answer(entra, client)
    hop = oidc_app.test_client().post("/auth/oidc/callback", data=answer)  # no cookies
    assert hop.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", hop.headers["Content-Security-Policy"])
    assert nonce and f'<script nonce="{nonce.group(1)}">' in hop.get_data(as_text=True)
    fields = dict(HIDDEN.findall(hop.get_data(as_text=True)))
    assert fields == {**answer, "s2e_hop": "1"}
    assert client.post("/auth/oidc/callback", data=fields).status_code == 302
    assert signed_in(client)["method"] == "oidc"


def test_answer_without_a_started_sign_in_is_refused(entra: EntraEmulator,
                                                     oidc_app: Flask) -> None:
    entra.state.seed_user("ada@example.com")
    entra.sign_in_as("ada@example.com", roles=[ADMIN_ROLE])
    answer = entra_answer(entra, oidc_app.test_client())
    stranger = oidc_app.test_client()  # login CSRF: someone else's answer in this browser
    refused = stranger.post("/auth/oidc/callback", data={**answer, "s2e_hop": "1"})
    assert refused.status_code == 400 and "Sign-in expired" in refused.get_data(as_text=True)
    assert signed_in(stranger) is None


def test_answer_of_another_sign_in_is_refused(entra: EntraEmulator, oidc_app: Flask) -> None:
    entra.state.seed_user("ada@example.com")
    entra.sign_in_as("ada@example.com", roles=[ADMIN_ROLE])
    attacker = entra_answer(entra, oidc_app.test_client())
    victim = oidc_app.test_client()
    entra_answer(entra, victim)  # the victim started a sign-in of their own
    refused = victim.post("/auth/oidc/callback", data=attacker)
    assert refused.status_code == 400
    assert "does not belong to this sign-in" in refused.get_data(as_text=True)
    assert signed_in(victim) is None


def test_error_answer_is_shown(entra: EntraEmulator, oidc_app: Flask) -> None:
    entra.state.seed_user("ada@example.com")
    entra.sign_in_as("ada@example.com", roles=[ADMIN_ROLE])
    client = oidc_app.test_client()
    state = entra_answer(entra, client)["state"]
    failed = client.post("/auth/oidc/callback", data={
        "state": state, "error": "access_denied",
        "error_description": "AADSTS65004: User declined to consent."})
    assert failed.status_code == 401
    assert "User declined to consent" in failed.get_data(as_text=True)
    assert signed_in(client) is None


def test_next_is_kept_but_only_on_this_site(entra: EntraEmulator, oidc_app: Flask) -> None:
    entra.state.seed_user("ada@example.com")
    entra.sign_in_as("ada@example.com", roles=[ADMIN_ROLE])
    client = oidc_app.test_client()
    done = client.post("/auth/oidc/callback", data=entra_answer(entra, client, "/objects"))
    assert done.headers["Location"] == "/objects"
    client = oidc_app.test_client()
    done = client.post("/auth/oidc/callback",
                       data=entra_answer(entra, client, "https://evil.example/"))
    assert done.headers["Location"] == "/"


def test_client_certificate_instead_of_a_secret(entra: EntraEmulator,
                                                make_oidc_app: Any) -> None:
    entra.state.seed_user("ada@example.com")
    entra.sign_in_as("ada@example.com", roles=[ADMIN_ROLE])
    app = make_oidc_app(ADMIN_ROLE=ADMIN_ROLE, CLIENT_SECRET=None,
                        CLIENT_CERTIFICATE=entra.add_certificate())
    client = app.test_client()
    assert client.post("/auth/oidc/callback",
                       data=entra_answer(entra, client)).status_code == 302
    assert signed_in(client)["name"] == "ada@example.com"


def test_unreachable_authority_is_a_clear_page(oidc_app: Flask) -> None:
    oidc_app.config["SCIM2ENTRA"]["AUTHORITY_URL"] = "https://127.0.0.1:9"  # nothing listens
    answer = oidc_app.test_client().get("/auth/oidc/start")
    assert answer.status_code == 502
    assert "Microsoft Entra cannot be reached" in answer.get_data(as_text=True)


def test_login_page_offers_entra_when_set_up(oidc_app: Flask) -> None:
    page = oidc_app.test_client().get("/login").get_data(as_text=True)
    assert "Sign in with Microsoft Entra" in page and 'href="/auth/oidc/start' in page


@pytest.mark.parametrize("settings", [{}, {"ADMIN_ROLE": ADMIN_ROLE, "CLIENT_SECRET": None}])
def test_without_admin_rule_or_credentials_entra_sign_in_is_off(
        make_oidc_app: Any, settings: dict[str, Any]) -> None:
    app = make_oidc_app(**settings)
    assert "dashboard_oidc.start" not in app.view_functions
    client = app.test_client()
    assert "Sign in with Microsoft Entra" not in client.get("/login").get_data(as_text=True)
    answer = client.get("/auth/oidc/start")
    assert answer.status_code == 404
    assert "SCIM2ENTRA_ADMIN_GROUP" in answer.get_data(as_text=True)


def test_group_overage_is_explained() -> None:
    claims = {"_claim_names": {"groups": "src1"}, "_claim_sources": {"src1": {}}}
    reason = admin_refusal(claims, {"ADMIN_GROUP": "g1"})
    assert reason is not None and "too many groups" in reason
    assert admin_refusal({"groups": ["G1"]}, {"ADMIN_GROUP": "g1"}) is None
    assert admin_refusal({"roles": ["r"]}, {"ADMIN_ROLE": "R"}) is not None  # roles are exact
