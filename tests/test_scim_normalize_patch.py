"""normalize_patch: the PatchOp envelope, and one test per client-quirk rule."""

from __future__ import annotations

from typing import Any

import pytest

from scim.errors import InvalidPath, InvalidSyntax, InvalidValue, NoTarget, ScimError
from scim.normalize import normalize_patch
from scim.patch_op import PatchOperation
from scim.schemas import ENTERPRISE_URN, GROUP, GROUP_URN, PATCH_OP_URN, USER

Op = PatchOperation


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP_URN], "Operations": list(operations)}


def user_ops(*operations: dict[str, Any]) -> list[PatchOperation]:
    return normalize_patch(USER, patch(*operations))


def group_ops(*operations: dict[str, Any]) -> list[PatchOperation]:
    return normalize_patch(GROUP, patch(*operations))


# --- the envelope (RFC 7644 §3.5.2) -------------------------------------------------------

@pytest.mark.parametrize(("body", "error"), [
    (None, InvalidSyntax),
    ([], InvalidSyntax),
    ({"Operations": [{"op": "add", "path": "title", "value": "x"}]}, InvalidSyntax),
    ({"schemas": [GROUP_URN], "Operations": [{"op": "remove", "path": "title"}]}, InvalidSyntax),
    ({"schemas": "urn:x", "Operations": [{"op": "remove", "path": "title"}]}, InvalidSyntax),
    ({"schemas": [PATCH_OP_URN]}, InvalidSyntax),
    ({"schemas": [PATCH_OP_URN], "Operations": []}, InvalidSyntax),
    ({"schemas": [PATCH_OP_URN], "Operations": {"op": "remove"}}, InvalidSyntax),
    ({"schemas": [PATCH_OP_URN], "Operations": ["remove"]}, InvalidSyntax),
    (patch({"path": "title"}), InvalidSyntax),
    (patch({"op": "delete", "path": "title"}), InvalidSyntax),
    (patch({"op": "move", "path": "title"}), InvalidSyntax),
    (patch({"op": 3, "path": "title"}), InvalidSyntax),
    (patch({"op": "remove"}), NoTarget),
    (patch({"op": "remove", "path": ""}), NoTarget),
    (patch({"op": "add", "path": "title"}), InvalidValue),
    (patch({"op": "replace"}), InvalidValue),
    (patch({"op": "replace", "value": "x"}), InvalidValue),
    (patch({"op": "add", "value": ["x"]}), InvalidValue),
    (patch({"op": "add", "path": 7, "value": "x"}), InvalidPath),
    (patch({"op": "remove", "path": "members", "value": [{"nope": "x"}]}), InvalidValue),
    (patch({"op": "remove", "path": "members", "value": [{"value": {"a": 1}}]}), InvalidValue),
    (patch({"op": "remove", "path": "members", "value": [7]}), InvalidValue),
], ids=lambda v: repr(v)[:60])
def test_bad_envelopes_and_operations(body: Any, error: type[ScimError]) -> None:
    with pytest.raises(error) as caught:
        normalize_patch(GROUP, body)
    assert caught.value.status == 400
    assert caught.value.scim_type == error.scim_type


def test_unknown_op_is_invalid_syntax() -> None:
    with pytest.raises(InvalidSyntax) as caught:
        user_ops({"op": "copy", "path": "title", "value": "x"})
    assert caught.value.scim_type == "invalidSyntax"


def test_envelope_member_names_and_urn_in_any_case() -> None:
    body = {"SCHEMAS": [PATCH_OP_URN.upper()],
            "operations": [{"OP": "Add", "PATH": "title", "VALUE": "Boss"}]}
    assert normalize_patch(USER, body) == [Op("add", "title", "Boss")]


# --- op names -------------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "op"), [("Replace", "replace"), ("ADD", "add"),
                                          ("Remove", "remove"), (" add ", "add")])
def test_op_is_lower_cased(sent: str, op: str) -> None:
    ops = user_ops({"op": sent, "path": "title", "value": "x"})
    assert ops[0].op == op


# --- Entra ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [("False", False), ("false", False),
                                             ("True", True), ("TRUE", True)])
def test_string_booleans_for_boolean_targets(text: str, value: bool) -> None:
    assert user_ops({"op": "Replace", "path": "active", "value": text}) == [
        Op("replace", "active", value)]


def test_string_boolean_for_a_filtered_sub_attribute() -> None:
    ops = user_ops({"op": "replace", "path": 'emails[type eq "work"].primary', "value": "true"})
    assert ops == [Op("replace", 'emails[type eq "work"].primary', True)]


def test_string_for_a_string_target_is_kept() -> None:
    assert user_ops({"op": "replace", "path": "title", "value": "False"}) == [
        Op("replace", "title", "False")]


