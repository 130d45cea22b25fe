"""Seed 001: authentik's documented "email-verified-users" mapping runs here unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from msgraph.generated.models.object_identity import ObjectIdentity
from msgraph.generated.models.password_profile import PasswordProfile

from mappings import Connection, MappedPayload, MappingEngine, ProviderContext

SEED = Path(__file__).parent / "samples" / "mappings" / "seed-001-email-verified-users.py"
TENANT = ProviderContext(tenant_id="t-1", verified_domains={"example.com"})


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> MappingEngine:
    root = tmp_path_factory.mktemp("mappings")
    (root / "user").mkdir()
    shutil.copyfile(SEED, root / "user" / SEED.name)  # byte for byte, no edits
    return MappingEngine.load(root)


def evaluate(engine: MappingEngine, email: str, connection: Connection | None) -> MappedPayload:
    resource = {
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": email, "primary": True, "type": "work"}],
        "active": True,
    }
    return engine.evaluate_user(resource, "Scim!Passw0rd-123", connection, TENANT)


def test_seed_file_is_the_documented_expression() -> None:
    source = SEED.read_text(encoding="utf-8")
    assert source.startswith("# Field reference: (note that keys have to converted to snake_case)")
    assert source.rstrip().endswith("return user")
    assert "ObjectIdentity(" in source and "PasswordProfile(" in source


def test_verified_domain_first_create(engine: MappingEngine) -> None:
    payload = evaluate(engine, "babs@example.com", None)
    assert isinstance(payload.data["password_profile"], PasswordProfile)
    assert payload.graph_json == {
        "displayName": "Barbara Jensen",
        "accountEnabled": True,
        "mailNickname": "bjensen",
        "userPrincipalName": "babs@example.com",
        "passwordProfile": {"password": "Scim!Passw0rd-123"},
        "onPremisesImmutableId": "2819c223-7f76-453a-919d-413861904646",
    }


def test_verified_domain_with_connection(engine: MappingEngine) -> None:
    payload = evaluate(engine, "babs@example.com", Connection({"on_premises_immutable_id": "imm"}))
    assert payload.graph_json == {
        "displayName": "Barbara Jensen",
        "accountEnabled": True,
        "mailNickname": "bjensen",
        "userPrincipalName": "babs@example.com",
        "onPremisesImmutableId": "imm",
    }


def test_verified_domain_with_connection_lacking_an_immutable_id(engine: MappingEngine) -> None:
    # The seed sets the key to None; like authentik we drop it rather than send null.
    payload = evaluate(engine, "babs@example.com", Connection({}))
    assert payload.data["on_premises_immutable_id"] is None
    assert "onPremisesImmutableId" not in payload.graph_json


@pytest.mark.parametrize("connection", [None, Connection({"on_premises_immutable_id": "imm"})])
def test_unverified_domain_becomes_an_email_verified_user(
    engine: MappingEngine, connection: Connection | None
) -> None:
    payload = evaluate(engine, "babs@gmail.com", connection)
    assert isinstance(payload.data["identities"][0], ObjectIdentity)
    assert payload.graph_json == {
        "displayName": "Barbara Jensen",
        "mail": "babs@gmail.com",
        "passwordPolicies": "DisablePasswordExpiration",
        "userType": "member",
        "identities": [
            {"signInType": "federated", "issuer": "mail", "issuerAssignedId": "babs@gmail.com"}
        ],
        "passwordProfile": {"password": "Scim!Passw0rd-123"},
    }
    # The password is write-once: it neither counts for change detection nor goes in a PATCH.
    assert "passwordProfile" not in payload.patch_json


def test_unverified_domain_hash_is_stable(engine: MappingEngine) -> None:
    first = evaluate(engine, "babs@gmail.com", None)
    again = evaluate(engine, "babs@gmail.com", Connection({}))
    assert first.digest == again.digest
