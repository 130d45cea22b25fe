"""normalize_resource: one test per client-quirk rule, and the inputs it must not accept."""

from __future__ import annotations

import pytest

from scim.errors import InvalidSyntax
from scim.normalize import RESOURCE_RULES, normalize_resource
from scim.schemas import ENTERPRISE_URN, GROUP, GROUP_URN, USER, USER_URN


def user(**attrs: object) -> dict[str, object]:
    return {"schemas": [USER_URN], "userName": "bjensen", **attrs}


@pytest.mark.parametrize(("legacy", "mapped"), [
    ("urn:scim:schemas:core:1.0", USER_URN),
    ("urn:scim:schemas:core:2.0", USER_URN),
    ("URN:SCIM:SCHEMAS:CORE:2.0", USER_URN),
    ("urn:scim:schemas:extension:enterprise:2.0", ENTERPRISE_URN),
    ("urn:scim:schemas:extension:enterprise:1.0", ENTERPRISE_URN),
    ("urn:ietf:params:scim:schemas:core:2.0:user", USER_URN),
])
def test_legacy_and_miscased_urns_are_mapped(legacy: str, mapped: str) -> None:
    doc = normalize_resource(USER, {"schemas": [legacy], "userName": "a",
                                    ENTERPRISE_URN: {"department": "x"}})
    assert mapped in doc["schemas"]


def test_legacy_core_urn_maps_to_the_resource_types_core() -> None:
    doc = normalize_resource(GROUP, {"schemas": ["urn:scim:schemas:core:1.0"], "displayName": "g"})
    assert doc["schemas"] == [GROUP_URN]


def test_legacy_extension_key_is_renamed_and_deduplicated() -> None:
    doc = normalize_resource(USER, user(**{
        "schemas": [USER_URN, "urn:scim:schemas:extension:enterprise:2.0", ENTERPRISE_URN],
        "urn:scim:schemas:extension:enterprise:2.0": {"department": "Sales"}}))
    assert doc["schemas"] == [USER_URN, ENTERPRISE_URN]
    assert doc[ENTERPRISE_URN] == {"department": "Sales"}


def test_bare_string_schemas_is_read_as_an_array() -> None:
    assert normalize_resource(USER, {"schemas": USER_URN, "userName": "a"})["schemas"] == [
        USER_URN]


@pytest.mark.parametrize("text", ["true", "True", "TRUE", " true "])
def test_true_strings_become_booleans(text: str) -> None:
    assert normalize_resource(USER, user(active=text))["active"] is True


@pytest.mark.parametrize("text", ["false", "False", "FALSE"])
def test_false_strings_become_booleans(text: str) -> None:
    assert normalize_resource(USER, user(active=text))["active"] is False


def test_boolean_strings_in_sub_attributes() -> None:
    doc = normalize_resource(USER, user(emails=[{"value": "a@b.c", "primary": "True"}]))
    assert doc["emails"] == [{"value": "a@b.c", "primary": True}]


def test_other_strings_for_booleans_are_left_for_validation() -> None:
    assert normalize_resource(USER, user(active="yes"))["active"] == "yes"
    assert normalize_resource(USER, user(displayName="true"))["displayName"] == "true"


def test_null_id_is_dropped() -> None:
    assert "id" not in normalize_resource(USER, user(id=None))


def test_meta_is_dropped() -> None:
    doc = normalize_resource(USER, user(meta={"resourceType": "User", "version": 'W/"1"'}))
    assert "meta" not in doc


def test_empty_strings_are_unset_at_any_depth() -> None:
    doc = normalize_resource(USER, user(title="", name={"givenName": "B", "middleName": ""},
                                        **{ENTERPRISE_URN: {"department": ""}}))
    assert "title" not in doc
    assert doc["name"] == {"givenName": "B"}
    assert ENTERPRISE_URN not in doc


def test_nulls_are_unset_and_empty_arrays_kept() -> None:
    doc = normalize_resource(GROUP, {"schemas": [GROUP_URN], "displayName": "g",
                                     "externalId": None, "members": []})
    assert doc == {"schemas": [GROUP_URN], "displayName": "g", "members": []}


def test_valueless_multi_value_elements_are_dropped() -> None:
    doc = normalize_resource(USER, user(phoneNumbers=[{"value": "", "type": "work"}],
                                        emails=[{"value": "a@b.c"}, {"type": "home"}]))
    assert "phoneNumbers" not in doc
    assert doc["emails"] == [{"value": "a@b.c"}]


def test_dataless_unknown_extension_is_dropped_with_its_urn() -> None:
    doc = normalize_resource(USER, user(**{
        "schemas": [USER_URN, "urn:okta:custom:1.0:User"], "urn:okta:custom:1.0:User": {}}))
    assert doc["schemas"] == [USER_URN]
    assert "urn:okta:custom:1.0:User" not in doc


