"""Direct sync of groups and their membership, as a diff."""

from __future__ import annotations

from typing import Any

from tests.test_scim_groups import new_group
from tests.test_scim_users import new_user, patch_body


def users(sync: Any, n: int, prefix: str = "m") -> list[str]:
    return [sync.scim.post("/Users", new_user(f"{prefix}{i}@example.com")).get_json()["id"]
            for i in range(n)]


def entra_group(sync: Any, name: str) -> dict[str, Any]:
    found = [g for g in sync.entra.state.groups.values() if g["displayName"] == name]
    assert len(found) == 1, f"{len(found)} groups named {name!r}"
    return found[0]


def entra_members(sync: Any, name: str) -> set[str]:
    return set(sync.entra.state.members_of(entra_group(sync, name)["id"]))


def entra_ids(sync: Any, local_ids: list[str]) -> set[str]:
    return {sync.state("user", u).entra_id for u in local_ids}


def test_default_group_mapping_and_members(sync: Any) -> None:
    members = users(sync, 3)
    group_id = sync.scim.post("/Groups", new_group("Équipe Zürich", members)).get_json()["id"]
    sync.drain()
    remote = entra_group(sync, "Équipe Zürich")
    assert remote["mailEnabled"] is False and remote["securityEnabled"] is True
    assert remote["mailNickname"] == "equipe-zurich"
    assert entra_members(sync, "Équipe Zürich") == entra_ids(sync, members)
    assert sync.state("group", group_id).status == "synced"


def test_membership_diff_larger_than_20_uses_bind_chunks(sync: Any) -> None:
    members = users(sync, 45)
    sync.drain()
    sync.entra.audit.clear()
    sync.scim.post("/Groups", new_group("Big", members))
    sync.drain()
    assert entra_members(sync, "Big") == entra_ids(sync, members)
    # 45 members: 3 PATCHes with members@odata.bind (20 + 20 + 5), no $ref one by one
    assert sync.entra.audit.count(method="PATCH", path_re="^/groups/") == 3
    assert sync.entra.audit.count(method="POST", path_re="members/\\$ref") == 0


def test_membership_changes_are_diffs(sync: Any) -> None:
    a, b, c = users(sync, 3)
    group_id = sync.scim.post("/Groups", new_group("Ops", [a, b])).get_json()["id"]
    sync.drain()
    sync.entra.audit.clear()
    sync.scim.patch(f"/Groups/{group_id}", patch_body(
        {"op": "remove", "path": f'members[value eq "{a}"]'},
        {"op": "add", "path": "members", "value": [{"value": c}]}))
    sync.drain()
    assert entra_members(sync, "Ops") == entra_ids(sync, [b, c])
    writes = [(e.method, e.path) for e in sync.entra.audit.writes()]
    # one bind PATCH for c, one removal for a; b is not touched again
    assert len(writes) == 2, writes


def test_group_pushed_before_its_members_gets_them_when_they_arrive(sync: Any) -> None:
    # Users fail transiently at first, so the group reaches Entra before them.
    sync.entra.add_fault("status", status=503, method="POST", path_re="^/users$", count=2)
    members = users(sync, 2)
    sync.scim.post("/Groups", new_group("Early", members))
    sync.drain()
    assert entra_members(sync, "Early") == entra_ids(sync, members)
    assert all(sync.state("user", u).status == "synced" for u in members)


def test_group_rename_patches_display_name(sync: Any) -> None:
    group_id = sync.scim.post("/Groups", new_group("Old")).get_json()["id"]
    sync.drain()
    sync.scim.patch(f"/Groups/{group_id}", patch_body(
        {"op": "replace", "value": {"id": group_id, "displayName": "New"}}))
    sync.drain()
    assert entra_group(sync, "New")["id"] == sync.state("group", group_id).entra_id