def test_remove_with_value_list_is_a_selector() -> None:
    ops = group_ops({"op": "Remove", "path": "members",
                     "value": [{"value": "u-1"}, {"value": "u-2", "display": "Bob"}]})
    assert ops == [Op("remove", 'members[value eq "u-1"]', None),
                   Op("remove", 'members[value eq "u-2"]', None)]


def test_remove_selector_escapes_quotes_and_backslashes() -> None:
    ops = group_ops({"op": "remove", "path": "members", "value": [{"value": 'a"b\\c'}]})
    assert ops == [Op("remove", 'members[value eq "a\\"b\\\\c"]', None)]


def test_remove_selector_from_a_single_object_or_string() -> None:
    assert group_ops({"op": "remove", "path": "members", "value": {"value": "u-1"}}) == [
        Op("remove", 'members[value eq "u-1"]', None)]
    assert group_ops({"op": "remove", "path": "Members", "value": ["u-1"]}) == [
        Op("remove", 'members[value eq "u-1"]', None)]


def test_remove_with_empty_value_list_removes_nothing() -> None:
    assert group_ops({"op": "remove", "path": "members", "value": []}) == []


def test_remove_without_value_keeps_its_path() -> None:
    assert group_ops({"op": "remove", "path": "members"}) == [Op("remove", "members", None)]


def test_remove_selector_without_value_uses_the_other_sub_attributes() -> None:
    ops = user_ops({"op": "remove", "path": "emails", "value": [{"type": "home",
                                                                  "primary": "false"}]})
    assert ops == [Op("remove", 'emails[type eq "home" and primary eq false]', None)]


def test_remove_value_on_a_single_valued_attribute_is_ignored() -> None:
    ops = user_ops({"op": "remove", "path": f"{ENTERPRISE_URN}:manager",
                    "value": [{"value": "m-1"}]})
    assert ops == [Op("remove", f"{ENTERPRISE_URN}:manager", None)]


def test_pathless_dotted_and_urn_keys_become_operations() -> None:
    ops = user_ops({"op": "Replace", "value": {
        "displayName": "Jane", "name.givenName": "J", "NAME.FamilyName": "D",
        f"{ENTERPRISE_URN}:employeeNumber": "7", "active": "False"}})
    assert ops == [
        Op("replace", None, {"displayName": "Jane", "active": False}),
        Op("replace", "name.givenName", "J"),
        Op("replace", "name.familyName", "D"),
        Op("replace", f"{ENTERPRISE_URN}:employeeNumber", "7"),
    ]


def test_pathless_with_only_qualified_keys_has_no_remaining_operation() -> None:
    ops = user_ops({"op": "add", "value": {"name.givenName": "J"}})
    assert ops == [Op("add", "name.givenName", "J")]


def test_pathless_core_urn_qualified_key_loses_its_prefix() -> None:
    ops = user_ops({"op": "replace",
                    "value": {"urn:ietf:params:scim:schemas:core:2.0:User:userName": "x"}})
    assert ops == [Op("replace", "userName", "x")]


def test_pathless_extension_object_is_normalised() -> None:
    ops = user_ops({"op": "add", "value": {ENTERPRISE_URN.lower(): {"Manager": "m-1"}}})
    assert ops == [Op("add", None, {ENTERPRISE_URN: {"manager": {"value": "m-1"}}})]


def test_pathless_qualified_manager_is_wrapped() -> None:
    ops = user_ops({"op": "replace", "value": {f"{ENTERPRISE_URN}:manager": "m-1"}})
    assert ops == [Op("replace", f"{ENTERPRISE_URN}:manager", {"value": "m-1"})]


def test_member_add_drops_null_ref() -> None:
    ops = group_ops({"op": "Add", "path": "members", "value": [{"$ref": None, "value": "u-1"}]})
    assert ops == [Op("add", "members", [{"value": "u-1"}])]


def test_member_add_of_one_object_becomes_an_array() -> None:
    ops = group_ops({"op": "add", "path": "members", "value": {"value": "u-1"}})
    assert ops == [Op("add", "members", [{"value": "u-1"}])]


def test_bare_string_manager_value_is_wrapped() -> None:
    ops = user_ops({"op": "Add", "path": f"{ENTERPRISE_URN}:manager", "value": "m-1"})
    assert ops == [Op("add", f"{ENTERPRISE_URN}:manager", {"value": "m-1"})]


def test_manager_value_sub_attribute_string_is_left_alone() -> None:
    ops = user_ops({"op": "replace", "path": f"{ENTERPRISE_URN}:manager.value", "value": "m"})
    assert ops == [Op("replace", f"{ENTERPRISE_URN}:manager.value", "m")]


# --- Okta and authentik -----------------------------------------------------------------

def test_okta_deactivate_passes_through() -> None:
    assert user_ops({"op": "replace", "value": {"active": False}}) == [
        Op("replace", None, {"active": False})]


