"""Full sync discovery through delta queries: a second run reads only what changed, and
still corrects what changed in Entra; a 410, a lost mirror and a killed worker each end in a
full round or a resumed one, and in a correct run."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.conftest import reset_queue
from tests.fullsync_helpers import add_group, add_user, lose_direct_jobs, run_full_sync

ID = re.compile(r"[0-9a-f]{8}-[0-9a-f-]{27}")


def reads_by_path(sync: Any) -> dict[str, int]:
    """Graph reads since the audit was cleared, by path (ids as {id})."""
    found: dict[str, int] = {}
    for entry in sync.entra.audit.reads():
        path = ID.sub("{id}", entry.path)
        found[path] = found.get(path, 0) + 1
    return found


def full_rounds(sync: Any, kind: str) -> int:
    """Delta reads that began a round returning every object (no token in the URL)."""
    return sum(1 for e in sync.entra.audit.reads(path_re=f"^/{kind}/delta")
               if "token" not in e.query)


def synced_team(sync: Any, users: int = 4) -> tuple[list[str], str]:
    """Local users and one group of them, brought to Entra by a first full sync."""
    ids = [add_user(sync, f"d{i}@example.com") for i in range(users)]
    group = add_group(sync, "Delta team", ids)
    lose_direct_jobs(sync)
    assert run_full_sync(sync)["state"] == "done"
    sync.entra.audit.clear()
    return ids, group


def entra_id(sync: Any, kind: str, object_id: str) -> str:
    return str(sync.state(kind, object_id).entra_id)


def test_a_second_run_reads_only_the_delta_pages(sync: Any) -> None:
    synced_team(sync)
    assert run_full_sync(sync)["state"] == "done"
    # the run-1 creates come back as changes: one page per kind, no member list read
    assert reads_by_path(sync) == {"/users/delta": 1, "/groups/delta": 1}
    assert full_rounds(sync, "users") == full_rounds(sync, "groups") == 0
    assert sync.entra.audit.writes() == []
    sync.entra.audit.clear()
    assert run_full_sync(sync)["state"] == "done"
    assert reads_by_path(sync) == {"/users/delta": 1, "/groups/delta": 1}
    assert sync.entra.audit.writes() == []


def test_edits_made_in_entra_between_runs_are_corrected(sync: Any) -> None:
    users, group = synced_team(sync)
    alice, bob = entra_id(sync, "user", users[0]), entra_id(sync, "user", users[1])
    team = entra_id(sync, "group", group)
    stranger = sync.entra.state.seed_user("stranger@example.com")["id"]
    sync.entra.state.update(alice, {"displayName": "Edited in Entra"})
    sync.entra.state.update(team, {"displayName": "Renamed in Entra"})
    sync.entra.state.remove_member(team, bob)
    sync.entra.state.add_member(team, stranger)
    sync.entra.audit.clear()
    assert run_full_sync(sync)["state"] == "done"
    assert sync.entra.state.users[alice]["displayName"] == "Alice Liddell"
    assert sync.entra.state.groups[team]["displayName"] == "Delta team"
    assert set(sync.entra.state.members_of(team)) == {
        entra_id(sync, "user", u) for u in users}
    paths = reads_by_path(sync)
    assert "/groups/{id}/members" not in paths  # the mirror's members@delta sufficed
    assert paths["/users/delta"] == paths["/groups/delta"] == 1


def test_a_user_deleted_in_entra_between_runs_is_created_again(sync: Any) -> None:
    users, group = synced_team(sync)
    gone = entra_id(sync, "user", users[2])
    sync.entra.state.delete(gone)  # a soft-deleted user keeps its UPN: purged too
    sync.entra.state.purge(gone)
    assert run_full_sync(sync)["state"] == "done"
    again = entra_id(sync, "user", users[2])
    assert again != gone and again in sync.entra.state.users
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 1
    team = entra_id(sync, "group", group)
    assert again in sync.entra.state.members_of(team)
    assert sync.state("user", users[2]).status == "synced"


def test_an_expired_delta_link_means_a_full_round_and_a_correct_run(sync: Any) -> None:
    users, _ = synced_team(sync)
    alice = entra_id(sync, "user", users[0])
    sync.entra.expire_delta_tokens()
    sync.entra.state.update(alice, {"displayName": "Edited in Entra"})
    last = run_full_sync(sync)
    assert last["state"] == "done", last
    assert sync.entra.audit.count(path_re="^/users/delta", status=410) == 1
    assert full_rounds(sync, "users") == full_rounds(sync, "groups") == 1
    assert sync.entra.state.users[alice]["displayName"] == "Alice Liddell"
    assert sync.entra.audit.count(method="POST") == 0  # nothing created twice
    sync.entra.audit.clear()
    assert run_full_sync(sync)["state"] == "done"
    assert full_rounds(sync, "users") == 0  # the full round's deltaLink was kept


def test_a_lost_mirror_means_a_full_round(sync: Any) -> None:
    from jobs.fullsync import keys
    from jobs.queue import handle

    synced_team(sync)
    redis = handle(sync.app).redis
    with sync.app.app_context():
        lost = list(redis.scan_iter(match=f"{keys.mirror()}:*"))
    assert lost
    redis.delete(*lost)  # Redis flushed between runs: the jobs' queue too, the store stays
    assert run_full_sync(sync)["state"] == "done"
    assert full_rounds(sync, "users") == full_rounds(sync, "groups") == 1
    assert sync.entra.audit.writes() == []
    assert len(sync.entra.state.users) == 4


def test_a_run_killed_mid_discovery_resumes_and_keeps_the_old_link(sync: Any) -> None:
    from jobs.fullsync import discover
    from jobs.fullsync.run import resume_stale, trigger
    from jobs.queue import handle
    from jobs.worker import make_worker

    users, _ = synced_team(sync, users=5)
    ids = [entra_id(sync, "user", u) for u in users]
    for n, user in enumerate(ids):
        sync.entra.state.update(user, {"displayName": f"Edited {n}"})
    sync.entra.set_knobs(delta_page_max=2)  # 5 changes: 3 pages
    sync.configure(FULL_SYNC_LEASE="1")
    redis = handle(sync.app).redis
    with sync.app.app_context():
        mirror = discover.mirror(redis, "user")
        old_link = redis.get(mirror.link_key)
    run_id = trigger(sync.app).split()[-1]
    make_worker(sync.app).work(burst=True, max_jobs=1, logging_level="WARNING")
    assert redis.get(mirror.link_key) == old_link  # the round has not ended
    reset_queue(sync.app)  # the worker died with the next page's job
    time.sleep(1.2)
    assert resume_stale(sync.app) == f"resumed {run_id}"
    assert handle(sync.app).queue.get_job_ids() == [f"full-sync-{run_id}-discover-users-1"]
    sync.drain()
    with sync.app.app_context():
        from jobs.fullsync import progress

        last = progress.last()
    assert last is not None and last["run_id"] == run_id and last["state"] == "done"
    assert redis.get(mirror.link_key) not in (None, old_link)
    assert sync.entra.audit.count(path_re="^/users/delta") == 3  # no page read twice
    assert full_rounds(sync, "users") == 0
    assert {sync.entra.state.users[u]["displayName"] for u in ids} == {"Alice Liddell"}


def test_a_full_round_killed_mid_way_starts_from_its_cursor(sync: Any) -> None:
    from jobs.fullsync.run import resume_stale, trigger
    from jobs.queue import handle
    from jobs.worker import make_worker

    users = [add_user(sync, f"k{i}@example.com") for i in range(5)]
    for i in range(5):  # in Entra already: linked by mail, not created
        sync.entra.state.seed_user(f"k{i}@example.com", mail=f"k{i}@example.com")
    lose_direct_jobs(sync)
    sync.entra.set_knobs(delta_page_max=2)
    sync.configure(FULL_SYNC_LEASE="1")
    run_id = trigger(sync.app).split()[-1]
    for _ in range(2):  # two of the three pages
        make_worker(sync.app).work(burst=True, max_jobs=1, logging_level="WARNING")
    reset_queue(sync.app)
    time.sleep(1.2)
    assert resume_stale(sync.app) == f"resumed {run_id}"
    assert handle(sync.app).queue.get_job_ids() == [f"full-sync-{run_id}-discover-users-2"]
    sync.drain()
    assert full_rounds(sync, "users") == 1
    assert sync.entra.audit.count(path_re="^/users/delta") == 3
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 0
    assert all(sync.state("user", u).status == "synced" for u in users)
    assert len(sync.entra.state.users) == 5


def test_other_match_keys_mean_a_full_round_of_that_kind(sync: Any) -> None:
    from jobs.graph.delta import load_delta_link

    synced_team(sync)
    sync.configure(USER_MATCH="userPrincipalName")  # the mirror has no index on it yet
    assert run_full_sync(sync)["state"] == "done"
    assert full_rounds(sync, "users") == 1 and full_rounds(sync, "groups") == 0
    assert sync.entra.audit.writes() == []
    with sync.app.app_context():  # each finished round's link, for operators
        assert "deltatoken" in str(load_delta_link("users"))


def test_a_page_applied_again_after_a_death_changes_nothing(sync: Any) -> None:
    from jobs.fullsync import discover
    from jobs.fullsync.run import trigger
    from jobs.queue import handle
    from jobs.sync.context import sync_context

    users, _ = synced_team(sync, users=5)
    ids = [entra_id(sync, "user", u) for u in users]
    sync.entra.state.update(ids[0], {"mail": "moved@example.com", "displayName": "Edited"})
    sync.entra.state.delete(ids[1])
    sync.entra.state.purge(ids[1])
    sync.entra.set_knobs(delta_page_max=2)
    run_id = trigger(sync.app).split()[-1]
    [job] = handle(sync.app).queue.jobs
    redis = handle(sync.app).redis
    with sync.app.app_context():  # what the job did before its worker died
        read = discover.read_into_mirror(sync_context(sync.app), redis, "user", job.args[2])
        assert read.count == 2 and read.next_url
    sync.drain()  # the same page again, then the rest
    with sync.app.app_context():
        from jobs.fullsync import progress

        last = progress.last()
        view = discover.DiscoveredView(redis, "user")
        assert view.ids_for("mail", "moved@example.com") == [ids[0]]
        assert view.ids_for("mail", "d0@example.com") == []
        assert view.get(ids[1]) is None and view.ids_for("mail", "d1@example.com") == []
        assert len(view.mirror) == 4  # d1 created again after discovery: the next round
    assert last is not None and last["run_id"] == run_id and last["state"] == "done"
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 1  # d1 again
    assert sync.entra.state.users[ids[0]]["displayName"] == "Alice Liddell"
