"""What a mapping sees as request.user / group, built from a stored SCIM resource."""

from __future__ import annotations

import dataclasses

import pytest

from mappings import Connection, ProviderContext, ScimGroup, ScimUser


def user(**resource: object) -> ScimUser:
    return ScimUser.from_scim({"id": "u-1", "userName": "jdoe", **resource})


def test_uid_username_attributes_and_password() -> None:
    resource = {"id": "2819c223", "userName": "bjensen@example.com", "title": "Tour Guide"}
    scim_user = ScimUser.from_scim(resource, password="S3cret!pass")
    assert scim_user.uid == "2819c223"
    assert scim_user.username == "bjensen@example.com"
    assert scim_user.password == "S3cret!pass"
    assert scim_user.attributes is resource


def test_password_absent_or_empty_is_none() -> None:
    assert user().password is None
    assert ScimUser.from_scim({"userName": "x"}, password="").password is None


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            {"displayName": "Babs Jensen", "name": {"formatted": "Ms. Barbara J Jensen"}},
            "Babs Jensen",
        ),
        (
            {"displayName": "  ", "name": {"formatted": "Ms. Barbara J Jensen"}},
            "Ms. Barbara J Jensen",
        ),
        ({"name": {"givenName": "Barbara", "familyName": "Jensen"}}, "Barbara Jensen"),
        ({"name": {"givenName": "Barbara"}}, "Barbara"),
        ({"name": {"familyName": "Jensen"}}, "Jensen"),
        ({"name": {}}, "jdoe"),
        ({}, "jdoe"),
    ],
)
def test_name_fallbacks(resource: dict[str, object], expected: str) -> None:
    assert user(**resource).name == expected


@pytest.mark.parametrize(
    ("emails", "expected"),
    [
        ([{"value": "a@x.com"}, {"value": "b@x.com", "primary": True}], "b@x.com"),
        ([{"value": "a@x.com", "primary": False}, {"value": "b@x.com"}], "a@x.com"),
        ([{"value": ""}, {"value": "b@x.com"}], "b@x.com"),
        ([{"value": "a@x.com"}, {"value": "b@x.com", "primary": "True"}], "b@x.com"),
        ([], None),
        (None, None),
    ],
)
def test_primary_email_choice(emails: object, expected: str | None) -> None:
    assert user(emails=emails).email == expected


def test_email_is_not_invented_from_an_email_like_username() -> None:
    assert ScimUser.from_scim({"userName": "bjensen@example.com"}).email is None


@pytest.mark.parametrize(
    ("active", "expected"), [(None, True), (True, True), (False, False), ("False", False)]
)
def test_is_active(active: object, expected: bool) -> None:
    resource = {} if active is None else {"active": active}
    assert user(**resource).is_active is expected


def test_scim_attribute_names_are_case_insensitive() -> None:
    scim_user = ScimUser.from_scim({"ID": "7", "username": "jdoe", "DisplayName": "J Doe"})
    assert (scim_user.uid, scim_user.username, scim_user.name) == ("7", "jdoe", "J Doe")


def test_context_objects_are_read_only() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        user().name = "changed"  # type: ignore[misc]


def test_group_context() -> None:
    group = ScimGroup.from_scim({"id": "g-1", "displayName": "Sales", "members": []})
    assert (group.uid, group.name, group.attributes["members"]) == ("g-1", "Sales", [])


def test_provider_normalises_verified_domains() -> None:
    provider = ProviderContext(tenant_id="t", verified_domains=["Example.COM ", "", "b.org"])
    assert provider.verified_domains == frozenset({"example.com", "b.org"})
    assert provider.name == "scim2entra"


def test_connection_defaults() -> None:
    assert Connection().attributes == {}
    assert (
        Connection({"on_premises_immutable_id": "x"}).attributes["on_premises_immutable_id"] == "x"
    )
