"""Full sync reconcile: drift correction, membership against Entra's lists, scope cleanup,
the outbox settled, and the run's read budget."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select

from tests.fullsync_helpers import (
    add_group,
    add_user,
    entra_groups_named,
    lose_direct_jobs,
    run_full_sync,
)
from tests.test_scim_users import patch_body


def last_attempt(sync: Any, kind: str, object_id: str) -> Any:
    from webapp.extensions import db
    from webapp.models import SyncAttempt

    with sync.app.app_context():
        return db.session.scalars(select(SyncAttempt).where(
            SyncAttempt.kind == kind, SyncAttempt.object_id == object_id)
            .order_by(SyncAttempt.id.desc())).first()


def user_attempts(sync: Any) -> int:
    from sqlalchemy import func

    from webapp.extensions import db
    from webapp.models import SyncAttempt

    with sync.app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(SyncAttempt)
                                     .where(SyncAttempt.kind == "user")) or 0)


def test_drift_made_in_entra_is_corrected_property_by_property(sync: Any) -> None:
    alice, bob = add_user(sync, "alice@example.com"), add_user(sync, "bob@example.com")
    group = add_group(sync, "Ops", [alice])
    sync.drain()
    alice_entra = sync.state("user", alice).entra_id
    group_entra = sync.state("group", group).entra_id
    sync.entra.state.update(alice_entra, {"displayName": "Edited in Entra",
                                          "accountEnabled": False, "jobTitle": "kept"})
    sync.entra.state.update(group_entra, {"displayName": "Renamed in Entra"})
    sync.entra.audit.clear()
    assert run_full_sync(sync)["state"] == "done"
    remote = sync.entra.state.users[alice_entra]
    assert remote["displayName"] == "Alice Liddell" and remote["accountEnabled"] is True
    assert remote["jobTitle"] == "kept"  # not ours: the mapping does not set it
    assert sync.entra.state.groups[group_entra]["displayName"] == "Ops"
    # one PATCH each for the two drifted objects; bob is untouched
    assert sync.entra.audit.count(method="PATCH", path_re=f"^/users/{alice_entra}$") == 1
    assert sync.entra.audit.count(method="PATCH", path_re=f"^/groups/{group_entra}$") == 1
    assert len(sync.entra.audit.writes()) == 2
    attempt = last_attempt(sync, "user", alice)
    assert attempt.message == "corrected: accountEnabled, displayName"
    assert sync.state("user", bob).status == "synced"
    # nothing drifted any more: a second run writes nothing, to Entra or to the history
    sync.entra.audit.clear()
    users_before = user_attempts(sync)
    assert run_full_sync(sync)["state"] == "done"
    assert sync.entra.audit.writes() == []
    assert user_attempts(sync) == users_before


def test_object_deleted_in_entra_is_created_again(sync: Any) -> None:
    alice = add_user(sync, "alice@example.com")
    lose_direct_jobs(sync)
    # linked, not created by us: an id we created moments ago would answer 404 as a
    # replication delay (jobs/graph/fresh.py), not as "deleted"
    old = sync.entra.state.seed_user("alice@example.com")["id"]
    assert run_full_sync(sync)["state"] == "done"
    assert sync.state("user", alice).entra_id == old
    sync.entra.state.delete(old)
    sync.entra.state.purge(old)
    assert run_full_sync(sync)["state"] == "done"
    state = sync.state("user", alice)
    assert state.status == "synced" and state.entra_id not in (None, old), state.last_error
    assert sync.entra.state.find_user("alice@example.com")["id"] == state.entra_id


def test_membership_is_reconciled_against_entras_actual_list(sync: Any) -> None:
    members = [add_user(sync, f"m{i}@example.com") for i in range(4)]
    group = add_group(sync, "Team", members[:3])
    sync.drain()
    entra_group = sync.state("group", group).entra_id
    ids = [sync.state("user", m).entra_id for m in members]
    stranger = sync.entra.state.seed_user("stranger@example.com")
    sync.entra.state.remove_member(entra_group, ids[0])  # removed in Entra by hand
    sync.entra.state.add_member(entra_group, stranger["id"])  # added in Entra by hand
    sync.scim.patch(f"/Groups/{group}", patch_body(
        {"op": "add", "path": "members", "value": [{"value": members[3]}]}))
    lose_direct_jobs(sync)  # the change's own job is lost: the full sync must do it
    assert run_full_sync(sync)["state"] == "done"
    assert set(sync.entra.state.members_of(entra_group)) == {ids[0], ids[1], ids[2], ids[3]}
    assert stranger["id"] in sync.entra.state.users  # removed from the group, not deleted
    message = last_attempt(sync, "group", group).message
    assert message == "members corrected: +2 -1", message


def test_scope_cleanup_deprovisions_linked_objects_only(sync: Any) -> None:
    keep = add_user(sync, "keep@example.com")
    leaver = add_user(sync, "leaver@example.com")
    gone = add_user(sync, "gone@example.com")
    old_group = add_group(sync, "Old group", [keep])
    sync.drain()
    leaver_entra = sync.state("user", leaver).entra_id
    gone_entra = sync.state("user", gone).entra_id
    group_entra = sync.state("group", old_group).entra_id
    stranger = sync.entra.state.seed_user("stranger@example.com")
    # leaves the scope (service account) and two local deletes whose jobs are lost
    sync.scim.patch(f"/Users/{leaver}", patch_body(
        {"op": "replace", "path": "userType", "value": "Service"}))
    assert sync.scim.delete(f"/Users/{gone}").status_code == 204
    assert sync.scim.delete(f"/Groups/{old_group}").status_code == 204
    lose_direct_jobs(sync)
    last = run_full_sync(sync)
    assert last["state"] == "done"
    assert last["phases"]["cleanup"] == {"done": 2, "total": 2}
    assert leaver_entra not in sync.entra.state.users
    assert gone_entra not in sync.entra.state.users
    assert group_entra not in sync.entra.state.groups
    assert sync.state("user", leaver).status == "skipped"
    assert sync.state("user", gone) is None and sync.state("group", old_group) is None
    assert stranger["id"] in sync.entra.state.users
    assert sync.state("user", keep).entra_id in sync.entra.state.users


def test_suspend_action_on_cleanup(sync: Any) -> None:
    gone = add_user(sync, "gone@example.com")
    sync.drain()
    gone_entra = sync.state("user", gone).entra_id
    sync.configure(USER_DELETE_ACTION="suspend")
    sync.scim.delete(f"/Users/{gone}")
    lose_direct_jobs(sync)
    assert run_full_sync(sync)["state"] == "done"
    assert sync.entra.state.users[gone_entra]["accountEnabled"] is False


def test_outbox_rows_are_settled_by_the_full_sync(sync: Any) -> None:
    from jobs.sweeper import sweep

    users = [add_user(sync, f"u{i}@example.com") for i in range(3)]
    lose_direct_jobs(sync)
    run_full_sync(sync)
    with sync.app.app_context():
        assert sweep(older_than=0) == 0  # nothing left open
    assert all(sync.state("user", u).status == "synced" for u in users)


def test_reads_stay_within_the_discovery_budget(sync: Any) -> None:
    users = [add_user(sync, f"r{i}@example.com") for i in range(12)]
    groups = [add_group(sync, f"G{i}", users[i::3]) for i in range(3)]
    lose_direct_jobs(sync)
    sync.entra.state.seed_user("r0@example.com")  # one to link
    sync.entra.audit.clear()
    assert run_full_sync(sync)["state"] == "done"
    reads = sync.entra.audit.reads(path_re="^/(users|groups)")
    budget = math.ceil(len(users) / 999) + math.ceil(len(groups) / 999) + len(groups)
    assert len(reads) <= budget, [(r.method, r.path, r.query) for r in reads]
    assert all("$top=999" in r.query for r in reads if r.path in ("/users", "/groups"))
    assert len(entra_groups_named(sync, "G0")) == 1
