"""Per-type clients and the write() template against the emulator: CRUD, discovery paging,
look-ups with quotes, ObjectConflict linking, ambiguous creates, members 20 at a time."""

from __future__ import annotations

import pytest

from jobs.graph import (
    AlreadyMember,
    GraphBoundary,
    GroupsClient,
    NotFound,
    ObjectConflict,
    UsersClient,
    write,
)
from tests.emulator.server import EntraEmulator
from tests.test_graph_support import (
    graph_requests,
    group_payload,
    user_payload,
)


def test_user_create_update_delete(entra: EntraEmulator, graph: GraphBoundary) -> None:
    users = UsersClient(graph)
    created = users.create(user_payload("crud@example.com"))
    assert created.attributes["userPrincipalName"] == "crud@example.com"
    users.update(created.id, {"displayName": "Crud User"})
    assert users.get(created.id).attributes["displayName"] == "Crud User"
    users.delete(created.id)
    assert created.id not in entra.state.users
    with pytest.raises(NotFound):
        users.delete(created.id)


def test_group_create_update_delete(entra: EntraEmulator, graph: GraphBoundary) -> None:
    groups = GroupsClient(graph)
    created = groups.create(group_payload("Engineering"))
    groups.update(created.id, {"description": "builds things"})
    assert entra.state.groups[created.id]["description"] == "builds things"
    groups.delete(created.id)
    assert created.id not in entra.state.groups


def test_discover_follows_next_links(entra: EntraEmulator, graph: GraphBoundary) -> None:
    for i in range(250):
        entra.state.seed_user(f"page{i:03}@example.com")
    seen = list(UsersClient(graph).discover(page_size=100))
    assert len({u["id"] for u in seen}) == 250
    assert set(seen[0]) >= {"id", "userPrincipalName", "mail", "onPremisesImmutableId"}
    assert len(graph_requests(entra, "GET", "^/users$")) == 3
    assert "%24top=100" in graph_requests(entra, "GET", "^/users$")[0].query \
        or "$top=100" in graph_requests(entra, "GET", "^/users$")[0].query


def test_find_by_escapes_quotes(entra: EntraEmulator, graph: GraphBoundary) -> None:
    seeded = entra.state.seed_user("o'brien@example.com", mail="o'brien@example.com",
                                   onPremisesImmutableId="imm'1")
    entra.state.seed_user("obrien@example.com")
    users = UsersClient(graph)
    for key, value in [("userPrincipalName", "o'brien@example.com"),
                       ("mail", "o'brien@example.com"), ("onPremisesImmutableId", "imm'1")]:
        found = users.find_by(key, value)
        assert found is not None and found.id == seeded["id"]
    assert users.find_by("userPrincipalName", "nobody@example.com") is None
    group = entra.state.seed_group("R&D 'Core'", mailNickname="rdcore")
    assert GroupsClient(graph).find_by("displayName", "R&D 'Core'").id == group["id"]
    with pytest.raises(ValueError):
        users.find_by("displayName", "x")


def test_duplicate_upn_is_object_conflict(entra: EntraEmulator, graph: GraphBoundary) -> None:
    users = UsersClient(graph)
    users.create(user_payload("dup@example.com"))
    with pytest.raises(ObjectConflict) as info:
        users.create(user_payload("dup@example.com"))
    assert info.value.status == 400 and "ObjectConflict" in info.value.detail_codes


