"""Full sync triggers: the scheduler (rq-scheduler), first start, the sweeper job, and
`scim2entra sync full [--wait]`."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fullsync_helpers import add_user, lose_direct_jobs, process_env


@pytest.fixture
def scheduler(app: Any) -> Iterator[Any]:
    from jobs.fullsync.schedule import make_scheduler, periodic_ids

    found = make_scheduler(app)
    yield found
    for job_id in periodic_ids(found):
        found.cancel(job_id)


def scheduled_ids(scheduler: Any) -> set[str]:
    return {job.id for job in scheduler.get_jobs()}


def test_install_uses_fixed_ids_so_restarts_add_nothing(app: Any, scheduler: Any) -> None:
    from jobs.fullsync.schedule import install, periodic_ids

    install(app, scheduler)
    install(app, scheduler)  # a restart
    assert scheduled_ids(scheduler) == set(periodic_ids(scheduler))
    assert scheduler.count() == 2
    cron_job = next(j for j in scheduler.get_jobs() if j.id.endswith("full-sync-cron"))
    assert cron_job.meta["cron_string"] == "0 */4 * * *"  # the contract's default
    assert cron_job.func_name == "jobs.tasks.full_sync"


def test_empty_cron_disables_the_full_sync_and_bad_cron_is_refused(app: Any,
                                                                   scheduler: Any) -> None:
    from jobs.fullsync.schedule import CronError, install, periodic_ids

    app.config["SCIM2ENTRA"]["FULL_SYNC_CRON"] = ""
    assert install(app, scheduler) == [periodic_ids(scheduler)[0]]
    app.config["SCIM2ENTRA"]["FULL_SYNC_CRON"] = "every four hours"
    with pytest.raises(CronError, match="SCIM2ENTRA_FULL_SYNC_CRON 'every four hours'"):
        install(app, scheduler)


def test_two_schedulers_enqueue_a_due_job_once(app: Any, scheduler: Any) -> None:
    from jobs.fullsync.schedule import install, make_scheduler, tick
    from jobs.queue import handle

    install(app, scheduler)
    other = make_scheduler(app)
    assert other.acquire_lock()  # the other process is in its round
    assert tick(scheduler) == []
    other.remove_lock()
    assert [job.func_name for job in tick(scheduler)] == ["jobs.tasks.sweep_outbox"]
    assert tick(other) == []  # rescheduled 30 s ahead: nothing due now
    assert handle(app).queue.count == 1


def test_first_start_enqueues_a_full_sync_once(app: Any) -> None:
    from jobs.fullsync import progress
    from jobs.fullsync.schedule import first_start
    from jobs.queue import handle

    assert first_start(app) is True
    assert handle(app).queue.get_job_ids() == ["full-sync"]
    with app.app_context():
        progress.begin("earlier")
    assert first_start(app) is False


def test_sweep_job_sends_what_lost_its_job(sync: Any) -> None:
    from jobs.tasks import sweep_outbox

    user = add_user(sync, "alice@example.com")
    lose_direct_jobs(sync)
    with sync.app.app_context():
        assert sweep_outbox(older_than=0) == "swept 1"
    sync.drain()
    assert sync.state("user", user).status == "synced"


def test_sync_full_enqueues_the_dashboards_job(sync: Any) -> None:
    from jobs.queue import handle

    result = sync.app.test_cli_runner().invoke(args=["sync", "full"])
    assert result.exit_code == 0, result.output
    assert "full sync enqueued" in result.output
    assert handle(sync.app).queue.get_job_ids() == ["full-sync"]


def failed_jobs(sync: Any) -> list[tuple[str, str]]:
    from jobs.queue import handle

    queue = handle(sync.app).queue
    found = []
    for job_id in queue.failed_job_registry.get_job_ids():
        job = queue.fetch_job(job_id)
        found.append((job_id, str(job.exc_info if job else "")[-2000:]))
    return found


def wait_with_worker(sync: Any, proc: subprocess.Popen[str], timeout: float = 60) -> str:
    """Run the jobs here while `sync full --wait` follows them in its own process."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        sync.drain(max_wait=1)
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"sync full --wait did not end:\n{out}\nfailed jobs: {failed_jobs(sync)}")
    out, _ = proc.communicate()
    return out


def test_sync_full_wait_shows_progress_and_exits_0(sync: Any, tmp_path: Path) -> None:
    users = [add_user(sync, f"w{i}@example.com") for i in range(3)]
    lose_direct_jobs(sync)
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "sync", "full", "--wait"],
                            env=process_env(sync.app, tmp_path / "cli"), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = wait_with_worker(sync, proc)
    assert proc.returncode == 0, out
    assert "users                   3/3" in out
    assert out.strip().splitlines()[-1].endswith(" done")
    assert all(sync.state("user", u).status == "synced" for u in users)


def test_sync_full_wait_exits_non_zero_with_the_error(sync: Any, tmp_path: Path) -> None:
    sync.entra.add_fault("status", status=403, method="GET", path_re="^/users/delta$", count=1)
    proc = subprocess.Popen([sys.executable, "-m", "webapp", "sync", "full", "--wait"],
                            env=process_env(sync.app, tmp_path / "cli"), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = wait_with_worker(sync, proc)
    assert proc.returncode == 1, out
    assert "full sync failed: discovery of users failed" in out


def test_sync_full_without_redis_runs_in_process_and_dry_run_plans(database_url: str,
                                                                    tmp_path: Path) -> None:
    from sqlalchemy import select

    from tests.conftest import ScimClient, _empty_tables, make_app, reset_queue
    from tests.test_scim_users import new_user
    from webapp.extensions import db
    from webapp.models import PlanEntry
    from webapp.tokens import create_token

    app = make_app(database_url, None, str(tmp_path))  # no Redis, no tenant: dry-run
    _empty_tables(app)
    with app.app_context():
        scim = ScimClient(app.test_client(), create_token("embedded"))
    assert scim.post("/Users", new_user("dry@example.com")).status_code == 201
    reset_queue(app)  # only the full sync's plan, not the direct job's
    result = app.test_cli_runner().invoke(args=["sync", "full"])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].endswith(" done")
    with app.app_context():
        plans = db.session.scalars(select(PlanEntry)).all()
        assert [(p.method, p.path) for p in plans] == [("POST", "/users")]
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("key", ["FULL_SYNC_CHUNK", "FULL_SYNC_LEASE"])
def test_bad_chunk_or_lease_setting_is_a_clear_error(key: str, tmp_path: Path) -> None:
    from webapp import create_app
    from webapp.config import ConfigError

    with pytest.raises(ConfigError, match=f"SCIM2ENTRA_{key} must be a positive number"):
        create_app({"INSTANCE_PATH": str(tmp_path), key: "many"})
