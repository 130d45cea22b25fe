"""The shipped default user and group mappings."""

from __future__ import annotations

import re
import string

import pytest
from msgraph.generated.models.password_profile import PasswordProfile

from mappings import Connection, MappingEngine, ObjectError, ProviderContext
from mappings.helpers import PASSWORD_SYMBOLS, mail_nickname, strong_password

TENANT = ProviderContext(tenant_id="t-1", verified_domains={"example.com"})
FORBIDDEN_NICKNAME = re.compile(r'[@()\\\[\]";:.<>,\s]')


@pytest.fixture(scope="module")
def engine() -> MappingEngine:
    return MappingEngine.load(None)


def scim_user(**extra: object) -> dict[str, object]:
    return {
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen@example.com",
        "displayName": "Babs Jensen",
        "emails": [{"value": "babs@Example.com", "primary": True}],
        **extra,
    }


def test_verified_domain_first_create(engine: MappingEngine) -> None:
    payload = engine.evaluate_user(scim_user(), "Given!Passw0rd", None, TENANT)
    assert payload.graph_json == {
        "displayName": "Babs Jensen",
        "accountEnabled": True,
        "mailNickname": "bjensen",
        "userPrincipalName": "babs@Example.com",
        "passwordProfile": {"password": "Given!Passw0rd", "forceChangePasswordNextSignIn": False},
        "onPremisesImmutableId": "2819c223-7f76-453a-919d-413861904646",
    }
    assert isinstance(payload.data["password_profile"], PasswordProfile)


def test_unverified_domain_is_an_object_error(engine: MappingEngine) -> None:
    with pytest.raises(ObjectError) as caught:
        engine.evaluate_user(scim_user(emails=[{"value": "a@Other.NET"}]), None, None, TENANT)
    assert caught.value.message == (
        "email domain 'other.net' is not a verified domain of the tenant; verify it in Entra"
        " (Settings > Domain names) or use an email-verified-users mapping (seed 001)"
    )
    assert caught.value.mapping == "user/10-default.py"


def test_domain_check_is_off_when_the_tenant_domains_are_unknown(engine: MappingEngine) -> None:
    payload = engine.evaluate_user(scim_user(emails=[{"value": "a@other.net"}]))
    assert payload.graph_json["userPrincipalName"] == "a@other.net"


def test_with_connection_keeps_immutable_id_and_sends_no_password(engine: MappingEngine) -> None:
    link = Connection({"on_premises_immutable_id": "legacy-immutable"})
    payload = engine.evaluate_user(scim_user(), "ignored", link, TENANT)
    assert payload.graph_json["onPremisesImmutableId"] == "legacy-immutable"
    assert "passwordProfile" not in payload.graph_json


def test_with_connection_without_immutable_id_omits_the_key(engine: MappingEngine) -> None:
    payload = engine.evaluate_user(scim_user(), None, Connection({}), TENANT)
    assert "on_premises_immutable_id" not in payload.data
    assert "onPremisesImmutableId" not in payload.graph_json


def test_inactive_user(engine: MappingEngine) -> None:
    payload = engine.evaluate_user(scim_user(active=False), None, None, TENANT)
    assert payload.graph_json["accountEnabled"] is False


def test_name_fallback_reaches_the_payload(engine: MappingEngine) -> None:
    resource = scim_user(displayName=None, name={"givenName": "Barbara", "familyName": "Jensen"})
    assert engine.evaluate_user(resource, None, None, TENANT).graph_json["displayName"] == (
        "Barbara Jensen"
    )


def test_primary_email_becomes_the_upn(engine: MappingEngine) -> None:
    emails = [{"value": "work@example.com"}, {"value": "home@example.com", "primary": True}]
    payload = engine.evaluate_user(scim_user(emails=emails), None, None, TENANT)
    assert payload.graph_json["userPrincipalName"] == "home@example.com"


def test_email_like_username_is_the_upn_when_there_is_no_email(engine: MappingEngine) -> None:
    payload = engine.evaluate_user(scim_user(emails=[]), None, None, TENANT)
    assert payload.graph_json["userPrincipalName"] == "bjensen@example.com"