def test_write_replayed_user_create_links_to_the_one_user(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    """The job ran, its create went through, the link was never stored: run it again."""
    users = UsersClient(graph)
    payload = user_payload("again@example.com", onPremisesImmutableId="scim-1")
    first = write(users, payload)
    second = write(users, {**payload, "displayName": "Again"})
    assert (first.action, second.action) == ("created", "linked")
    assert first.entra_id == second.entra_id and len(entra.state.users) == 1
    assert entra.state.users[first.entra_id]["displayName"] == "Again"
    link_patch = graph_requests(entra, "PATCH", "^/users/")
    assert len(link_patch) == 1  # no passwordProfile nor immutable id pushed on link


def test_write_ambiguous_user_create_then_conflict_links(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    """504 after the write applied, lists lagging: re-create meets ObjectConflict, links."""
    entra.set_replication_delay(1000, hide_from_lists=True)
    entra.add_fault("apply_then_fail", status=504, method="POST", path_re="^/users$")
    result = write(UsersClient(graph), user_payload("amb@example.com"), settle=0.4)
    assert result.action == "linked" and list(entra.state.users) == [result.entra_id]
    assert [e.status for e in graph_requests(entra, "POST", "^/users$")] == [504, 400]


def test_write_group_apply_then_504_leaves_one_group(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    entra.add_fault("apply_then_fail", status=504, method="POST", path_re="^/groups$")
    result = write(GroupsClient(graph), group_payload("Finance"))
    assert result.action == "created"
    assert list(entra.state.groups) == [result.entra_id]
    assert len(graph_requests(entra, "POST", "^/groups$")) == 1


def test_write_group_503_unapplied_creates_once_more(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    entra.add_fault("status", status=503, method="POST", path_re="^/groups$")
    result = write(GroupsClient(graph), group_payload("Sales"), settle=0)
    assert result.action == "created" and list(entra.state.groups) == [result.entra_id]
    assert [e.status for e in graph_requests(entra, "POST", "^/groups$")] == [503, 201]


def test_write_lookup_first_links_a_group_created_unseen(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    seeded = entra.state.seed_group("Legal", mailNickname="Legal")
    result = write(GroupsClient(graph), group_payload("Legal"), lookup_first=True)
    assert (result.action, result.entra_id) == ("linked", seeded["id"])
    assert len(entra.state.groups) == 1


def test_write_update_unchanged_and_recreate(entra: EntraEmulator,
                                             graph: GraphBoundary) -> None:
    users = UsersClient(graph)
    payload = user_payload("life@example.com")
    created = write(users, payload)
    updated = write(users, {**payload, "jobTitle": "Boss"}, created.entra_id)
    assert updated.action == "updated" and "passwordProfile" not in updated.remote_attributes
    assert write(users, payload, created.entra_id, changed=False).action == "unchanged"
    users.delete(created.entra_id)
    entra.state.purge(created.entra_id)
    again = write(users, payload, created.entra_id)
    assert again.action == "recreated" and again.entra_id != created.entra_id
    assert list(entra.state.users) == [again.entra_id]


def test_add_45_members_takes_3_patches(entra: EntraEmulator, graph: GraphBoundary) -> None:
    members = [entra.state.seed_user(f"m{i}@example.com")["id"] for i in range(45)]
    group = entra.state.seed_group("Big")
    changes = GroupsClient(graph).add_members(group["id"], members)
    assert sorted(changes.added) == sorted(members) and changes.requests == 3
    assert len(graph_requests(entra, "PATCH", f"^/groups/{group['id']}$")) == 3
    assert sorted(entra.state.members_of(group["id"])) == sorted(members)


def test_already_member_inside_a_chunk_falls_back_one_by_one(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    ids = [entra.state.seed_user(f"d{i}@example.com")["id"] for i in range(3)]
    group = entra.state.seed_group("Dup", members=[ids[1]])
    groups = GroupsClient(graph)
    changes = groups.add_members(group["id"], ids)
    assert (sorted(changes.added), changes.already) == (sorted([ids[0], ids[2]]), [ids[1]])
    assert len(graph_requests(entra, "POST", r"/members/\$ref$")) == 3
    with pytest.raises(AlreadyMember):
        groups.add_member(group["id"], ids[0])
    assert sorted(entra.state.members_of(group["id"])) == sorted(ids)


def test_missing_member_fails_alone(entra: EntraEmulator, graph: GraphBoundary) -> None:
    present = entra.state.seed_user("here@example.com")["id"]
    ghost = "00000000-0000-0000-0000-00000000beef"
    group = entra.state.seed_group("Ghosts")
    changes = GroupsClient(graph).add_members(group["id"], [present, ghost])
    assert changes.added == [present] and isinstance(changes.failed[ghost], NotFound)


def test_remove_and_list_members(entra: EntraEmulator, graph: GraphBoundary) -> None:
    ids = [entra.state.seed_user(f"r{i}@example.com")["id"] for i in range(25)]
    group = entra.state.seed_group("Rm", members=ids)
    groups = GroupsClient(graph)
    assert sorted(groups.list_members(group["id"])) == sorted(ids)
    assert groups.remove_member(group["id"], ids[0]) is True
    assert groups.remove_member(group["id"], ids[0]) is False
    changes = groups.remove_members(group["id"], ids)
    assert changes.already == [ids[0]] and len(changes.removed) == 24 and changes.requests == 2
    assert list(groups.list_members(group["id"])) == []


def test_members_of_a_group_created_moments_ago(entra: EntraEmulator,
                                                graph: GraphBoundary) -> None:
    """Replication delay: the bind PATCH on the new group 404s first, then goes through."""
    ids = [entra.state.seed_user(f"n{i}@example.com")["id"] for i in range(3)]
    entra.set_replication_delay(600)
    groups = GroupsClient(graph)
    created = write(groups, group_payload("Newborn"))
    changes = groups.add_members(created.entra_id, ids)
    assert sorted(changes.added) == sorted(ids) and changes.requests == 1
    statuses = [e.status for e in graph_requests(entra, "PATCH", "^/groups/")]
    assert statuses[0] == 404 and statuses[-1] == 204
