"""A worker killed in the middle of a full sync, and Redis stopped during a burst of SCIM
writes: nothing acknowledged is lost, nothing is duplicated."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import ScimClient, _empty_tables, emulator_config, make_app
from tests.fullsync_helpers import (
    add_group,
    add_user,
    entra_groups_named,
    lose_direct_jobs,
    process_env,
)
from tests.test_scim_users import new_user


def progress_now(app: Any) -> dict[str, Any]:
    from jobs.fullsync import progress
    from webapp.extensions import db

    with app.app_context():
        db.session.expire_all()
        return progress.current() or {}


def wait_for(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_a_worker_killed_mid_run_does_not_lose_the_run(sync: Any, tmp_path: Path) -> None:
    from jobs.fullsync.run import resume_stale, trigger

    users = [add_user(sync, f"k{i}@example.com") for i in range(8)]
    groups = [add_group(sync, f"Killed {i}", users[i::2]) for i in range(6)]
    lose_direct_jobs(sync)
    sync.configure(FULL_SYNC_CHUNK="2", FULL_SYNC_LEASE="2")
    sync.entra.set_latency(150)  # slow enough to be killed in the groups phase
    run_id = trigger(sync.app).split()[-1]
    log = (tmp_path / "worker.log").open("w")
    env = process_env(sync.app, tmp_path / "w1")
    # its own session: SIGKILL reaches the worker and RQ's scheduler process it forks, as
    # when a machine or container dies
    worker = subprocess.Popen([sys.executable, "-m", "webapp", "worker"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: progress_now(sync.app).get("phases", {}).get("groups", {})
                 .get("done", 0) >= 2, 90, "the groups phase to be under way")
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    sync.entra.set_latency(0)
    assert progress_now(sync.app)["state"] == "running"
    time.sleep(2.2)  # the dead run's lease expires
    assert resume_stale(sync.app) == f"resumed {run_id}"
    second = subprocess.run([sys.executable, "-m", "webapp", "worker", "--burst"], env=env,
                            stdout=log, stderr=subprocess.STDOUT, timeout=120, check=False)
    assert second.returncode == 0, (tmp_path / "worker.log").read_text()[-3000:]
    last = progress_now(sync.app)
    assert last["run_id"] == run_id and last["state"] == "done", last
    assert all(sync.state("user", u).status == "synced" for u in users)
    assert len(sync.entra.state.users) == len(users)
    for i, group in enumerate(groups):
        found = entra_groups_named(sync, f"Killed {i}")
        assert len(found) == 1, f"{len(found)} groups named 'Killed {i}'"
        assert sync.state("group", group).entra_id == found[0]["id"]
        assert set(sync.entra.state.members_of(found[0]["id"])) == {
            sync.state("user", u).entra_id for u in users[i::2]}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test alone (the shared one on 6379 is never touched)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        wait_for(lambda: _pings(client), 10, "the private redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_every_write_acknowledged_while_redis_was_down_reaches_entra(
        database_url: str, entra: Any, tmp_path: Path, private_redis: PrivateRedis) -> None:
    from jobs.sweeper import sweep
    from jobs.worker import drain
    from webapp.extensions import db
    from webapp.tokens import create_token

    app = make_app(database_url, private_redis.url, str(tmp_path), **emulator_config(entra))
    _empty_tables(app)
    with app.app_context():
        scim = ScimClient(app.test_client(), create_token("burst"))
    names = [f"burst{i}@example.com" for i in range(24)]
    for i, name in enumerate(names):
        if i == 8:
            private_redis.stop()  # down for the middle third of the burst
        if i == 16:
            private_redis.start()  # back, empty: the jobs of the first third are gone too
        response = scim.post("/Users", new_user(name))
        assert response.status_code == 201, response.get_json()
    group = scim.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                  "displayName": "Burst", "members": []})
    assert group.status_code == 201
    with app.app_context():
        swept = sweep(older_than=0)
    assert swept >= 16  # the first two thirds had no job left
    drain(app, max_wait=30)
    for name in names:
        assert entra.state.find_user(name) is not None, name
    assert len([g for g in entra.state.groups.values() if g["displayName"] == "Burst"]) == 1
    with app.app_context():
        assert sweep(older_than=0) == 0  # every outbox row settled
        db.session.remove()
        db.engine.dispose()
