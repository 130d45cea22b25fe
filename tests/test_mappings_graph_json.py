"""snake_case + msgraph models -> Graph JSON, and the change-detection hash."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from enum import Enum
from uuid import UUID

import pytest
from msgraph.generated.models.employee_org_data import EmployeeOrgData
from msgraph.generated.models.object_identity import ObjectIdentity
from msgraph.generated.models.on_premises_extension_attributes import (
    OnPremisesExtensionAttributes,
)
from msgraph.generated.models.password_profile import PasswordProfile

from mappings import MappedPayload, graph_key, payload_hash, to_graph_json, without_write_once


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("user_principal_name", "userPrincipalName"),
        ("on_premises_immutable_id", "onPremisesImmutableId"),
        ("password_profile", "passwordProfile"),
        ("force_change_password_next_sign_in", "forceChangePasswordNextSignIn"),
        ("display_name", "displayName"),
        ("mail", "mail"),
        ("accountEnabled", "accountEnabled"),
        ("members@odata.bind", "members@odata.bind"),
        ("@odata.type", "@odata.type"),
        (
            "extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup",
            "extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup",
        ),
        ("extension_attribute1", "extensionAttribute1"),
    ],
)
def test_graph_key(key: str, expected: str) -> None:
    assert graph_key(key) == expected


def test_nested_models_and_lists() -> None:
    payload = {
        "display_name": "Babs",
        "password_profile": PasswordProfile(
            password="Pa55word!long-one", force_change_password_next_sign_in=False
        ),
        "identities": [
            ObjectIdentity(sign_in_type="federated", issuer="mail", issuer_assigned_id="b@x.org"),
            ObjectIdentity(sign_in_type="userPrincipalName", issuer="contoso.onmicrosoft.com"),
        ],
        "employee_org_data": EmployeeOrgData(division="Tours"),
        "on_premises_extension_attributes": {"extension_attribute1": "A1"},
        "members@odata.bind": ["https://graph.microsoft.com/v1.0/directoryObjects/1"],
        "business_phones": ("+1 555",),
    }
    assert to_graph_json(payload) == {
        "displayName": "Babs",
        "passwordProfile": {
            "password": "Pa55word!long-one",
            "forceChangePasswordNextSignIn": False,
        },
        "identities": [
            {"signInType": "federated", "issuer": "mail", "issuerAssignedId": "b@x.org"},
            {"signInType": "userPrincipalName", "issuer": "contoso.onmicrosoft.com"},
        ],
        "employeeOrgData": {"division": "Tours"},
        "onPremisesExtensionAttributes": {"extensionAttribute1": "A1"},
        "members@odata.bind": ["https://graph.microsoft.com/v1.0/directoryObjects/1"],
        "businessPhones": ["+1 555"],
    }


def test_models_emit_only_set_properties() -> None:
    # A fresh model has odata_type=None, additional_data={} and a backing store: none of
    # them may leak into the body as nulls or internals.
    body = to_graph_json({"password_profile": PasswordProfile(password="x")})
    assert body == {"passwordProfile": {"password": "x"}}
    text = json.dumps(to_graph_json({"a": OnPremisesExtensionAttributes(extension_attribute2="v")}))
    assert "null" not in text and "backing" not in text and "odata" not in text


def test_model_additional_data_is_kept() -> None:
    identity = ObjectIdentity(issuer="mail")
    identity.additional_data["customProp"] = 1
    assert to_graph_json({"i": identity}) == {"i": {"issuer": "mail", "customProp": 1}}


def test_none_values_are_dropped_at_every_dict_level() -> None:
    assert to_graph_json({"mail": None, "a_b": {"c_d": None, "e": 1}}) == {"aB": {"e": 1}}


def test_scalars() -> None:
    class Color(Enum):
        RED = "red"

    body = to_graph_json(
        {
            "when": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
            "day": date(2024, 1, 2),
            "id": UUID("12345678-1234-5678-1234-567812345678"),
            "color": Color.RED,
            "blob": b"\x00\x01",
            "n": 1.5,
        }
    )
    assert body == {
        "when": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "id": "12345678-1234-5678-1234-567812345678",
        "color": "red",
        "blob": "AAE=",
        "n": 1.5,
    }
    with pytest.raises(TypeError):
        to_graph_json({"x": object()})


def test_payload_hash_is_independent_of_key_order() -> None:
    one = {"displayName": "a", "nested": {"x": 1, "y": [1, 2]}, "mail": "m"}
    two = {"mail": "m", "nested": {"y": [1, 2], "x": 1}, "displayName": "a"}
    assert payload_hash(one) == payload_hash(two)
    assert len(payload_hash(one)) == 64
    assert payload_hash(one) != payload_hash({**one, "mail": "other"})
    assert payload_hash(one) != payload_hash({**one, "nested": {"x": 1, "y": [2, 1]}})


def test_payload_hash_ignores_password_profile() -> None:
    base = {"displayName": "a", "accountEnabled": True}
    with_password = {**base, "passwordProfile": {"password": "random-1"}}
    other_password = {**base, "passwordProfile": {"password": "random-2"}}
    assert payload_hash(base) == payload_hash(with_password) == payload_hash(other_password)


def test_patch_body_leaves_out_write_once_fields() -> None:
    body = {"displayName": "a", "passwordProfile": {"password": "p"}}
    assert without_write_once(body) == {"displayName": "a"}
    payload = MappedPayload("user", {}, body, payload_hash(body))
    assert payload.patch_json == {"displayName": "a"}
    assert payload.graph_json == body  # the create body keeps it
