"""Groups over HTTP: members, membership PATCHes from each client, and deletions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from scim.schemas import GROUP_URN
from tests.test_scim_users import assert_error, new_user, patch_body
from webapp.extensions import db
from webapp.models import Membership, OutboxEntry


def new_group(name: str = "Engineering", members: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"schemas": [GROUP_URN], "displayName": name}
    if members is not None:
        body["members"] = [{"value": m} for m in members]
    return body


def make_users(scim: Any, n: int) -> list[str]:
    return [scim.post("/Users", new_user(f"u{i}@example.com")).get_json()["id"]
            for i in range(n)]


def member_ids(scim: Any, group_id: str) -> set[str]:
    return {m["value"] for m in scim.get(f"/Groups/{group_id}").get_json().get("members", [])}


def test_create_group_with_members_and_types(scim: Any) -> None:
    users = make_users(scim, 2)
    response = scim.post("/Groups", new_group(members=users))
    assert response.status_code == 201
    body = response.get_json()
    assert {m["value"] for m in body["members"]} == set(users)
    assert all(m["type"] == "User" for m in body["members"])
    assert all(m["$ref"].endswith(f"/Users/{m['value']}") for m in body["members"])
    user = scim.get(f"/Users/{users[0]}").get_json()
    assert user["groups"][0]["value"] == body["id"]
    assert user["groups"][0]["display"] == "Engineering"


def test_unknown_member_is_rejected_and_nothing_written(app: Any, scim: Any) -> None:
    response = scim.post("/Groups", new_group(members=["no-such-user"]))
    assert_error(response, 400, "invalidValue")
    with app.app_context():
        assert db.session.scalars(select(Membership)).all() == []


def test_duplicate_display_name_is_409(scim: Any) -> None:
    assert scim.post("/Groups", new_group("Sales")).status_code == 201
    assert_error(scim.post("/Groups", new_group("SALES")), 409, "uniqueness")


def test_excluded_members(scim: Any) -> None:
    users = make_users(scim, 1)
    group_id = scim.post("/Groups", new_group(members=users)).get_json()["id"]
    body = scim.get(f"/Groups/{group_id}?excludedAttributes=members").get_json()
    assert "members" not in body and body["displayName"] == "Engineering"


def test_okta_mixed_membership_patch_and_removing_non_member(scim: Any) -> None:
    a, b, c = make_users(scim, 3)
    group_id = scim.post("/Groups", new_group(members=[a, b])).get_json()["id"]
    response = scim.patch(f"/Groups/{group_id}", patch_body(
        {"op": "remove", "path": f'members[value eq "{a}"]'},
        {"op": "remove", "path": 'members[value eq "not-a-member"]'},
        {"op": "add", "path": "members", "value": [{"value": c}]}))
    assert response.status_code == 200, response.get_json()
    assert member_ids(scim, group_id) == {b, c}


def test_entra_remove_member_with_value_list_removes_only_those(scim: Any) -> None:
    a, b, c = make_users(scim, 3)
    group_id = scim.post("/Groups", new_group(members=[a, b, c])).get_json()["id"]
    response = scim.patch(f"/Groups/{group_id}", patch_body(
        {"op": "Remove", "path": "members", "value": [{"value": a}]}))
    assert response.status_code == 200
    assert member_ids(scim, group_id) == {b, c}


def test_adding_existing_member_changes_nothing(app: Any, scim: Any) -> None:
    a = make_users(scim, 1)[0]
    created = scim.post("/Groups", new_group(members=[a])).get_json()
    with app.app_context():
        before = len(db.session.scalars(select(OutboxEntry)).all())
    response = scim.patch(f"/Groups/{created['id']}", patch_body(
        {"op": "add", "path": "members", "value": [{"$ref": None, "value": a}]}))
    assert response.status_code == 200
    assert response.get_json()["meta"]["version"] == created["meta"]["version"]
    with app.app_context():
        assert len(db.session.scalars(select(OutboxEntry)).all()) == before


def test_put_without_members_keeps_members(scim: Any) -> None:
    a = make_users(scim, 1)[0]
    group_id = scim.post("/Groups", new_group(members=[a])).get_json()["id"]
    response = scim.put(f"/Groups/{group_id}", new_group("Renamed"))
    assert response.status_code == 200
    assert member_ids(scim, group_id) == {a}
    assert response.get_json()["displayName"] == "Renamed"


def test_deleting_a_user_removes_membership_and_queues_the_group(app: Any, scim: Any) -> None:
    a, b = make_users(scim, 2)
    group_id = scim.post("/Groups", new_group(members=[a, b])).get_json()["id"]
    assert scim.delete(f"/Users/{a}").status_code == 204
    assert member_ids(scim, group_id) == {b}
    with app.app_context():
        last = db.session.scalars(select(OutboxEntry).order_by(OutboxEntry.id.desc())).first()
        assert last is not None and (last.kind, last.object_id) == ("group", group_id)


def test_nested_group_member(scim: Any) -> None:
    inner = scim.post("/Groups", new_group("Inner")).get_json()["id"]
    outer = scim.post("/Groups", new_group("Outer", [inner])).get_json()
    assert outer["members"][0]["type"] == "Group"