def test_authentik_repeated_schemas_dropped_and_id_kept() -> None:
    ops = group_ops({"op": "replace", "value": {"schemas": [GROUP_URN], "id": "g-1",
                                                 "displayName": "New", "meta": {"x": 1}}})
    assert ops == [Op("replace", None, {"id": "g-1", "displayName": "New"})]


def test_okta_membership_mix_is_kept_in_order() -> None:
    ops = group_ops({"op": "remove", "path": 'members[value eq "u-2"]'},
                    {"op": "add", "path": "members", "value": [{"value": "u-1"}]})
    assert ops == [Op("remove", 'members[value eq "u-2"]', None),
                   Op("add", "members", [{"value": "u-1"}])]


# --- unset values (RFC 7643 §2.5; OneLogin "") ---------------------------------------------

@pytest.mark.parametrize("empty", [None, ""])
def test_replace_with_unset_value_is_a_remove(empty: Any) -> None:
    assert user_ops({"op": "replace", "path": "title", "value": empty}) == [
        Op("remove", "title", None)]


def test_add_of_an_unset_value_adds_nothing() -> None:
    assert user_ops({"op": "add", "path": "title", "value": ""}) == []


def test_pathless_replace_with_unset_values_removes_them() -> None:
    ops = user_ops({"op": "replace", "value": {
        "title": "", "nickName": "B", "name": {"middleName": None, "givenName": "G"},
        ENTERPRISE_URN: {"department": ""}}})
    assert ops == [
        Op("replace", None, {"nickName": "B", "name": {"givenName": "G"}}),
        Op("remove", "title", None),
        Op("remove", "name.middleName", None),
        Op("remove", f"{ENTERPRISE_URN}:department", None),
    ]


def test_pathless_object_left_empty_clears_only_its_parts() -> None:
    assert user_ops({"op": "replace", "value": {ENTERPRISE_URN: {"department": ""}}}) == [
        Op("remove", f"{ENTERPRISE_URN}:department", None)]
    assert user_ops({"op": "replace", "value": {"name": {}}}) == []


def test_unset_read_only_values_are_not_turned_into_removes() -> None:
    assert group_ops({"op": "replace", "value": {"id": None, "displayName": "x"}}) == [
        Op("replace", None, {"displayName": "x"})]


def test_empty_array_replace_is_kept() -> None:
    assert group_ops({"op": "replace", "path": "members", "value": []}) == [
        Op("replace", "members", [])]


# --- paths ------------------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "canonical"), [
    ("Active", "active"),
    ("NAME.givenname", "name.givenName"),
    (f"{ENTERPRISE_URN.upper()}:EMPLOYEENUMBER", f"{ENTERPRISE_URN}:employeeNumber"),
    ("urn:scim:schemas:extension:enterprise:2.0:department", f"{ENTERPRISE_URN}:department"),
    ('Emails[type eq "Work"].Value', 'emails[type eq "Work"].value'),
    ('members[value eq "a[b]"]', 'members[value eq "a[b]"]'),
    ("unknownAttr", "unknownAttr"),
    ('emails[type eq "work"', 'emails[type eq "work"'),
])
def test_paths_are_canonicalised_filters_untouched(sent: str, canonical: str) -> None:
    rt = GROUP if sent.startswith("members") else USER
    ops = normalize_patch(rt, patch({"op": "remove", "path": sent}))
    assert ops == [Op("remove", canonical, None)]


def test_path_naming_an_extension_takes_an_extension_object() -> None:
    ops = user_ops({"op": "add", "path": ENTERPRISE_URN.lower(),
                    "value": {"Manager": "m-1", "division": ""}})
    assert ops == [Op("add", ENTERPRISE_URN, {"manager": {"value": "m-1"}})]


def test_schemas_inside_an_extension_value_is_dropped() -> None:
    # scim2-tester's PATCH checks send scim2_models' dump of an Extension object.
    ops = user_ops({"op": "add", "path": ENTERPRISE_URN,
                    "value": {"schemas": [ENTERPRISE_URN], "employeeNumber": "7"}})
    assert ops == [Op("add", ENTERPRISE_URN, {"employeeNumber": "7"})]
    ops = user_ops({"op": "replace", "value": {ENTERPRISE_URN: {"schemas": [ENTERPRISE_URN],
                                                                "division": "d"}}})
    assert ops == [Op("replace", None, {ENTERPRISE_URN: {"division": "d"}})]


def test_filtered_path_value_is_one_element() -> None:
    ops = user_ops({"op": "replace", "path": 'emails[type eq "work"]',
                    "value": {"Value": "a@b.c", "primary": "true", "display": ""}})
    assert ops == [Op("replace", 'emails[type eq "work"]', {"value": "a@b.c", "primary": True})]


def test_input_is_not_modified() -> None:
    body = patch({"op": "Replace", "value": {"schemas": [GROUP_URN], "name.givenName": "x"}})
    snapshot = repr(body)
    normalize_patch(USER, body)
    assert repr(body) == snapshot