def test_unknown_extension_urn_without_any_key_is_dropped() -> None:
    doc = normalize_resource(USER, user(schemas=[USER_URN, "urn:onelogin:custom"]))
    assert doc["schemas"] == [USER_URN]


def test_unknown_extension_with_data_is_kept() -> None:
    urn = "urn:okta:custom:1.0:User"
    doc = normalize_resource(USER, user(**{"schemas": [USER_URN, urn], urn: {"badge": "7"}}))
    assert doc[urn] == {"badge": "7"}
    assert doc["schemas"] == [USER_URN, urn]


def test_known_extension_urn_in_schemas_is_kept_without_data() -> None:
    doc = normalize_resource(USER, user(schemas=[USER_URN, ENTERPRISE_URN]))
    assert doc["schemas"] == [USER_URN, ENTERPRISE_URN]


def test_bare_string_manager_is_wrapped() -> None:
    doc = normalize_resource(USER, user(**{ENTERPRISE_URN: {"manager": "m-1"}}))
    assert doc[ENTERPRISE_URN] == {"manager": {"value": "m-1"}}


def test_empty_manager_string_is_unset() -> None:
    doc = normalize_resource(USER, user(**{ENTERPRISE_URN: {"manager": "", "division": "x"}}))
    assert doc[ENTERPRISE_URN] == {"division": "x"}


def test_null_ref_is_dropped() -> None:
    doc = normalize_resource(GROUP, {"schemas": [GROUP_URN], "displayName": "g",
                                     "members": [{"$ref": None, "value": "u-1"}]})
    assert doc["members"] == [{"value": "u-1"}]


def test_okta_groups_on_user_is_dropped() -> None:
    assert "groups" not in normalize_resource(USER, user(groups=[]))
    assert "groups" not in normalize_resource(USER, user(groups=[{"value": "g-1"}]))


@pytest.mark.parametrize(("sent", "canonical"), [
    ("USERNAME", "userName"), ("username", "userName"), ("DisplayName", "displayName"),
    ("EXTERNALID", "externalId"), ("Active", "active"), ("Schemas", "schemas"),
])
def test_attribute_names_are_canonicalised(sent: str, canonical: str) -> None:
    body: dict[str, object] = {"schemas": [USER_URN], "userName": "a"}
    value = body.pop(canonical, "x")
    body[sent] = value
    doc = normalize_resource(USER, body)
    assert doc[canonical] == value
    assert sent == canonical or sent not in doc


def test_sub_attribute_and_extension_names_are_canonicalised() -> None:
    doc = normalize_resource(USER, user(**{
        "NAME": {"GivenName": "B", "FAMILYNAME": "J"},
        "Emails": [{"Value": "a@b.c", "TYPE": "work"}],
        ENTERPRISE_URN.upper(): {"EmployeeNumber": "7", "MANAGER": {"VALUE": "m"}}}))
    assert doc["name"] == {"givenName": "B", "familyName": "J"}
    assert doc["emails"] == [{"value": "a@b.c", "type": "work"}]
    assert doc[ENTERPRISE_URN] == {"employeeNumber": "7", "manager": {"value": "m"}}


def test_unknown_names_are_left_for_validation() -> None:
    assert normalize_resource(USER, user(favouriteColour="blue"))["favouriteColour"] == "blue"


def test_an_attribute_twice_in_different_case_is_refused() -> None:
    with pytest.raises(InvalidSyntax) as caught:
        normalize_resource(USER, {"schemas": [USER_URN], "userName": "a", "USERNAME": "b"})
    assert caught.value.scim_type == "invalidSyntax"


def test_malformed_schemas_are_left_for_validation() -> None:
    doc = normalize_resource(USER, {"schemas": [{"a": 1}, 2, USER_URN], "userName": "a"})
    assert doc["schemas"] == [{"a": 1}, 2, USER_URN]


@pytest.mark.parametrize("body", [None, [], "user", 7])
def test_a_body_that_is_not_an_object_is_refused(body: object) -> None:
    with pytest.raises(InvalidSyntax) as caught:
        normalize_resource(USER, body)
    assert caught.value.status == 400


def test_input_is_not_modified() -> None:
    body = user(active="true", meta={"x": 1}, **{ENTERPRISE_URN: {"manager": "m"}})
    snapshot = repr(body)
    normalize_resource(USER, body)
    assert repr(body) == snapshot


def test_normalisation_is_idempotent() -> None:
    body = user(active="True", id=None, title="", **{ENTERPRISE_URN: {"manager": "m"}})
    once = normalize_resource(USER, body)
    assert normalize_resource(USER, once) == once


def test_every_rule_is_named_and_documented() -> None:
    for rule in RESOURCE_RULES:
        assert rule.__doc__ and ("RFC" in rule.__doc__ or "scim-clients" in rule.__doc__), rule
