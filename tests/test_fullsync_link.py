"""Full sync discovery and linking: by each match key, ambiguity, quotes and non-ASCII."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fullsync_helpers import (
    add_group,
    add_user,
    entra_groups_named,
    lose_direct_jobs,
    run_full_sync,
)


@pytest.mark.parametrize("key", ["mail", "userPrincipalName", "onPremisesImmutableId"])
def test_links_an_existing_entra_user_by_each_match_key(sync: Any, key: str) -> None:
    user_id = add_user(sync, "alice@example.com")
    lose_direct_jobs(sync)
    props: dict[str, Any] = {"mail": None, "onPremisesImmutableId": None}
    upn = "alice.legacy@example.com"
    if key == "mail":
        props["mail"] = "Alice@Example.com"  # Graph compares these keys case-insensitively
    elif key == "userPrincipalName":
        upn = "alice@example.com"
    else:
        props["onPremisesImmutableId"] = user_id
        sync.configure(USER_MATCH="onPremisesImmutableId")
    existing = sync.entra.state.seed_user(upn, displayName="Old Name", **props)
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    state = sync.state("user", user_id)
    assert state.status == "synced" and state.entra_id == existing["id"]
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 0
    remote = sync.entra.state.users[existing["id"]]
    assert remote["userPrincipalName"] == "alice@example.com"  # corrected to the mapping
    assert remote["displayName"] == "Alice Liddell"
    assert len(sync.entra.state.users) == 1


def test_two_entra_users_with_one_mail_is_a_per_object_error(sync: Any) -> None:
    user_id = add_user(sync, "alice@example.com")
    other_id = add_user(sync, "bob@example.com")
    lose_direct_jobs(sync)
    one = sync.entra.state.seed_user("a1@example.com", mail="alice@example.com")
    two = sync.entra.state.seed_user("a2@example.com", mail="alice@example.com")
    last = run_full_sync(sync)
    assert last["state"] == "done"
    state = sync.state("user", user_id)
    assert state.status == "error" and state.entra_id is None
    assert one["id"] in state.last_error and two["id"] in state.last_error
    # nothing linked or created for her; the others go on
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 1
    assert sync.state("user", other_id).status == "synced"
    assert sync.entra.state.users[one["id"]]["userPrincipalName"] == "a1@example.com"


def test_quotes_and_non_ascii_names_link(sync: Any) -> None:
    obrien = add_user(sync, "o'brien@example.com", displayName="Dana O'Brien")
    zoe = add_user(sync, "zoe@example.com", displayName="Zoë Ümlaut")
    rnd = add_group(sync, 'R&D "Core"', [obrien, zoe])
    zurich = add_group(sync, "Équipe Zürich", [zoe])
    lose_direct_jobs(sync)
    seeded_obrien = sync.entra.state.seed_user("o'brien@example.com", displayName="D. O'Brien")
    seeded_zoe = sync.entra.state.seed_user("zoe@example.com", displayName="Zoe Umlaut")
    seeded_rnd = sync.entra.state.seed_group('R&D "Core"')
    seeded_zurich = sync.entra.state.seed_group("équipe zürich")  # other letter case
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    assert sync.state("user", obrien).entra_id == seeded_obrien["id"]
    assert sync.state("user", zoe).entra_id == seeded_zoe["id"]
    assert sync.state("group", rnd).entra_id == seeded_rnd["id"]
    assert sync.state("group", zurich).entra_id == seeded_zurich["id"]
    assert sync.entra.audit.writes(method="POST") == []  # no create: all linked
    assert sync.entra.state.users[seeded_zoe["id"]]["displayName"] == "Zoë Ümlaut"
    assert sync.entra.state.users[seeded_obrien["id"]]["displayName"] == "Dana O'Brien"
    assert len(entra_groups_named(sync, 'R&D "Core"')) == 1
    assert set(sync.entra.state.members_of(seeded_rnd["id"])) == {
        seeded_obrien["id"], seeded_zoe["id"]}
    assert sync.entra.state.members_of(seeded_zurich["id"]) == [seeded_zoe["id"]]


def test_creates_what_is_missing_and_leaves_unlinked_entra_objects_alone(sync: Any) -> None:
    users = [add_user(sync, f"u{i}@example.com") for i in range(3)]
    group = add_group(sync, "Team", users)
    lose_direct_jobs(sync)
    foreign_user = sync.entra.state.seed_user("stranger@example.com")
    foreign_group = sync.entra.state.seed_group("Not ours")
    last = run_full_sync(sync)
    assert last["state"] == "done"
    assert all(sync.state("user", u).status == "synced" for u in users)
    entra_team = entra_groups_named(sync, "Team")
    assert len(entra_team) == 1
    assert set(sync.entra.state.members_of(entra_team[0]["id"])) == {
        sync.state("user", u).entra_id for u in users}
    assert sync.state("group", group).status == "synced"
    assert foreign_user["id"] in sync.entra.state.users
    assert foreign_group["id"] in sync.entra.state.groups
    assert not sync.entra.audit.writes(path_re=foreign_user["id"])
    assert not sync.entra.audit.writes(path_re=foreign_group["id"])
