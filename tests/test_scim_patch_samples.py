"""Client PATCH bodies (tests/samples, scim-clients.md) through the normaliser and the engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scim.normalize_patch import normalize_patch
from scim.patch import apply_patch
from scim.schemas import ENTERPRISE_URN, GROUP, GROUP_URN, USER, USER_URN

SAMPLES = Path(__file__).parent / "samples"
IDS = {"user_id": "u-1", "other_user_id": "u-2", "group_id": "g-1", "manager_id": "m-1"}
RFC_MEMBER = "2819c223-7f76-...413861904646"

Doc = dict[str, Any]


def _members(doc: Doc) -> list[str]:
    return [m["value"] for m in doc.get("members", [])]


def _work_email(doc: Doc) -> str:
    return next(e["value"] for e in doc["emails"] if e.get("type") == "work")


CHECKS: dict[str, tuple[list[str], Callable[[Doc], bool]]] = {
    # sample name: (members of the group before, what must hold after)
    "authentik-patch-group-add-members": (["u-2"], lambda d: _members(d) == ["u-2", "u-1"]),
    "authentik-patch-group-remove-members": (["u-1", "u-2"], lambda d: _members(d) == ["u-1"]),
    "authentik-patch-group-replace": (
        ["u-1"], lambda d: d["displayName"] == "authentik Admins (renamed)"
        and d["externalId"] == "9d2f8e41" and d["id"] == "g-1" and _members(d) == ["u-1"]),
    "entra-patch-group-add-member": (
        ["u-2"], lambda d: d["members"][-1] == {"value": "u-1"}),
    "entra-patch-group-remove-member": (["u-1", "u-2"], lambda d: _members(d) == ["u-2"]),
    "entra-patch-group-remove-member-filter": (["u-1", "u-2"], lambda d: _members(d) == ["u-2"]),
    "okta-patch-group-members": (["u-2"], lambda d: _members(d) == ["u-1"]),
    "okta-patch-group-rename": (["u-2"], lambda d: d["displayName"] == "Renamed Group"),
    "rfc7644-3.5.2.1-add-member": ([], lambda d: _members(d) == [
        "2819c223-7f76-453a-919d-413861904646"]),
    "rfc7644-3.5.2.2-remove-member": ([RFC_MEMBER, "u-1"], lambda d: _members(d) == ["u-1"]),
    "rfc7644-3.5.2.3-replace-members": (
        ["u-1"], lambda d: _members(d) == ["2819c223...413861904646", "08e1d05d...473d93df9210"]),
    "entra-patch-disable-user": ([], lambda d: d["active"] is False),
    "okta-patch-deactivate-user": ([], lambda d: d["active"] is False),
    "okta-patch-user-password": ([], lambda d: d["password"] == "n3wPassw0rd!"),
    "entra-patch-user-add-manager": (
        [], lambda d: d[ENTERPRISE_URN] == {"manager": {"value": "m-1"}}
        and d["schemas"] == [USER_URN, ENTERPRISE_URN]),
    "entra-patch-user-pathless-dotted-keys": (
        [], lambda d: d["displayName"] == "Jane Doe" and d["active"] is True
        and d["name"] == {"givenName": "Jane", "familyName": "Doe"}
        and d[ENTERPRISE_URN] == {"employeeNumber": "7011"}),
    "entra-patch-user-replace-attributes": (
        [], lambda d: _work_email(d) == "updatedEmail@microsoft.com"
        and d["name"]["familyName"] == "updatedFamilyName"),
    "rfc7644-3.5.2.1-add-pathless": (
        [], lambda d: d["nickName"] == "Babs" and d["emails"][-1]["value"] == "babs@jensen.org"),
    "rfc7644-3.5.2.3-replace-work-address": (
        [], lambda d: d["addresses"][0]["streetAddress"] == "911 Universal City Plaza"
        and d["addresses"][1]["type"] == "home"),
}


def _load(name: str) -> dict[str, Any]:
    text = (SAMPLES / f"{name}.json").read_text()
    for key, value in IDS.items():
        text = text.replace("{" + key + "}", value)
    sample: dict[str, Any] = json.loads(text)
    return sample


def _resource(is_group: bool, members: list[str]) -> Doc:
    if is_group:
        return {"schemas": [GROUP_URN], "id": "g-1", "displayName": "Admins",
                "members": [{"value": m, "type": "User"} for m in members]}
    return {
        "schemas": [USER_URN], "id": "u-1", "userName": "jdoe", "active": True,
        "name": {"givenName": "John", "familyName": "Doe"},
        "emails": [{"value": "jdoe@example.com", "type": "work", "primary": True}],
        "addresses": [{"type": "work", "streetAddress": "100 Main St"},
                      {"type": "home", "streetAddress": "1 Home Rd"}],
    }


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_client_sample(name: str) -> None:
    sample = _load(name)
    is_group = sample["path"].startswith("/Groups")
    rt = GROUP if is_group else USER
    members, check = CHECKS[name]
    before = _resource(is_group, members)
    after = apply_patch(rt, before, normalize_patch(rt, sample["body"]))
    assert check(after), json.dumps(after, indent=1)
    assert before == _resource(is_group, members)


def test_every_patch_sample_is_covered() -> None:
    names = {p.stem for p in SAMPLES.glob("*.json")
             if _load(p.stem).get("method") == "PATCH"}
    assert names <= set(CHECKS)
