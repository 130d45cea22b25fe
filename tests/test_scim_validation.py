"""validate_resource: types, required values, mutability, primary, password, extensions."""

from __future__ import annotations

import contextlib
from random import Random
from typing import Any

import pytest

from scim.errors import InvalidSyntax, InvalidValue, Mutability, ScimError
from scim.normalize import normalize_resource
from scim.schemas import (
    ENTERPRISE_URN,
    GROUP,
    GROUP_URN,
    USER,
    USER_URN,
    Attribute,
    ResourceType,
    Schema,
)
from scim.validation import ValidatedResource, validate_resource


def user(**attrs: Any) -> dict[str, Any]:
    return {"schemas": [USER_URN], "userName": "bjensen", **attrs}


def group(**attrs: Any) -> dict[str, Any]:
    return {"schemas": [GROUP_URN], "displayName": "Tour Guides", **attrs}


def invalid(rt: ResourceType, doc: Any, error: type[ScimError] = InvalidValue,
            **kw: Any) -> ScimError:
    with pytest.raises(error) as caught:
        validate_resource(rt, doc, **kw)
    assert caught.value.status == 400
    assert caught.value.scim_type == error.scim_type
    return caught.value


def test_minimal_user_and_group() -> None:
    assert validate_resource(USER, user()) == ValidatedResource(
        {"schemas": [USER_URN], "userName": "bjensen"})
    assert validate_resource(GROUP, group()).doc == {"schemas": [GROUP_URN],
                                                     "displayName": "Tour Guides"}


# --- schemas ------------------------------------------------------------------------------

@pytest.mark.parametrize("schemas", [None, [], [GROUP_URN], "nope", [ENTERPRISE_URN]])
def test_schemas_must_name_the_core_schema(schemas: Any) -> None:
    doc = user()
    doc["schemas"] = schemas
    error = invalid(USER, doc)
    assert "schemas" in error.detail


def test_schemas_is_rebuilt_from_the_data() -> None:
    doc = validate_resource(USER, user(schemas=[USER_URN, ENTERPRISE_URN, "urn:x:unused"],
                                       **{"urn:okta:ext": {"a": 1}})).doc
    assert doc["schemas"] == [USER_URN, "urn:okta:ext"]


def test_extension_urn_is_added_to_schemas_when_it_carries_data() -> None:
    doc = validate_resource(USER, user(**{ENTERPRISE_URN: {"department": "Sales"}})).doc
    assert doc["schemas"] == [USER_URN, ENTERPRISE_URN]
    assert doc[ENTERPRISE_URN] == {"department": "Sales"}


def test_not_an_object_is_invalid_syntax() -> None:
    invalid(USER, ["x"], InvalidSyntax)


# --- required -------------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, "", "   "])
def test_user_name_required(value: Any) -> None:
    doc = user(userName=value)
    error = invalid(USER, doc)
    assert "userName" in error.detail


def test_user_name_missing() -> None:
    assert "userName" in invalid(USER, {"schemas": [USER_URN]}).detail


def test_group_display_name_required() -> None:
    assert "displayName" in invalid(GROUP, {"schemas": [GROUP_URN]}).detail


# --- types ----------------------------------------------------------------------------

@pytest.mark.parametrize(("attrs", "named"), [
    ({"userName": 7}, "userName"),
    ({"active": "yes"}, "active"),
    ({"active": 1}, "active"),
    ({"name": "Barbara"}, "name"),
    ({"name": {"givenName": 3}}, "name.givenName"),
    ({"emails": [{"value": 5}]}, "emails.value"),
    ({"emails": ["a@b.c"]}, "emails"),
    ({"emails": [{"value": "a@b.c", "primary": "maybe"}]}, "emails.primary"),
    ({"x509Certificates": [{"value": "not base64!"}]}, "x509Certificates.value"),
    ({"profileUrl": 12}, "profileUrl"),
    ({ENTERPRISE_URN: {"manager": {"value": 1}}}, f"{ENTERPRISE_URN}:manager.value"),
    ({ENTERPRISE_URN: {"employeeNumber": ["7"]}}, f"{ENTERPRISE_URN}:employeeNumber"),
])
def test_wrong_types_name_the_attribute(attrs: dict[str, Any], named: str) -> None:
    assert invalid(USER, user(**attrs)).detail.startswith(f"{named}:")


def test_single_object_where_a_list_is_expected_is_wrapped() -> None:
    doc = validate_resource(USER, user(emails={"value": "a@b.c", "type": "work"})).doc
    assert doc["emails"] == [{"value": "a@b.c", "type": "work"}]


