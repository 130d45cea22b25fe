"""Full sync runs: the lock, chunk jobs and progress, failures, and resuming a dead run."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import make_app, reset_queue
from tests.fullsync_helpers import add_group, add_user, lose_direct_jobs, run_full_sync


def progress_now(app: Any) -> dict[str, Any] | None:
    from jobs.fullsync import progress
    from webapp.extensions import db

    with app.app_context():
        db.session.expire_all()
        return progress.current()


def test_a_second_run_is_refused_from_any_process(sync: Any, tmp_path: Any) -> None:
    from jobs.fullsync.run import trigger

    add_user(sync, "alice@example.com")
    lose_direct_jobs(sync)
    first = trigger(sync.app)
    assert first.startswith("started ")
    run_id = first.split()[-1]
    assert trigger(sync.app) == f"already running: {run_id}"
    # another process on another machine: its own app, the same Redis, queue and database
    other = make_app(sync.app.config["SQLALCHEMY_DATABASE_URI"],
                     sync.app.config["SCIM2ENTRA"]["REDIS_URL"], str(tmp_path / "other"))
    assert trigger(other) == f"already running: {run_id}"
    current = progress_now(sync.app)
    assert current is not None and current["state"] == "running"
    sync.drain()
    last = run_full_sync(sync)  # the lock is free again once the run has ended
    assert last["run_id"] != run_id and last["state"] == "done"
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 1


def test_the_run_is_split_into_chunk_jobs_with_progress(sync: Any) -> None:
    from jobs.fullsync.run import trigger
    from jobs.queue import handle
    from jobs.worker import make_worker

    users = [add_user(sync, f"c{i}@example.com") for i in range(7)]
    add_group(sync, "Chunky", users)
    lose_direct_jobs(sync)
    sync.configure(FULL_SYNC_CHUNK="3")
    run_id = trigger(sync.app).split()[-1]
    queue = handle(sync.app).queue
    seen: list[str] = []
    users_done: list[int] = []
    while job_ids := queue.get_job_ids():
        seen += [j for j in job_ids if j not in seen]
        make_worker(sync.app).work(burst=True, max_jobs=1, logging_level="WARNING")
        phase = (progress_now(sync.app) or {}).get("phases", {}).get("users")
        if phase:
            users_done.append(phase["done"])
    assert [j for j in seen if j.startswith(f"full-sync-{run_id}-users-")] == [
        f"full-sync-{run_id}-users-{n}" for n in range(3)]  # 3 + 3 + 1 users
    assert f"full-sync-{run_id}-discover-users-0" in seen
    assert f"full-sync-{run_id}-members-0" in seen
    assert users_done == sorted(users_done) and {3, 6, 7} <= set(users_done)
    last = progress_now(sync.app)
    assert last is not None and last["state"] == "done" and last["finished"]
    assert last["phases"]["users"] == {"done": 7, "total": 7}
    assert last["phases"]["groups"] == {"done": 1, "total": 1}
    assert all(sync.state("user", u).status == "synced" for u in users)


def test_a_run_whose_jobs_were_lost_resumes_after_its_lease(sync: Any) -> None:
    from jobs.fullsync.run import resume_stale, run_lock, trigger
    from jobs.queue import handle
    from jobs.worker import make_worker

    users = [add_user(sync, f"r{i}@example.com") for i in range(5)]
    lose_direct_jobs(sync)
    # A lease long enough for three jobs on a loaded CI machine, short enough to wait out.
    sync.configure(FULL_SYNC_CHUNK="2", FULL_SYNC_LEASE="3")
    run_id = trigger(sync.app).split()[-1]
    for _ in range(3):  # discovery (2 pages) and the first users chunk
        make_worker(sync.app).work(burst=True, max_jobs=1, logging_level="WARNING")
    queued = handle(sync.app).queue.get_job_ids()
    assert queued == [f"full-sync-{run_id}-users-{n}" for n in (1, 2)]
    with sync.app.app_context():
        assert run_lock(sync.app).refresh(run_id)  # as a live chunk job does
    assert resume_stale(sync.app) is None  # the lease holds: not stale
    time.sleep(3.2)  # no worker refreshed it: expired (a backlog looks the same)
    assert resume_stale(sync.app) == f"resumed {run_id}"
    assert handle(sync.app).queue.get_job_ids() == queued  # still queued: not doubled
    reset_queue(sync.app)  # now the jobs are lost with their worker
    time.sleep(3.2)
    assert resume_stale(sync.app) == f"resumed {run_id}"
    assert handle(sync.app).queue.get_job_ids() == queued
    sync.drain()
    last = progress_now(sync.app)
    assert last is not None and last["run_id"] == run_id and last["state"] == "done"
    assert last["phases"]["users"] == {"done": 5, "total": 5}
    assert all(sync.state("user", u).status == "synced" for u in users)
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 5


def test_refused_discovery_fails_the_run_and_frees_the_lock(sync: Any) -> None:
    from jobs.fullsync.run import run_lock, trigger

    add_user(sync, "alice@example.com")
    lose_direct_jobs(sync)
    sync.entra.add_fault("status", status=403, method="GET", path_re="^/users/delta$", count=1)
    trigger(sync.app)
    sync.drain()
    last = progress_now(sync.app)
    assert last is not None and last["state"] == "failed"
    assert "discovery of users failed" in last["error"] and "403" in last["error"]
    with sync.app.app_context():
        assert run_lock(sync.app).holder() is None
    assert run_full_sync(sync)["state"] == "done"


def test_resume_during_discovery_neither_doubles_nor_repeats_pages(sync: Any) -> None:
    from jobs.fullsync.run import discover_page, resume_stale, trigger
    from jobs.queue import handle
    from jobs.worker import make_worker

    add_user(sync, "alice@example.com")
    lose_direct_jobs(sync)
    sync.configure(FULL_SYNC_LEASE="1")
    run_id = trigger(sync.app).split()[-1]
    first_page = [f"full-sync-{run_id}-discover-users-0"]
    queue = handle(sync.app).queue
    time.sleep(1.2)
    assert resume_stale(sync.app) == f"resumed {run_id}"
    assert queue.get_job_ids() == first_page  # queued, not lost: left alone
    job = queue.fetch_job(first_page[0])
    assert job is not None
    url = job.args[2]
    make_worker(sync.app).work(burst=True, max_jobs=1, logging_level="WARNING")
    # the same page again (a copy enqueued before the resume) reads nothing twice
    assert discover_page(sync.app, run_id, "discover_users", url, 0) == (
        "an older page, already read")
    sync.drain()
    last = progress_now(sync.app)
    assert last is not None and last["run_id"] == run_id and last["state"] == "done"
    assert last["phases"]["users"] == {"done": 1, "total": 1}
    assert sync.entra.audit.count(method="GET", path_re="^/users/delta$") == 1
