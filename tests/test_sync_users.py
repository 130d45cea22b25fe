"""Direct sync of users: SCIM in, real RQ worker on real Redis, the emulator's state out."""

from __future__ import annotations

from typing import Any

from tests.test_scim_users import new_user, patch_body


def create(sync: Any, name: str = "alice@example.com", **extra: Any) -> str:
    response = sync.scim.post("/Users", new_user(name, **extra))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def entra_user(sync: Any, upn: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = sync.entra.state.find_user(upn)
    return found


def test_default_user_mapping_creates_the_user(sync: Any) -> None:
    user_id = create(sync, password="Scim-Passw0rd!")
    sync.drain()
    remote = entra_user(sync, "alice@example.com")
    assert remote is not None
    assert remote["displayName"] == "Alice Liddell"
    assert remote["accountEnabled"] is True
    assert remote["mailNickname"] == "alice"
    assert remote["onPremisesImmutableId"] == user_id
    state = sync.state("user", user_id)
    assert state.status == "synced" and state.entra_id == remote["id"]
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 1


def test_unchanged_resync_sends_nothing_and_update_patches(sync: Any) -> None:
    user_id = create(sync)
    sync.drain()
    writes = len(sync.entra.audit.writes())
    sync.scim.patch(f"/Users/{user_id}", patch_body(
        {"op": "replace", "path": "title", "value": "CTO"}))  # not mapped: same payload
    sync.drain()
    assert len(sync.entra.audit.writes()) == writes
    sync.scim.patch(f"/Users/{user_id}", patch_body(
        {"op": "replace", "path": "displayName", "value": "Alice L."}))
    sync.drain()
    assert entra_user(sync, "alice@example.com")["displayName"] == "Alice L."
    assert sync.entra.audit.count(method="PATCH", path_re="^/users/") == 1


def test_disable_sets_account_enabled_false(sync: Any) -> None:
    user_id = create(sync)
    sync.drain()
    sync.scim.patch(f"/Users/{user_id}", patch_body(
        {"op": "Replace", "path": "active", "value": "False"}))
    sync.drain()
    assert entra_user(sync, "alice@example.com")["accountEnabled"] is False


def test_unverified_domain_is_a_clear_per_object_error(sync: Any) -> None:
    bad = create(sync, "bob@unverified.example.net")
    good = create(sync, "carol@example.com")
    sync.drain()
    state = sync.state("user", bad)
    assert state.status == "error"
    assert "verified domain" in state.last_error
    assert sync.state("user", good).status == "synced"


def test_user_deleted_in_entra_is_created_again_with_a_password(sync: Any) -> None:
    user_id = create(sync)
    sync.drain()
    gone = sync.state("user", user_id).entra_id
    sync.entra.state.delete(gone)
    sync.entra.state.purge(gone)  # the UPN is free again
    # Past the replication window (jobs/graph/fresh.py): the 404 is a real NotFound now.
    from jobs.sync.context import sync_context

    sync_context(sync.app).graph.fresh.forget_in(gone)
    sync.scim.patch(f"/Users/{user_id}", patch_body(
        {"op": "replace", "path": "displayName", "value": "Back Again"}))
    sync.drain()
    state = sync.state("user", user_id)
    assert state.status == "synced", state.last_error
    assert state.entra_id != gone
    remote = entra_user(sync, "alice@example.com")
    assert remote["id"] == state.entra_id and remote["displayName"] == "Back Again"
    assert sync.entra.state.passwords[state.entra_id]  # created with a password profile
