"""The PATCH engine (scim.patch): RFC 7644 §3.5.2 examples, client shapes, atomicity,
mutability, primary values and members."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from scim.errors import (
    InvalidFilter,
    InvalidPath,
    InvalidSyntax,
    InvalidValue,
    Mutability,
    NoTarget,
)
from scim.patch import PatchOperation, apply_patch
from scim.schemas import ENTERPRISE_URN, GROUP, GROUP_URN, USER, USER_URN, ResourceType

BABS = "2819c223-7f76-453a-919d-413861904646"
JAMES = "08e1d05d-121c-4561-8b96-473d93df9210"


def op(name: str, path: str | None = None, value: Any = None) -> PatchOperation:
    return PatchOperation(name, path, value)


def patch(rt: ResourceType, doc: dict[str, Any], *ops: PatchOperation) -> dict[str, Any]:
    """apply_patch, checking that the input document is never changed."""
    before = copy.deepcopy(doc)
    result = apply_patch(rt, doc, list(ops))
    assert doc == before
    return result


def user(**extra: Any) -> dict[str, Any]:
    return {
        "schemas": [USER_URN],
        "id": "u1",
        "userName": "bjensen",
        "name": {"familyName": "Jensen", "givenName": "Barbara"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
        "addresses": [
            {"type": "work", "streetAddress": "100 Universal City Plaza", "primary": True},
            {"type": "home", "streetAddress": "456 Hollywood Blvd"},
        ],
        "active": True,
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
                 "lastModified": "2011-05-13T04:42:34Z", "version": 'W/"3"'},
        **extra,
    }


def group(*member_ids: str) -> dict[str, Any]:
    return {
        "schemas": [GROUP_URN], "id": "g1", "displayName": "Tour Guides",
        "members": [{"value": m, "type": "User"} for m in member_ids],
        "meta": {"resourceType": "Group", "created": "2010-01-23T04:56:22Z",
                 "lastModified": "2011-05-13T04:42:34Z", "version": 'W/"1"'},
    }


def member_ids(doc: dict[str, Any]) -> list[str]:
    return [m["value"] for m in doc.get("members", [])]


# RFC 7644 §3.5.2.1 add

def test_rfc_add_member() -> None:
    new = patch(GROUP, group(JAMES), op("add", "members", [{
        "display": "Babs Jensen", "$ref": f"https://example.com/v2/Users/{BABS}", "value": BABS,
    }]))
    assert member_ids(new) == [JAMES, BABS]
    # display is readOnly (server-set) and ignored; $ref is immutable and newly set
    assert new["members"][1] == {"value": BABS, "$ref": f"https://example.com/v2/Users/{BABS}"}


def test_rfc_add_without_path() -> None:
    new = patch(USER, user(), op("add", None, {
        "emails": [{"value": "babs@jensen.org", "type": "home"}], "nickname": "Babs"}))
    assert [e["value"] for e in new["emails"]] == ["bjensen@example.com", "babs@jensen.org"]
    assert new["nickName"] == "Babs" and "nickname" not in new


def test_add_to_complex_singular_merges() -> None:
    new = patch(USER, user(), op("add", "name", {"middleName": "Jane", "GIVENNAME": "Babs"}))
    assert new["name"] == {"familyName": "Jensen", "givenName": "Babs", "middleName": "Jane"}


def test_add_existing_value_is_a_no_op() -> None:
    doc = user()
    assert patch(USER, doc, op("add", "emails", [dict(doc["emails"][0])])) == doc
    assert patch(USER, doc, op("add", "emails", [{"value": "BJENSEN@example.com",
                                                  "type": "work", "primary": True}])) == doc


# RFC 7644 §3.5.2.2 remove

def test_rfc_remove_one_member() -> None:
    new = patch(GROUP, group(BABS, JAMES), op("remove", f'members[value eq "{BABS}"]'))
    assert member_ids(new) == [JAMES]


def test_rfc_remove_all_members() -> None:
    new = patch(GROUP, group(BABS, JAMES), op("remove", "members"))
    assert "members" not in new


def test_rfc_remove_all_then_add() -> None:
    new = patch(GROUP, group("old-1", "old-2"), op("remove", "members"), op("add", "members", [
        {"display": "Babs Jensen", "value": BABS}, {"display": "James Smith", "value": JAMES}]))
    assert member_ids(new) == [BABS, JAMES]


def test_rfc_remove_by_complex_filter() -> None:
    doc = user(emails=[{"value": "bjensen@example.com", "type": "work"},
                       {"value": "babs@jensen.org", "type": "home"}])
    new = patch(USER, doc, op("remove", 'emails[type eq "work" and value ew "example.com"]'))
    assert new["emails"] == [{"value": "babs@jensen.org", "type": "home"}]


def test_remove_sub_attribute_and_single_values() -> None:
    new = patch(USER, user(), op("remove", "name.givenName"), op("remove", "active"),
                op("remove", 'addresses[type eq "home"].streetAddress'))
    assert new["name"] == {"familyName": "Jensen"} and "active" not in new
    assert new["addresses"][1] == {"type": "home"}
    assert "name" not in patch(USER, user(), op("remove", "name.givenName"),
                               op("remove", "NAME.familyName"))


def test_remove_without_path_is_no_target() -> None:
    with pytest.raises(NoTarget):
        patch(USER, user(), op("remove"))


def test_remove_with_a_filter_matching_nothing_changes_nothing() -> None:
    doc = group(BABS)
    assert patch(GROUP, doc, op("remove", 'members[value eq "not-a-member"]')) == doc
    assert patch(USER, user(), op("remove", 'emails[type eq "other"]')) == user()


# RFC 7644 §3.5.2.3 replace

def test_rfc_replace_all_members() -> None:
    new = patch(GROUP, group("old"), op("replace", "members", [
        {"display": "Babs Jensen", "value": BABS}, {"display": "James Smith", "value": JAMES}]))
    assert member_ids(new) == [BABS, JAMES]


def test_rfc_replace_work_address() -> None:
    value = {"type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood",
             "region": "CA", "postalCode": "91608", "country": "US",
             "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US", "primary": True}
    new = patch(USER, user(), op("replace", 'addresses[type eq "work"]', value))
    assert new["addresses"] == [value, {"type": "home", "streetAddress": "456 Hollywood Blvd"}]


def test_rfc_replace_sub_attribute_through_filter() -> None:
    new = patch(USER, user(), op("replace", 'addresses[type eq "work"].streetAddress',
                                 "1010 Broadway Ave"))
    assert new["addresses"][0]["streetAddress"] == "1010 Broadway Ave"


def test_rfc_replace_without_path() -> None:
    emails = [{"value": "bjensen@example.com", "type": "work", "primary": True},
              {"value": "babs@jensen.org", "type": "home"}]
    new = patch(USER, user(emails=[{"value": "old@x", "type": "other"}]),
                op("replace", None, {"emails": emails, "nickname": "Babs"}))
    assert new["emails"] == emails and new["nickName"] == "Babs"


def test_replace_complex_keeps_unnamed_sub_attributes() -> None:
    new = patch(USER, user(), op("replace", "name", {"givenName": "Babs"}))
    assert new["name"] == {"familyName": "Jensen", "givenName": "Babs"}


def test_replace_filter_matching_nothing_is_no_target() -> None:
    with pytest.raises(NoTarget):
        patch(USER, user(), op("replace", 'emails[type eq "home"].value', "babs@jensen.org"))


def test_replace_with_null_removes() -> None:
    new = patch(USER, user(nickName="Babs"), op("replace", "nickName", None),
                op("add", "title", None))
    assert "nickName" not in new and "title" not in new


# Client shapes after scim.normalize_patch (scim-clients.md)

def test_entra_disable_with_string_boolean() -> None:
    assert patch(USER, user(), op("replace", "active", "False"))["active"] is False
    assert patch(USER, user(), op("Replace", "active", False))["active"] is False


def test_entra_pathless_dotted_keys() -> None:
    new = patch(USER, user(),
                op("replace", None, {"displayName": "Jane Doe", "active": True}),
                op("replace", "name.givenName", "Jane"), op("replace", "name.familyName", "Doe"),
                op("replace", f"{ENTERPRISE_URN}:employeeNumber", "7011"))
    assert new["name"] == {"familyName": "Doe", "givenName": "Jane"}
    assert new[ENTERPRISE_URN] == {"employeeNumber": "7011"}
    assert new["schemas"] == [USER_URN, ENTERPRISE_URN]


def test_entra_work_email() -> None:
    new = patch(USER, user(), op("replace", 'emails[type eq "work"].value', "new@example.com"))
    assert new["emails"] == [{"value": "new@example.com", "type": "work", "primary": True}]
    # add to a user without one creates the value the filter describes
    added = patch(USER, user(emails=[]), op("add", 'emails[type eq "work"].value', "w@x.org"))
    assert added["emails"] == [{"type": "work", "value": "w@x.org"}]


def test_entra_manager() -> None:
    new = patch(USER, user(), op("add", f"{ENTERPRISE_URN}:manager", {"value": "m-1"}))
    assert new[ENTERPRISE_URN] == {"manager": {"value": "m-1"}}
    bare = patch(USER, user(), op("add", f"{ENTERPRISE_URN}:manager", "m-2"))
    assert bare[ENTERPRISE_URN]["manager"] == {"value": "m-2"}
    assert ENTERPRISE_URN in bare["schemas"]


def test_entra_members() -> None:
    doc = group(BABS)
    added = patch(GROUP, doc, op("add", "members", [{"value": JAMES}]))
    assert member_ids(added) == [BABS, JAMES]
    removed = patch(GROUP, added, op("remove", f'members[value eq "{BABS}"]'))
    assert member_ids(removed) == [JAMES]


def test_okta_group_membership_mix_and_rename() -> None:
    doc = group(BABS)
    new = patch(GROUP, doc, op("remove", 'members[value eq "never-a-member"]'),
                op("add", "members", [{"value": JAMES, "display": "test.user@okta.local"}]))
    assert new["members"] == [{"value": BABS, "type": "User"}, {"value": JAMES}]
    renamed = patch(GROUP, doc, op("replace", None, {"id": "g1", "displayName": "Renamed"}))
    assert renamed["displayName"] == "Renamed"


def test_okta_deactivate_and_password() -> None:
    assert patch(USER, user(), op("replace", None, {"active": False}))["active"] is False
    assert patch(USER, user(), op("replace", None, {"password": "n3w!"}))["password"] == "n3w!"


def test_authentik_group_replace() -> None:
    new = patch(GROUP, group(BABS), op("replace", None, {
        "schemas": [GROUP_URN], "id": "g1", "displayName": "authentik Admins (renamed)",
        "externalId": "9d2f8e41"}))
    assert new["displayName"] == "authentik Admins (renamed)" and new["externalId"] == "9d2f8e41"
    assert member_ids(new) == [BABS] and new["schemas"] == [GROUP_URN]


def test_engine_reads_value_list_remove_as_a_selector() -> None:
    # the normaliser rewrites this (Entra), but the engine must not wipe every member either
    new = patch(GROUP, group(BABS, JAMES), op("remove", "members", [{"value": BABS}]))
    assert member_ids(new) == [JAMES]


# Atomicity, errors, mutability

def test_failed_operation_changes_nothing() -> None:
    doc = group(BABS)
    with pytest.raises(NoTarget, match="Operation 2"):
        patch(GROUP, doc, op("add", "members", [{"value": JAMES}]),
              op("replace", 'members[value eq "nobody"].type', "User"))
    assert member_ids(doc) == [BABS]


@pytest.mark.parametrize(("operation", "error"), [
    (op("frobnicate", "title", "x"), InvalidSyntax),
    (op("add", "nosuch", "x"), InvalidPath),
    (op("add", "name.nosuch", "x"), InvalidPath),
    (op("add", None, {"nosuch": "x"}), InvalidPath),
    (op("add", None, "not an object"), InvalidValue),
    (op("add", "active", "maybe"), InvalidValue),
    (op("add", "title", {"a": 1}), InvalidValue),
    (op("add", "emails", [{"value": "x", "nosuch": 1}]), InvalidValue),
    (op("add", "schemas", ["urn:example:unknown"]), InvalidValue),
    (op("remove", "schemas"), InvalidValue),
    (op("replace", "emails[type eq]", "x"), InvalidFilter),
    (op("replace", 'name[givenName eq "Barbara"].familyName', "x"), InvalidPath),
])
def test_errors(operation: PatchOperation, error: type[Exception]) -> None:
    with pytest.raises(error):
        patch(USER, user(), operation)


@pytest.mark.parametrize("operation", [
    op("replace", "id", "u2"),
    op("remove", "id"),
    op("replace", None, {"id": "u2"}),
    op("replace", "meta.lastModified", "2020-01-01T00:00:00Z"),
    op("replace", "meta", {"version": 'W/"9"'}),
    op("remove", "meta"),
    op("add", "groups", [{"value": "g9"}]),
])
def test_read_only_cannot_change(operation: PatchOperation) -> None:
    with pytest.raises(Mutability):
        patch(USER, user(), operation)


def test_read_only_resent_unchanged_is_accepted() -> None:
    doc = user()
    same = patch(USER, doc, op("replace", None, {"id": "u1", "meta": dict(doc["meta"])}),
                 op("add", "id", "u1"))
    assert same == doc


def test_immutable_member_attributes() -> None:
    doc = group(BABS)
    doc["members"].append({"value": JAMES})
    typed = patch(GROUP, doc, op("add", f'members[value eq "{JAMES}"].type', "User"))
    assert typed["members"][1] == {"value": JAMES, "type": "User"}  # set while unset
    for bad in (op("replace", f'members[value eq "{BABS}"].type', "Group"),
                op("replace", f'members[value eq "{BABS}"].value', "someone-else")):
        with pytest.raises(Mutability):
            patch(GROUP, doc, bad)
    with pytest.raises(Mutability):
        patch(GROUP, doc, op("replace", f'members[value eq "{BABS}"].display', "Babs"))


# Primary (RFC 7643 §2.4), extensions, canonical names

def test_new_primary_clears_the_others() -> None:
    new = patch(USER, user(), op("add", "emails", [
        {"value": "babs@jensen.org", "type": "home", "primary": True}]))
    assert [e.get("primary") for e in new["emails"]] == [False, True]
    flipped = patch(USER, user(), op("replace", 'addresses[type eq "home"].primary', True))
    assert [a.get("primary") for a in flipped["addresses"]] == [False, True]


def test_two_new_primaries_are_invalid() -> None:
    with pytest.raises(InvalidValue):
        patch(USER, user(), op("replace", "emails", [
            {"value": "a@x", "primary": True}, {"value": "b@x", "primary": True}]))


def test_extension_added_and_removed_with_its_urn() -> None:
    added = patch(USER, user(), op("add", f"{ENTERPRISE_URN.upper()}:DEPARTMENT", "Sales"))
    assert added[ENTERPRISE_URN] == {"department": "Sales"}
    assert added["schemas"] == [USER_URN, ENTERPRISE_URN]
    removed = patch(USER, added, op("remove", f"{ENTERPRISE_URN}:department"))
    assert ENTERPRISE_URN not in removed and removed["schemas"] == [USER_URN]
    whole = patch(USER, user(), op("add", ENTERPRISE_URN, {"division": "West"}))
    assert whole[ENTERPRISE_URN] == {"division": "West"}
    assert ENTERPRISE_URN not in patch(USER, whole, op("remove", ENTERPRISE_URN))


def test_canonical_case_of_names() -> None:
    new = patch(USER, user(), op("replace", "NAME.GIVENNAME", "Babs"),
                op("add", None, {"NICKNAME": "B", "Title": "Guide"}),
                op("add", "EMAILS", [{"VALUE": "x@y", "TYPE": "other"}]))
    assert new["name"]["givenName"] == "Babs" and new["nickName"] == "B"
    assert new["title"] == "Guide" and new["emails"][-1] == {"value": "x@y", "type": "other"}


# Members

def test_member_add_and_remove_are_idempotent() -> None:
    doc = group(BABS)
    assert patch(GROUP, doc, op("add", "members", [{"value": BABS}])) == doc
    assert patch(GROUP, doc, op("add", "members", [{"value": BABS, "type": "Group"}])) == doc
    twice = patch(GROUP, doc, op("add", "members", [{"value": JAMES}, {"value": JAMES}]))
    assert member_ids(twice) == [BABS, JAMES]
    gone = patch(GROUP, doc, op("remove", f'members[value eq "{BABS}"]'),
                 op("remove", f'members[value eq "{BABS}"]'))
    assert "members" not in gone


def test_members_by_other_filters() -> None:
    doc = group(BABS, JAMES)
    doc["members"].append({"value": "g2", "type": "Group"})
    new = patch(GROUP, doc, op("remove", 'members[type eq "group"]'))
    assert member_ids(new) == [BABS, JAMES]
    replaced = patch(GROUP, doc, op("replace", f'members[value eq "{JAMES}"]',
                                    {"value": "u9", "type": "User"}))
    assert sorted(member_ids(replaced)) == sorted([BABS, "g2", "u9"])


def test_schemas_list_the_extensions_with_data() -> None:
    doc = user(**{ENTERPRISE_URN: {"department": "Sales"}})
    doc["schemas"] = [USER_URN.upper(), ENTERPRISE_URN]
    new = patch(USER, doc, op("replace", "schemas", [USER_URN]))
    assert new["schemas"] == [USER_URN, ENTERPRISE_URN]
    added = patch(USER, user(), op("add", "schemas", [ENTERPRISE_URN]))
    assert added["schemas"] == [USER_URN]  # no enterprise data: not listed
