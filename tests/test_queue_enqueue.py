"""Enqueueing syncs (jobs/queue.py): one by one, and a batch in one Redis round trip.

The batch path builds RQ's unique enqueue itself (its Lua script in a pipeline), so these
tests hold it to what `enqueue_sync` (RQ's own `enqueue(unique=True)`) stores, on real Redis
and on the embedded queue.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from rq.job import Job, JobStatus

from jobs.queue import enqueue_sync, enqueue_syncs, follow_job_id, handle, sync_job_id
from tests.conftest import close_app, make_app


def _id(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _job(app: Any, job_id: str) -> Job:
    queue = handle(app).queue
    return Job.fetch(job_id, connection=queue.connection)


def _stored_fields(app: Any, job_id: str) -> set[bytes | str]:
    return set(handle(app).queue.connection.hkeys(Job.key_for(job_id)))


def _same_job(app: Any, one: str, other: str) -> None:
    a, b = _job(app, one), _job(app, other)
    for attribute in ("func_name", "origin", "ttl", "result_ttl", "failure_ttl", "timeout",
                      "description"):
        expected = getattr(a, attribute)
        if attribute == "description":  # it names the arguments, which differ
            expected = expected.replace(a.args[1], b.args[1])
        assert getattr(b, attribute) == expected, attribute
    assert b.get_status() == a.get_status() == JobStatus.QUEUED
    assert b.enqueued_at is not None
    assert _stored_fields(app, other) == _stored_fields(app, one)


def test_a_batch_stores_what_one_by_one_stores(app: Any) -> None:
    single, upsert, delete = _id("u"), _id("u"), _id("g")
    with app.app_context():
        assert enqueue_sync("user", single)
        assert enqueue_syncs([("user", upsert, None), ("group", delete, "entra-g")]) == 2
    _same_job(app, sync_job_id("user", single), sync_job_id("user", upsert))
    assert _job(app, sync_job_id("group", delete)).args == ("group", delete, "entra-g")
    assert list(handle(app).queue.get_job_ids()) == [
        sync_job_id("user", single), sync_job_id("user", upsert), sync_job_id("group", delete)]


def test_a_waiting_job_coalesces_a_batch_entry(app: Any) -> None:
    waiting, new = _id("u"), _id("u")
    with app.app_context():
        enqueue_sync("user", waiting)
        assert enqueue_syncs([("user", waiting, None), ("user", new, None)]) == 2
    assert list(handle(app).queue.get_job_ids()) == [
        sync_job_id("user", waiting), sync_job_id("user", new)]


def test_a_running_job_gets_its_follow_up_from_a_batch(app: Any) -> None:
    running = _id("u")
    with app.app_context():
        enqueue_sync("user", running)
        # A worker took the job: it may have read the store already.
        job = _job(app, sync_job_id("user", running))
        handle(app).queue.remove(job)
        job.set_status(JobStatus.STARTED)
        assert enqueue_syncs([("user", running, None), ("user", _id("u"), None)]) == 2
    assert follow_job_id("user", running) in handle(app).queue.get_job_ids()


def test_the_embedded_queue_takes_a_batch(tmp_path: Any) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'store.db'}", None, str(tmp_path))
    try:
        ids = [_id("u") for _ in range(3)]
        with app.app_context():
            assert enqueue_syncs([("user", i, None) for i in ids]) == 3
            assert enqueue_syncs([("user", ids[0], None)]) == 1  # still waiting: coalesced
        assert list(handle(app).queue.get_job_ids()) == [sync_job_id("user", i) for i in ids]
    finally:
        close_app(app)


def test_redis_down_enqueues_nothing_and_says_so(
        tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'store.db'}", "redis://127.0.0.1:1/0", str(tmp_path))
    try:
        with app.app_context(), caplog.at_level(logging.WARNING, logger="jobs.queue"):
            assert enqueue_syncs([("user", _id("u"), None), ("user", _id("u"), None)]) == 0
        assert "each of 2 objects stays in the outbox" in caplog.text
    finally:
        close_app(app)
