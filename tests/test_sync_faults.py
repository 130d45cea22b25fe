"""Conflicts, throttling and faults during direct sync: never a duplicate, nothing lost."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.test_scim_groups import new_group
from tests.test_sync_groups import entra_group, entra_ids, entra_members, users
from tests.test_sync_users import create


def upns(sync: Any, upn: str) -> list[dict[str, Any]]:
    return [u for u in sync.entra.state.users.values()
            if u["userPrincipalName"].lower() == upn.lower()]


def test_object_conflict_on_create_links_instead_of_duplicating(sync: Any) -> None:
    existing = sync.entra.state.seed_user("alice@example.com", displayName="Old Name")
    user_id = create(sync)
    sync.drain()
    assert len(upns(sync, "alice@example.com")) == 1
    state = sync.state("user", user_id)
    assert state.status == "synced" and state.entra_id == existing["id"]
    # linked, then brought to the mapped state; the found user keeps its own immutable id
    assert sync.entra.state.get(existing["id"])["displayName"] == "Alice Liddell"


def test_group_create_applied_but_answered_504_leaves_one_group(sync: Any) -> None:
    sync.entra.add_fault("apply_then_fail", status=504, method="POST", path_re="^/groups$",
                         count=1)
    group_id = sync.scim.post("/Groups", new_group("Finance")).get_json()["id"]
    sync.drain()
    group = entra_group(sync, "Finance")  # asserts exactly one
    assert sync.state("group", group_id).entra_id == group["id"]


def test_replayed_user_post_meets_conflict_and_links(sync: Any) -> None:
    sync.entra.add_fault("apply_then_fail", status=503, method="POST", path_re="^/users$",
                         count=1)
    user_id = create(sync)
    sync.drain()
    found = upns(sync, "alice@example.com")
    assert len(found) == 1
    assert sync.state("user", user_id).entra_id == found[0]["id"]


@pytest.mark.parametrize("retry_after", ["1", "0.75", None])
def test_429_with_each_retry_after_form_is_waited_out(sync: Any,
                                                      retry_after: str | None) -> None:
    sync.entra.add_fault("status", status=429, method="POST", path_re="^/users$", count=2,
                         retry_after=retry_after)
    user_id = create(sync)
    started = time.monotonic()
    sync.drain(max_wait=60)
    assert sync.state("user", user_id).status == "synced"
    assert sync.entra.audit.count(method="POST", path_re="^/users$", status=429) == 2
    assert len(upns(sync, "alice@example.com")) == 1
    if retry_after is not None:
        assert time.monotonic() - started >= 2 * float(retry_after) * 0.95


def test_503_burst_then_success(sync: Any) -> None:
    sync.entra.add_fault("status", status=503, method="PATCH", path_re="^/users/", count=3)
    user_id = create(sync)
    sync.drain()
    sync.scim.patch(f"/Users/{user_id}", {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "After 503s"}]})
    sync.drain(max_wait=60)
    assert upns(sync, "alice@example.com")[0]["displayName"] == "After 503s"
    assert sync.state("user", user_id).status == "synced"


def test_404_right_after_create_is_waited_out(sync: Any) -> None:
    members = users(sync, 2)
    sync.drain()
    sync.entra.set_replication_delay(1500)
    sync.scim.post("/Groups", new_group("Fresh", members))
    sync.drain(max_wait=60)
    assert entra_members(sync, "Fresh") == entra_ids(sync, members)


def test_one_failing_object_does_not_stop_the_others(sync: Any) -> None:
    bad = create(sync, "bad@unverified.example.net")
    good = [create(sync, f"ok{i}@example.com") for i in range(3)]
    sync.drain()
    assert sync.state("user", bad).status == "error"
    assert all(sync.state("user", u).status == "synced" for u in good)


def test_dry_run_plans_and_writes_nothing(sync: Any) -> None:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import PlanEntry

    sync.configure(DRY_RUN="true")
    members = users(sync, 2)
    sync.scim.post("/Groups", new_group("Planned", members))
    sync.drain()
    assert sync.entra.audit.writes() == []
    with sync.app.app_context():
        plans = db.session.scalars(select(PlanEntry).order_by(PlanEntry.id)).all()
        assert [(p.method, p.path) for p in plans].count(("POST", "/users")) == 2
        assert ("POST", "/groups") in [(p.method, p.path) for p in plans]
        assert all(p.body["passwordProfile"]["password"] == "***"
                   for p in plans if p.path == "/users")
    assert sync.state("user", members[0]).status == "planned"
