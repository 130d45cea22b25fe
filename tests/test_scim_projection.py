"""project: attributes / excludedAttributes and the `returned` characteristic."""

from __future__ import annotations

from typing import Any

import pytest

from scim.projection import parse_attribute_list, project
from scim.schemas import ENTERPRISE_URN, GROUP, GROUP_URN, USER, USER_URN, Attribute, ResourceType
from scim.schemas import Schema as ScimSchema

META = {"resourceType": "User", "version": 'W/"1"', "location": "https://x.test/Users/u-1"}
CUSTOM = "urn:okta:custom:1.0:User"


def user_doc() -> dict[str, Any]:
    return {
        "schemas": [USER_URN, ENTERPRISE_URN, CUSTOM],
        "id": "u-1",
        "userName": "bjensen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs",
        "password": "leaked?",
        "emails": [{"value": "b@x.test", "type": "work", "primary": True},
                   {"value": "h@x.test", "type": "home"}],
        ENTERPRISE_URN: {"employeeNumber": "7", "manager": {"value": "m-1"}},
        CUSTOM: {"badge": "42", "floor": 3},
        "meta": META,
    }


def group_doc() -> dict[str, Any]:
    return {"schemas": [GROUP_URN], "id": "g-1", "displayName": "Admins",
            "members": [{"value": "u-1", "type": "User"}], "meta": META}


@pytest.mark.parametrize(("param", "parsed"), [
    (None, None), ("", None), (" , ", None), ("members", ["members"]),
    ("userName, name.givenName ,emails", ["userName", "name.givenName", "emails"]),
])
def test_parse_attribute_list(param: str | None, parsed: list[str] | None) -> None:
    assert parse_attribute_list(param) == parsed


def test_default_returns_everything_but_never() -> None:
    doc = user_doc()
    out = project(USER, doc, None, None)
    doc.pop("password")
    assert out == doc


def test_password_never_even_when_asked() -> None:
    assert "password" not in project(USER, user_doc(), ["password"], None)


def test_attributes_keeps_always_and_named() -> None:
    out = project(USER, user_doc(), ["userName"], None)
    assert out == {"schemas": [USER_URN], "id": "u-1", "userName": "bjensen"}


def test_attributes_are_case_insensitive() -> None:
    out = project(USER, user_doc(), ["USERNAME", "Name.GivenName"], None)
    assert out["userName"] == "bjensen"
    assert out["name"] == {"givenName": "Barbara"}


def test_attributes_sub_attribute_of_multi_valued() -> None:
    out = project(USER, user_doc(), ["emails.value"], None)
    assert out["emails"] == [{"value": "b@x.test"}, {"value": "h@x.test"}]


def test_attributes_sub_attribute_missing_everywhere_drops_the_attribute() -> None:
    assert "emails" not in project(USER, user_doc(), ["emails.display"], None)


def test_attributes_urn_qualified_names() -> None:
    out = project(USER, user_doc(), [f"{ENTERPRISE_URN}:employeeNumber",
                                     f"{USER_URN}:displayName"], None)
    assert out == {"schemas": [USER_URN, ENTERPRISE_URN], "id": "u-1", "displayName": "Babs",
                   ENTERPRISE_URN: {"employeeNumber": "7"}}


def test_attributes_urn_qualified_sub_attribute() -> None:
    out = project(USER, user_doc(), [f"{ENTERPRISE_URN.upper()}:MANAGER.value"], None)
    assert out[ENTERPRISE_URN] == {"manager": {"value": "m-1"}}


def test_attributes_whole_extension_by_urn() -> None:
    out = project(USER, user_doc(), [ENTERPRISE_URN], None)
    assert out[ENTERPRISE_URN] == user_doc()[ENTERPRISE_URN]
    assert "userName" not in out


def test_attributes_unknown_extension() -> None:
    out = project(USER, user_doc(), [f"{CUSTOM}:badge"], None)
    assert out[CUSTOM] == {"badge": "42"}
    assert out["schemas"] == [USER_URN, CUSTOM]


def test_attributes_legacy_extension_prefix() -> None:
    out = project(USER, user_doc(), ["urn:scim:schemas:extension:enterprise:2.0:employeeNumber"],
                  None)
    assert out[ENTERPRISE_URN] == {"employeeNumber": "7"}


def test_attributes_unknown_name_returns_only_always() -> None:
    assert project(USER, user_doc(), ["shoeSize"], None) == {"schemas": [USER_URN], "id": "u-1"}


def test_excluded_members_on_groups() -> None:
    out = project(GROUP, group_doc(), None, ["members"])
    assert out == {"schemas": [GROUP_URN], "id": "g-1", "displayName": "Admins", "meta": META}


def test_excluded_cannot_remove_always() -> None:
    out = project(GROUP, group_doc(), None, ["id", "schemas", "MEMBERS"])
    assert out["id"] == "g-1"
    assert out["schemas"] == [GROUP_URN]
    assert "members" not in out


def test_excluded_sub_attribute() -> None:
    out = project(USER, user_doc(), None, ["emails.type", "name.givenName", "meta.location"])
    assert out["emails"][0] == {"value": "b@x.test", "primary": True}
    assert out["name"] == {"familyName": "Jensen"}
    assert "location" not in out["meta"]


def test_excluded_extension_and_its_schema_urn() -> None:
    out = project(USER, user_doc(), None, [ENTERPRISE_URN])
    assert ENTERPRISE_URN not in out
    assert out["schemas"] == [USER_URN, CUSTOM]


def test_excluded_extension_attribute() -> None:
    out = project(USER, user_doc(), None, [f"{ENTERPRISE_URN}:manager"])
    assert out[ENTERPRISE_URN] == {"employeeNumber": "7"}


def test_input_is_not_modified() -> None:
    doc = user_doc()
    project(USER, doc, ["emails.value"], ["name"])
    assert doc == user_doc()


REQ_URN = "urn:example:params:scim:schemas:core:2.0:Thing"
THING = ResourceType("Thing", "/Things", ScimSchema(REQ_URN, "Thing", "returned", (
    Attribute("plain"),
    Attribute("secret", returned="request"),
    Attribute("label", returned="always"),
    Attribute("detail", type="complex", sub_attributes=(
        Attribute("shown"), Attribute("asked", returned="request"),
        Attribute("hidden", returned="never"), Attribute("pinned", returned="always"))),
)))


def thing() -> dict[str, Any]:
    return {"schemas": [REQ_URN], "id": "t-1", "plain": "p", "secret": "s", "label": "l",
            "detail": {"shown": 1, "asked": 2, "hidden": 3, "pinned": 4}}


def test_request_attributes_only_when_named() -> None:
    assert "secret" not in project(THING, thing(), None, None)
    assert "secret" not in project(THING, thing(), ["plain"], None)
    assert project(THING, thing(), ["secret"], None)["secret"] == "s"


def test_always_attribute_survives_attributes_and_excluded() -> None:
    assert project(THING, thing(), ["plain"], None)["label"] == "l"
    assert project(THING, thing(), None, ["label"])["label"] == "l"


def test_sub_attribute_returned_characteristics() -> None:
    assert project(THING, thing(), None, None)["detail"] == {"shown": 1, "pinned": 4}
    assert project(THING, thing(), ["detail.asked"], None)["detail"] == {"asked": 2, "pinned": 4}
    assert project(THING, thing(), ["detail"], None)["detail"] == {"shown": 1, "pinned": 4}
    assert project(THING, thing(), None, ["detail.pinned", "detail.shown"])["detail"] == {
        "pinned": 4}
