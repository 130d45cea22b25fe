"""Scale-out: four `scim2entra worker` processes on one Redis and PostgreSQL.

One group (membership adds and removes) and one user (attribute changes) are hammered with
concurrent SCIM requests from threads while the workers sync. Afterwards Entra (the emulator)
must equal the store, every outbox row must be settled without the sweeper, and no object may
have been synced by two workers at once: the attempts recorded for one object (each spans
from its start to its commit, both inside the per-object lock) never overlap in time.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import (
    ScimClient,
    SyncHarness,
    _empty_tables,
    close_app,
    emulator_config,
    make_app,
)
from tests.test_scim_groups import new_group
from tests.test_scim_users import new_user, patch_body
from webapp.extensions import db
from webapp.models import Membership, OutboxEntry, ScimUser, SyncAttempt

WORKERS = 4
MEMBERS = 12
ROUNDS = 20  # changes per hammering thread
MEMBER_THREADS = 4
USER_THREADS = 2


def start_workers(sync: Any, database_url: str, redis_url: str, folder: Path
                  ) -> list[tuple[subprocess.Popen[bytes], Path]]:
    env = {**os.environ,
           **{f"SCIM2ENTRA_{k}": v for k, v in emulator_config(sync.entra).items()},
           "SCIM2ENTRA_DATABASE_URL": database_url, "SCIM2ENTRA_REDIS_URL": redis_url,
           "SCIM2ENTRA_QUEUE_NAME": sync.app.config["SCIM2ENTRA"]["QUEUE_NAME"],
           "SCIM2ENTRA_SECRET_KEY": "test-secret-key",
           "SCIM2ENTRA_INSTANCE_PATH": str(folder), "SCIM2ENTRA_LOG_LEVEL": "INFO"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    workers = []
    for n in range(WORKERS):
        log = folder / f"worker{n}.log"
        proc = subprocess.Popen([sys.executable, "-m", "webapp", "worker"], env=env,
                                stdout=subprocess.DEVNULL, stderr=log.open("wb"))
        workers.append((proc, log))
    return workers


def quiet(sync: Any, workers: list[Any], settle: float = 1.5, within: float = 120) -> None:
    """Wait until the queue, its registries and the outbox have been empty for `settle` s."""
    from jobs.queue import handle

    queue = handle(sync.app).queue
    deadline, calm_since = time.monotonic() + within, None
    while time.monotonic() < deadline:
        for proc, log in workers:
            assert proc.poll() is None, log.read_text()[-3000:]
        with sync.app.app_context():
            open_rows = db.session.scalar(select(func.count()).select_from(OutboxEntry).where(
                OutboxEntry.done_at.is_(None)))
            db.session.remove()
        busy = (queue.count or queue.started_job_registry.count
                or queue.scheduled_job_registry.count or open_rows)
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = time.monotonic()
        elif time.monotonic() - calm_since >= settle:
            return
        time.sleep(0.2)
    pytest.fail(f"not quiet after {within} s: queue {queue.count}, "
                f"started {queue.started_job_registry.count}, "
                f"scheduled {queue.scheduled_job_registry.count}, open outbox rows {open_rows}")


def own_client(sync: Any) -> ScimClient:
    """A test client per thread (the harness's one is not shared across threads)."""
    token = sync.scim.headers["Authorization"].removeprefix("Bearer ")
    return ScimClient(sync.app.test_client(), token)


def hammer(sync: Any, group_id: str, members: list[str], user_id: str) -> int:
    """Concurrent SCIM changes from threads; returns how many were accepted."""
    accepted: list[int] = []
    errors: list[str] = []

    def member_changes(seed: int) -> None:
        client, rng = own_client(sync), random.Random(seed)
        for _ in range(ROUNDS):
            member = rng.choice(members)
            op = ({"op": "add", "path": "members", "value": [{"value": member}]}
                  if rng.random() < 0.5 else
                  {"op": "remove", "path": f'members[value eq "{member}"]'})
            answer = client.patch(f"/Groups/{group_id}", patch_body(op))
            (accepted if answer.status_code in (200, 204) else errors).append(
                answer.status_code)

    def user_changes(seed: int) -> None:
        client = own_client(sync)
        for i in range(ROUNDS):
            ops = [{"op": "replace", "path": "displayName", "value": f"Hammer {seed}-{i}"}]
            if i % 5 == 4:
                ops.append({"op": "replace", "path": "active", "value": i % 10 != 4})
            answer = client.patch(f"/Users/{user_id}", patch_body(*ops))
            (accepted if answer.status_code == 200 else errors).append(answer.status_code)

    threads = [threading.Thread(target=member_changes, args=(n,))
               for n in range(MEMBER_THREADS)]
    threads += [threading.Thread(target=user_changes, args=(n,)) for n in range(USER_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return len(accepted)


def overlapping(attempts: list[Any]) -> list[tuple[Any, Any]]:
    spans = sorted((a.at - timedelta(milliseconds=a.duration_ms), a.at) for a in attempts)
    return [(p, n) for p, n in pairwise(spans) if n[0] < p[1]]


@pytest.fixture
def many(entra: Any, pg_schema_url: str, redis_url: str, tmp_path: Path
         ) -> Iterator[SyncHarness]:
    """The `sync` harness on PostgreSQL with a queue of its own: no job, worker or RQ
    scheduler lock left by another test of this process can interfere."""
    from webapp.tokens import create_token

    queue = f"s2e-many-{uuid.uuid4().hex[:8]}"
    app = make_app(pg_schema_url, redis_url, str(tmp_path), QUEUE_NAME=queue,
                   **emulator_config(entra))
    _empty_tables(app)
    with app.app_context():
        token = create_token("many-workers")
    yield SyncHarness(app, entra, token)
    close_app(app)


@pytest.mark.slow
def test_four_workers_never_sync_one_object_twice_and_lose_nothing(
        many: SyncHarness, pg_schema_url: str, redis_url: str, tmp_path: Path) -> None:
    sync, database_url = many, pg_schema_url
    sync.entra.set_latency(10)  # every Graph request takes a while: wider race windows
    members = [sync.scim.post("/Users", new_user(f"h{i}@example.com")).get_json()["id"]
               for i in range(MEMBERS)]
    user_id = members[0]
    group_id = sync.scim.post("/Groups", new_group("Hammered", members[:6])).get_json()["id"]
    workers = start_workers(sync, database_url, redis_url, tmp_path)
    try:
        quiet(sync, workers)
        started = time.monotonic()
        changes = hammer(sync, group_id, members, user_id)
        hammer_seconds = time.monotonic() - started
        quiet(sync, workers)
        drained_seconds = time.monotonic() - started
    finally:
        for proc, _ in workers:
            proc.terminate()
        for proc, _ in workers:
            proc.wait(timeout=30)

    with sync.app.app_context():
        store_members = set(db.session.scalars(select(Membership.member_id).where(
            Membership.group_id == group_id)))
        user = db.session.get(ScimUser, user_id)
        assert user is not None
        attempts = {kind: list(db.session.scalars(select(SyncAttempt).where(
            SyncAttempt.kind == kind, SyncAttempt.object_id == oid)))
            for kind, oid in (("group", group_id), ("user", user_id))}
    group_state, user_state = sync.state("group", group_id), sync.state("user", user_id)
    assert group_state.status == "synced" and user_state.status == "synced"
    entra_members = set(sync.entra.state.members_of(group_state.entra_id))
    assert entra_members == {sync.state("user", m).entra_id for m in store_members}
    remote_user = sync.entra.state.get(user_state.entra_id)
    assert remote_user["displayName"] == user.display_name
    assert remote_user["accountEnabled"] is user.active
    for kind, rows in attempts.items():
        assert not overlapping(rows), f"{kind} synced by two workers at once"

    # the work was really spread: more than one worker process ran attempts
    per_worker = [sum(1 for line in log.read_text().splitlines() if line.startswith("{")
                      and json.loads(line).get("event") == "sync_attempt")
                  for _, log in workers]
    assert sum(1 for n in per_worker if n) >= 2, per_worker
    print(f"\nmany workers: {WORKERS} workers, {MEMBERS} users + 1 group, {changes} concurrent "
          f"SCIM changes in {hammer_seconds:.1f} s, quiet after {drained_seconds:.1f} s; "
          f"attempts group {len(attempts['group'])}, user {len(attempts['user'])}, per worker "
          f"{per_worker}; Entra group members {len(entra_members)} == store "
          f"{len(store_members)}; user displayName {remote_user['displayName']!r} equal")


def test_the_overlap_check_sees_overlapping_attempts() -> None:
    """The proof above is only as good as this check."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    back_to_back = [SimpleNamespace(at=t0 + timedelta(milliseconds=ms), duration_ms=100)
                    for ms in (100, 200, 300)]
    assert overlapping(back_to_back) == []
    late = SimpleNamespace(at=t0 + timedelta(milliseconds=250), duration_ms=100)
    assert len(overlapping([*back_to_back, late])) == 2