def test_valid_binary_and_reference() -> None:
    doc = validate_resource(USER, user(x509Certificates=[{"value": "TUlJREF="}],
                                       photos=[{"value": "https://x.test/p.jpg"}])).doc
    assert doc["x509Certificates"] == [{"value": "TUlJREF="}]


def test_extension_data_must_be_an_object() -> None:
    assert ENTERPRISE_URN in invalid(USER, user(**{ENTERPRISE_URN: "Sales"})).detail
    assert "urn:okta:ext" in invalid(USER, user(**{"urn:okta:ext": ["x"]})).detail


SAMPLE_URN = "urn:example:params:scim:schemas:core:2.0:Sample"
SAMPLE = ResourceType("Sample", "/Samples", Schema(SAMPLE_URN, "Sample", "typed", (
    Attribute("count", type="integer"),
    Attribute("ratio", type="decimal"),
    Attribute("since", type="dateTime"),
    Attribute("blob", type="binary"),
    Attribute("tags", multi_valued=True),
)))


@pytest.mark.parametrize(("attr", "value"), [
    ("count", 3), ("count", -1), ("ratio", 0.5), ("ratio", 2),
    ("since", "2008-01-23T04:56:22Z"), ("since", "2011-05-13T04:42:34.123+02:00"),
    ("blob", "aGVsbG8="), ("tags", ["a", "b"]), ("tags", "a"),
])
def test_typed_values_accepted_as_json(attr: str, value: Any) -> None:
    doc = validate_resource(SAMPLE, {"schemas": [SAMPLE_URN], attr: value}).doc
    assert doc[attr] == (value if attr != "tags" or isinstance(value, list) else [value])


@pytest.mark.parametrize(("attr", "value"), [
    ("count", "3"), ("count", 1.5), ("count", True), ("ratio", "0.5"), ("ratio", False),
    ("since", "yesterday"), ("since", "2008-01-23"), ("since", 1700000000),
    ("blob", "***"), ("blob", 5), ("tags", [1]),
])
def test_typed_values_refused(attr: str, value: Any) -> None:
    assert invalid(SAMPLE, {"schemas": [SAMPLE_URN], attr: value}).detail.startswith(attr)


# --- primary (RFC 7643 §2.4) ------------------------------------------------------------

def test_at_most_one_primary() -> None:
    emails = [{"value": "a@b.c", "primary": True}, {"value": "d@e.f", "primary": True}]
    assert "primary" in invalid(USER, user(emails=emails)).detail


def test_one_primary_and_falses_are_fine() -> None:
    emails = [{"value": "a@b.c", "primary": True}, {"value": "d@e.f", "primary": False}]
    assert validate_resource(USER, user(emails=emails)).doc["emails"] == emails


# --- readOnly, unknown, password --------------------------------------------------------

def test_read_only_attributes_are_ignored() -> None:
    result = validate_resource(USER, user(
        id="client-id", meta={"resourceType": "User"}, groups=[{"value": "g-1"}],
        **{ENTERPRISE_URN: {"manager": {"value": "m-1", "displayName": "Boss"}}}))
    assert result.doc == {"schemas": [USER_URN, ENTERPRISE_URN], "userName": "bjensen",
                          ENTERPRISE_URN: {"manager": {"value": "m-1"}}}
    assert result.ignored == ()


def test_unknown_core_attributes_are_dropped_and_reported() -> None:
    result = validate_resource(USER, user(favouriteColour="blue", name={"nick": "B"},
                                          **{ENTERPRISE_URN: {"badge": "7"}}))
    assert result.doc == {"schemas": [USER_URN], "userName": "bjensen"}
    assert result.ignored == ("favouriteColour", "name.nick", f"{ENTERPRISE_URN}:badge")


def test_unknown_extension_is_kept_as_sent() -> None:
    urn = "urn:okta:custom:1.0:User"
    result = validate_resource(USER, user(**{urn: {"badge": {"n": 7}}}))
    assert result.doc[urn] == {"badge": {"n": 7}}
    assert urn in result.doc["schemas"]


def test_password_is_kept_apart() -> None:
    result = validate_resource(USER, user(password="s3cret"))
    assert result.password == "s3cret"
    assert "password" not in result.doc


def test_password_must_be_a_string() -> None:
    assert "password" in invalid(USER, user(password=1234)).detail


def test_canonical_case_is_applied() -> None:
    doc = validate_resource(USER, {"schemas": [USER_URN.upper()], "USERNAME": "b",
                                   "Name": {"GIVENNAME": "B"}}).doc
    assert doc == {"schemas": [USER_URN], "userName": "b", "name": {"givenName": "B"}}


# --- id and immutable -------------------------------------------------------------------

def test_post_ignores_a_client_id() -> None:
    assert "id" not in validate_resource(USER, user(id="mine")).doc


