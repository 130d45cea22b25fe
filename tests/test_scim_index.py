"""Search-index rows (scim.index) for stored resources."""

from __future__ import annotations

from typing import Any

import pytest

from scim.index import MAX_CHARS, canonical_datetime, clip, index_rows
from scim.schemas import ENTERPRISE_URN, GROUP, GROUP_URN, USER, USER_URN

ENTERPRISE = ENTERPRISE_URN.lower()

USER_DOC: dict[str, Any] = {
    "schemas": [USER_URN, ENTERPRISE_URN],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "Ext-BJ",
    "userName": "BJensen@Example.com",
    "name": {"familyName": "Jensen", "givenName": "Barbara", "middleName": None},
    "active": True,
    "password": "t1meMa$heen",
    "emails": [
        {"value": "BJ@Example.com", "type": "work", "primary": True},
        {"value": "babs@jensen.org", "type": "home", "display": ""},
    ],
    "groups": [{"value": "g1", "display": "Admins", "type": "direct"}],
    "meta": {
        "resourceType": "User",
        "created": "2010-01-23T04:56:22Z",
        "lastModified": "2011-05-13T06:42:34.5+02:00",
        "version": 'W/"3"',
    },
    ENTERPRISE_URN: {"employeeNumber": "701984",
                     "manager": {"value": "M-1", "displayName": "Boss"}},
    "unknownAttribute": "ignored",
}


def _rows(doc: dict[str, Any], rt: Any = USER) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r["path"], r["elem"]): r for r in index_rows(rt, doc)}


def test_rows_carry_the_resource_and_every_column() -> None:
    rows = index_rows(USER, USER_DOC)
    assert all(r["resource_type"] == "User" and r["resource_id"] == USER_DOC["id"] for r in rows)
    assert all(set(r) == {"resource_type", "resource_id", "path", "elem", "value_str",
                          "value_num", "value_bool"} for r in rows)


def test_strings_lower_cased_unless_case_exact() -> None:
    rows = _rows(USER_DOC)
    assert rows[("username", 0)]["value_str"] == "bjensen@example.com"
    assert rows[("externalid", 0)]["value_str"] == "Ext-BJ"  # caseExact
    assert rows[("id", 0)]["value_str"] == USER_DOC["id"]
    assert rows[("name.familyname", 0)]["value_str"] == "jensen"
    assert rows[(f"{ENTERPRISE}:manager.value", 0)]["value_str"] == "M-1"  # caseExact
    assert rows[(f"{ENTERPRISE}:manager.displayname", 0)]["value_str"] == "boss"
    assert rows[(f"{ENTERPRISE}:employeenumber", 0)]["value_str"] == "701984"


def test_multi_valued_elements_are_numbered() -> None:
    rows = _rows(USER_DOC)
    assert rows[("emails.value", 0)]["value_str"] == "bj@example.com"
    assert rows[("emails.type", 0)]["value_str"] == "work"
    assert rows[("emails.primary", 0)]["value_bool"] is True
    assert rows[("emails.value", 1)]["value_str"] == "babs@jensen.org"
    assert ("emails.display", 1) not in rows  # "" is unassigned


def test_typed_values() -> None:
    rows = _rows(USER_DOC)
    active = rows[("active", 0)]
    assert (active["value_bool"], active["value_str"], active["value_num"]) == (True, None, None)
    assert rows[("meta.created", 0)]["value_str"] == "2010-01-23T04:56:22.000000Z"
    assert rows[("meta.lastmodified", 0)]["value_str"] == "2011-05-13T04:42:34.500000Z"
    assert rows[("meta.version", 0)]["value_str"] == 'W/"3"'
    assert rows[("meta.resourcetype", 0)]["value_str"] == "User"


def test_schemas_are_indexed_case_insensitively() -> None:
    rows = _rows(USER_DOC)
    assert rows[("schemas", 0)]["value_str"] == USER_URN.lower()
    assert rows[("schemas", 1)]["value_str"] == ENTERPRISE


def test_not_indexed() -> None:
    paths = {path for path, _ in _rows(USER_DOC)}
    assert "password" not in paths  # returned "never"
    assert not any(p.startswith("groups") for p in paths)  # the Membership table
    assert "unknownattribute" not in paths
    assert "name.middlename" not in paths  # null is unassigned
    group = {"schemas": [GROUP_URN], "id": "g1", "displayName": "Admins",
             "members": [{"value": "u1", "type": "User"}]}
    assert {p for p, _ in _rows(group, GROUP)} == {"schemas", "id", "displayname"}


def test_lenient_shapes() -> None:
    doc = {"id": "u1", "active": "False", ENTERPRISE_URN: {"manager": "M-2"},
           "emails": {"value": "single@x"}}
    rows = _rows(doc)
    assert rows[("active", 0)]["value_bool"] is False  # Entra's string boolean
    assert rows[(f"{ENTERPRISE}:manager.value", 0)]["value_str"] == "M-2"  # bare string
    assert rows[("emails.value", 0)]["value_str"] == "single@x"  # one object, not a list


def test_long_values_are_clipped() -> None:
    doc = {"id": "u1", "title": "T" * 5000, "displayName": "é" * 1500}
    rows = _rows(doc)
    assert rows[("title", 0)]["value_str"] == "t" * MAX_CHARS
    assert len(rows[("displayname", 0)]["value_str"].encode()) <= 2000
    assert clip("x" * 10) == "x" * 10


@pytest.mark.parametrize(("text", "canonical"), [
    ("2011-05-13T04:42:34Z", "2011-05-13T04:42:34.000000Z"),
    ("2011-05-13T04:42:34.123Z", "2011-05-13T04:42:34.123000Z"),
    ("2011-05-13T00:42:34-04:00", "2011-05-13T04:42:34.000000Z"),
    ("2011-05-13T04:42:34", "2011-05-13T04:42:34.000000Z"),  # no zone: UTC
    ("0999-01-01T00:00:00Z", "0999-01-01T00:00:00.000000Z"),
])
def test_canonical_datetime(text: str, canonical: str) -> None:
    assert canonical_datetime(text) == canonical


def test_canonical_datetime_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        canonical_datetime("yesterday")
    rows = _rows({"id": "u1", "meta": {"created": "yesterday"}})
    assert rows[("meta.created", 0)]["value_str"] == "yesterday"  # kept as text