def test_no_email_and_plain_username_is_an_object_error(engine: MappingEngine) -> None:
    with pytest.raises(ObjectError, match="cannot derive a userPrincipalName"):
        engine.evaluate_user(scim_user(emails=[], userName="bjensen"), None, None, TENANT)


@pytest.mark.parametrize(
    ("username", "expected"),
    [
        ("bjensen@example.com", "bjensen"),
        ("john.doe@example.com", "john-doe"),
        ('Zoë "Z" (Ops) [x]; a:b <c>, d\\e', "Zoe-Z-Ops-x-a-b-c-d-e"),
        ("x" * 80 + "@example.com", "x" * 64),
        ("日本@example.com", "user-2819c223-7f76-453a-919d-413861904646"),
    ],
)
def test_mail_nickname_is_valid(engine: MappingEngine, username: str, expected: str) -> None:
    payload = engine.evaluate_user(scim_user(userName=username), None, None, TENANT)
    nickname = payload.graph_json["mailNickname"]
    assert nickname == expected[:64]
    assert nickname.isascii() and 0 < len(nickname) <= 64
    assert not FORBIDDEN_NICKNAME.search(nickname)


def test_mail_nickname_fallback_is_sanitised_and_never_empty() -> None:
    assert mail_nickname("@example.com", fallback="user-a.b") == "user-a-b"
    assert mail_nickname(None, fallback="...") == "user"


def test_generated_password_is_strong_and_never_repeats(engine: MappingEngine) -> None:
    passwords = [
        engine.evaluate_user(scim_user(), None, None, TENANT).graph_json["passwordProfile"][
            "password"
        ]
        for _ in range(200)
    ]
    assert len(set(passwords)) == len(passwords)
    for password in passwords:
        assert len(password) >= 16 and password.isascii()
        assert any(c in string.ascii_uppercase for c in password)
        assert any(c in string.ascii_lowercase for c in password)
        assert any(c in string.digits for c in password)
        assert any(c in PASSWORD_SYMBOLS for c in password)


def test_strong_password_rejects_impossible_lengths() -> None:
    assert len(strong_password(32)) == 32
    with pytest.raises(ValueError):
        strong_password(3)


def test_generated_password_does_not_change_the_hash(engine: MappingEngine) -> None:
    first = engine.evaluate_user(scim_user(), None, None, TENANT)
    second = engine.evaluate_user(scim_user(), None, None, TENANT)
    assert first.graph_json["passwordProfile"] != second.graph_json["passwordProfile"]
    assert first.digest == second.digest


def group(**extra: object) -> dict[str, object]:
    return {"id": "3f2a9c1e-0000-4000-8000-000000000001", "displayName": "Sales", **extra}


def test_default_group(engine: MappingEngine) -> None:
    assert engine.evaluate_group(group(), None, TENANT).graph_json == {
        "displayName": "Sales",
        "mailEnabled": False,
        "securityEnabled": True,
        "mailNickname": "sales",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Équipe Zürich", "equipe-zurich"),
        ("\"Sales\" & 'Ops'", "sales-ops"),
        ("R&D (Berlin) [2024]; a:b <c>, d.e\\f", "r-d-berlin-2024-a-b-c-d-e-f"),
        ("Straße Øresund", "strasse-oresund"),
        ("  --Admins--  ", "admins"),
        ("日本語", "group-3f2a9c1e"),
        ("!!!", "group-3f2a9c1e"),
        ("a" * 70, "a" * 64),
        ("a" * 63 + " b", "a" * 63),
    ],
)
def test_group_mail_nickname_slug(engine: MappingEngine, name: str, expected: str) -> None:
    nickname = engine.evaluate_group(group(displayName=name)).graph_json["mailNickname"]
    assert nickname == expected
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", nickname) and len(nickname) <= 64


def test_group_display_name_keeps_the_original(engine: MappingEngine) -> None:
    payload = engine.evaluate_group(group(displayName="Équipe Zürich"))
    assert payload.graph_json["displayName"] == "Équipe Zürich"


def test_group_without_display_name_is_an_object_error(engine: MappingEngine) -> None:
    with pytest.raises(ObjectError, match="has no displayName"):
        engine.evaluate_group(group(displayName=None))
