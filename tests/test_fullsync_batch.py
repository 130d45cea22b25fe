"""Full sync first creates sent as JSON $batch, 20 per window (jobs/fullsync/window.py):
the same writes, fewer round trips, and every refused item handled as its own POST would be."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.fullsync_helpers import add_user, lose_direct_jobs, run_full_sync


def _users(sync: Any, n: int, prefix: str = "u") -> list[str]:
    ids = [add_user(sync, f"{prefix}{k:02}@example.com") for k in range(n)]
    lose_direct_jobs(sync)
    return ids


def _open_outbox(sync: Any) -> int:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import OutboxEntry

    with sync.app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(OutboxEntry)
                                     .where(OutboxEntry.done_at.is_(None))) or 0)


def _actions(sync: Any, object_id: str) -> list[str | None]:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import SyncAttempt

    with sync.app.app_context():
        return list(db.session.scalars(select(SyncAttempt.action).where(
            SyncAttempt.object_id == object_id).order_by(SyncAttempt.id)))


def _upns(sync: Any) -> Counter[str]:
    return Counter(u["userPrincipalName"] for u in sync.entra.state.users.values())


def test_first_sync_sends_creates_twenty_per_batch(sync: Any) -> None:
    ids = _users(sync, 45)
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    assert sync.entra.audit.count(method="POST", path_re=r"^/\$batch$") == 3  # 20, 20, 5
    creates = sync.entra.audit.writes(method="POST", path_re="^/users$")
    assert len(creates) == 45 and all(e.in_batch for e in creates)
    states = [sync.state("user", i) for i in ids]
    assert {s.status for s in states} == {"synced"}
    assert {s.entra_id for s in states} == set(sync.entra.state.users)  # one each
    assert not any(s.create_attempted for s in states)
    assert _open_outbox(sync) == 0
    assert _actions(sync, ids[0]) == ["created"]


def test_a_conflict_inside_the_batch_links_the_existing_user(sync: Any) -> None:
    sync.configure(USER_MATCH="mail")  # discovery cannot see the UPN twin
    ids = _users(sync, 5)
    twin = sync.entra.state.seed_user("u02@example.com", mail=None, displayName="Old")
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    assert sync.state("user", ids[2]).entra_id == twin["id"]
    assert sync.state("user", ids[2]).status == "synced"
    assert _upns(sync) == Counter(f"u{k:02}@example.com" for k in range(5))  # no duplicate
    assert sync.entra.state.users[twin["id"]]["displayName"] != "Old"  # brought to mapping


def test_a_refused_item_is_its_own_error_and_the_others_go_on(sync: Any) -> None:
    ids = _users(sync, 6)
    sync.entra.add_fault("status", status=400, method="POST", path_re="^/users$", count=1)
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    statuses = Counter(sync.state("user", i).status for i in ids)
    assert statuses == Counter({"synced": 5, "error": 1})
    assert len(sync.entra.state.users) == 5
    failed = next(sync.state("user", i) for i in ids if sync.state("user", i).status == "error")
    assert failed.entra_id is None and failed.last_error
    assert _open_outbox(sync) == 0  # a per-object error settles its work, as alone


def test_items_applied_but_answered_503_are_found_not_created_twice(sync: Any) -> None:
    ids = _users(sync, 4)
    sync.entra.add_fault("apply_then_fail", status=503, method="POST", path_re="^/users$",
                         count=2)
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    assert _upns(sync) == Counter(f"u{k:02}@example.com" for k in range(4))
    assert {sync.state("user", i).status for i in ids} == {"synced"}
    assert {sync.state("user", i).entra_id for i in ids} == set(sync.entra.state.users)
    # found within the run by the look-up (one attempt each), not left to a later retry
    assert sorted(len(_actions(sync, i)) for i in ids) == [1, 1, 1, 1]
    assert Counter(a for i in ids for a in _actions(sync, i)) == {"created": 2, "linked": 2}


def test_a_failed_batch_sends_each_create_alone_once(sync: Any) -> None:
    ids = _users(sync, 3)
    sync.entra.add_fault("status", status=503, method="POST", path_re=r"^/\$batch$", count=1)
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    assert _upns(sync) == Counter(f"u{k:02}@example.com" for k in range(3))
    alone = sync.entra.audit.writes(method="POST", path_re="^/users$", in_batch=False)
    assert len(alone) == 3  # after looking each up first (its create flag was committed)
    assert {sync.state("user", i).status for i in ids} == {"synced"}
