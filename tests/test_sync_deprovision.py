"""Deletion actions and the two user filters, with scope entry and exit."""

from __future__ import annotations

from typing import Any

import pytest

from tests.test_scim_groups import new_group
from tests.test_scim_users import new_user, patch_body
from tests.test_sync_users import create, entra_user


@pytest.mark.parametrize("action", ["delete", "suspend", "do_nothing"])
def test_user_delete_actions(sync: Any, action: str) -> None:
    sync.configure(USER_DELETE_ACTION=action)
    user_id = create(sync)
    sync.drain()
    entra_id = sync.state("user", user_id).entra_id
    assert sync.scim.delete(f"/Users/{user_id}").status_code == 204
    sync.drain()
    remote = sync.entra.state.get(entra_id)
    if action == "delete":
        assert remote is None
        assert sync.entra.audit.count(method="DELETE", path_re=f"^/users/{entra_id}$") == 1
    elif action == "suspend":
        assert remote is not None and remote["accountEnabled"] is False
    else:
        assert remote is not None and remote["accountEnabled"] is True
    assert sync.state("user", user_id) is None  # the link is gone with the object


def test_delete_carries_entra_id_even_when_state_is_gone(sync: Any) -> None:
    """The job has the Entra id: the remote delete does not need any local row."""
    from webapp.extensions import db
    from webapp.models import SyncState

    user_id = create(sync)
    sync.drain()
    entra_id = sync.state("user", user_id).entra_id
    sync.scim.delete(f"/Users/{user_id}")
    with sync.app.app_context():
        db.session.query(SyncState).delete()
        db.session.commit()
    sync.drain()
    assert sync.entra.state.get(entra_id) is None


@pytest.mark.parametrize("action", ["delete", "do_nothing"])
def test_group_delete_actions(sync: Any, action: str) -> None:
    sync.configure(GROUP_DELETE_ACTION=action)
    group_id = sync.scim.post("/Groups", new_group("Temp")).get_json()["id"]
    sync.drain()
    entra_id = sync.state("group", group_id).entra_id
    sync.scim.delete(f"/Groups/{group_id}")
    sync.drain()
    assert (sync.entra.state.get(entra_id) is None) is (action == "delete")


def test_service_accounts_are_excluded_and_listed_as_skipped(sync: Any) -> None:
    robot = create(sync, "robot@example.com", userType="Service Account")
    human = create(sync, "human@example.com", userType="Employee")
    sync.drain()
    assert entra_user(sync, "robot@example.com") is None
    state = sync.state("user", robot)
    assert state.status == "skipped" and "service account" in state.skipped_reason
    assert sync.state("user", human).status == "synced"


def test_service_accounts_sync_when_exclusion_is_off(sync: Any) -> None:
    sync.configure(EXCLUDE_SERVICE_ACCOUNTS="false")
    create(sync, "robot@example.com", userType="serviceaccount")
    sync.drain()
    assert entra_user(sync, "robot@example.com") is not None


def test_filter_group_scope_entry_and_exit(sync: Any) -> None:
    sync.configure(FILTER_GROUPS="Entra Users", USER_DELETE_ACTION="delete")
    inside = create(sync, "in@example.com")
    outside = create(sync, "out@example.com")
    group_id = sync.scim.post("/Groups", new_group("entra users", [inside])).get_json()["id"]
    sync.drain()
    assert entra_user(sync, "in@example.com") is not None
    assert entra_user(sync, "out@example.com") is None
    assert "filter groups" in sync.state("user", outside).skipped_reason

    # entering the scope creates at once; leaving it applies the deletion action at once
    sync.scim.patch(f"/Groups/{group_id}", patch_body(
        {"op": "add", "path": "members", "value": [{"value": outside}]},
        {"op": "remove", "path": f'members[value eq "{inside}"]'}))
    sync.drain()
    assert entra_user(sync, "out@example.com") is not None
    assert entra_user(sync, "in@example.com") is None
    assert sync.state("user", inside).status == "skipped"


def test_filter_group_exit_with_suspend_and_return(sync: Any) -> None:
    sync.configure(FILTER_GROUPS="Staff", USER_DELETE_ACTION="suspend")
    user_id = create(sync, "s@example.com")
    group_id = sync.scim.post("/Groups", new_group("Staff", [user_id])).get_json()["id"]
    sync.drain()
    sync.scim.patch(f"/Groups/{group_id}", patch_body(
        {"op": "remove", "path": f'members[value eq "{user_id}"]'}))
    sync.drain()
    assert entra_user(sync, "s@example.com")["accountEnabled"] is False
    sync.scim.patch(f"/Groups/{group_id}", patch_body(
        {"op": "add", "path": "members", "value": [{"value": user_id}]}))
    sync.drain()
    assert entra_user(sync, "s@example.com")["accountEnabled"] is True
    assert sync.state("user", user_id).status == "synced"


def test_deleting_the_filter_group_takes_its_members_out(sync: Any) -> None:
    sync.configure(FILTER_GROUPS="Staff", USER_DELETE_ACTION="delete",
                   GROUP_DELETE_ACTION="delete")
    user_id = create(sync, "s@example.com")
    group_id = sync.scim.post("/Groups", new_group("Staff", [user_id])).get_json()["id"]
    sync.drain()
    sync.scim.delete(f"/Groups/{group_id}")
    sync.drain()
    assert entra_user(sync, "s@example.com") is None


def test_new_user_not_in_filter_group_is_never_created(sync: Any) -> None:
    sync.configure(FILTER_GROUPS="Staff")
    sync.scim.post("/Users", new_user("lonely@example.com"))
    sync.drain()
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 0