def test_same_id_on_replace_is_fine_and_kept() -> None:
    existing = {"id": "u-1", **user()}
    assert validate_resource(USER, user(id="u-1"), existing=existing).doc["id"] == "u-1"
    assert validate_resource(USER, user(), existing=existing).doc["id"] == "u-1"


def test_changed_id_is_mutability() -> None:
    error = invalid(GROUP, group(id="other"), Mutability, existing={"id": "g-1"})
    assert "id" in error.detail


IMM_URN = "urn:example:params:scim:schemas:core:2.0:Badge"
BADGE = ResourceType("Badge", "/Badges", Schema(IMM_URN, "Badge", "immutable", (
    Attribute("serial", mutability="immutable"),
    Attribute("holder", type="complex", sub_attributes=(
        Attribute("value", mutability="immutable"), Attribute("display"))),
)))


def test_immutable_changed_is_mutability() -> None:
    existing = {"id": "b-1", "schemas": [IMM_URN], "serial": "A1"}
    invalid(BADGE, {"schemas": [IMM_URN], "serial": "B2"}, Mutability, existing=existing)


def test_immutable_sub_attribute_changed_is_mutability() -> None:
    existing = {"id": "b-1", "schemas": [IMM_URN], "holder": {"value": "h"}}
    doc = {"schemas": [IMM_URN], "holder": {"value": "other"}}
    assert "holder.value" in invalid(BADGE, doc, Mutability, existing=existing).detail


def test_immutable_resent_or_left_out_keeps_its_value() -> None:
    existing = {"id": "b-1", "schemas": [IMM_URN], "serial": "A1"}
    assert validate_resource(BADGE, {"schemas": [IMM_URN], "serial": "A1"},
                             existing=existing).doc["serial"] == "A1"
    assert validate_resource(BADGE, {"schemas": [IMM_URN]},
                             existing=existing).doc["serial"] == "A1"


def test_immutable_may_be_set_when_unset() -> None:
    existing = {"id": "b-1", "schemas": [IMM_URN]}
    assert validate_resource(BADGE, {"schemas": [IMM_URN], "serial": "A1"},
                             existing=existing).doc["serial"] == "A1"


def test_group_members_can_be_replaced_despite_immutable_sub_attributes() -> None:
    existing = {"id": "g-1", **group(members=[{"value": "u-1", "type": "User"}])}
    doc = validate_resource(GROUP, group(members=[{"value": "u-2"}]), existing=existing).doc
    assert doc["members"] == [{"value": "u-2"}]


# --- group members ----------------------------------------------------------------------

def test_member_value_required() -> None:
    assert "members.value" in invalid(GROUP, group(members=[{"type": "User"}])).detail


@pytest.mark.parametrize(("sent", "stored"), [("User", "User"), ("group", "Group"),
                                              ("USER", "User")])
def test_member_type_is_user_or_group(sent: str, stored: str) -> None:
    doc = validate_resource(GROUP, group(members=[{"value": "x", "type": sent}])).doc
    assert doc["members"] == [{"value": "x", "type": stored}]


def test_member_type_other_is_refused() -> None:
    assert "members.type" in invalid(GROUP, group(members=[{"value": "x",
                                                              "type": "Device"}])).detail


def test_member_display_is_read_only() -> None:
    doc = validate_resource(GROUP, group(members=[{"value": "x", "display": "Bob"}])).doc
    assert doc["members"] == [{"value": "x"}]


# --- robustness: odd JSON never escapes as anything but a ScimError ----------------------

ODD_VALUES: list[Any] = [None, "", True, "False", 0, 1.5, [], {}, [None], [1], ["x"], [{}],
                         [{"value": None}], {"value": 1}, {"a": {"b": []}}, "urn:x",
                         [{"value": "v", "primary": "true"}, {"value": "w", "primary": True}]]
ODD_KEYS = ["userName", "USERNAME", "name", "emails", "active", "members", "groups", "meta",
            "id", "schemas", ENTERPRISE_URN, "urn:x:y", "name.givenName", "password",
            f"{ENTERPRISE_URN}:manager", "x509Certificates", "displayName", "$ref",
            "urn:scim:schemas:core:1.0"]


def test_odd_documents_raise_only_scim_errors() -> None:
    rng = Random(7)
    for _ in range(3000):
        body = {rng.choice(ODD_KEYS): rng.choice(ODD_VALUES) for _ in range(rng.randint(0, 5))}
        rt = rng.choice([USER, GROUP])
        with contextlib.suppress(ScimError):
            validate_resource(rt, normalize_resource(rt, body),
                              existing=rng.choice([None, {"id": "x"}]))
