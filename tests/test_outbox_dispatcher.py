"""The dispatcher thread (jobs/dispatcher.py): enqueue after commit, off the request thread.

The app fixture runs it in waiting mode (tests find jobs queued when a response arrives);
these tests drive it the way a gunicorn worker does, without waiting, against real Redis.
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from typing import Any

import pytest

from jobs import dispatcher as dispatcher_module
from jobs.dispatcher import Dispatcher, dispatcher_of
from jobs.outbox import Change
from jobs.queue import EXTENSION as QUEUE_EXTENSION
from jobs.queue import handle, sync_job_id
from tests.conftest import make_app


def _id(name: str) -> str:
    """Object ids unique per run: RQ job keys are global to the Redis database."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _queued(app: Any) -> list[str]:
    return list(handle(app).queue.get_job_ids())


def test_submit_returns_and_the_thread_enqueues(app: Any) -> None:
    dispatcher = Dispatcher(app)
    user, group = _id("u"), _id("g")
    dispatcher.submit([Change("user", user, "upsert"), Change("group", group, "upsert")])
    assert dispatcher.flush(timeout=10)
    assert set(_queued(app)) == {sync_job_id("user", user), sync_job_id("group", group)}


def test_changes_keep_their_order_and_coalesce(app: Any) -> None:
    dispatcher = Dispatcher(app)
    users = [_id("u") for _ in range(5)]
    for n in range(50):
        dispatcher.submit([Change("user", users[n % 5], "upsert")])
    assert dispatcher.flush(timeout=10)
    assert _queued(app) == [sync_job_id("user", user) for user in users]


def test_the_app_fixture_waits_for_the_thread(app: Any, scim: Any) -> None:
    user_id = scim.post("/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                   "userName": "w@example.com"}).get_json()["id"]
    assert dispatcher_of(app) is not None and dispatcher_of(app).wait  # type: ignore[union-attr]
    assert _queued(app) == [sync_job_id("user", user_id)]


def test_redis_down_neither_raises_nor_blocks_the_caller(
        database_url: str, tmp_path: Any, caplog: pytest.LogCaptureFixture) -> None:
    down = make_app(database_url, "redis://127.0.0.1:1/0", str(tmp_path))
    dispatcher = Dispatcher(down)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="jobs.queue"):
        dispatcher.submit([Change("user", _id("u"), "upsert")])
        assert time.monotonic() - started < 0.5  # the caller does not wait for Redis
        assert dispatcher.flush(timeout=10)
    assert "stays in the outbox" in caplog.text


def test_a_failing_enqueue_does_not_stop_the_thread(app: Any, caplog: pytest.LogCaptureFixture
                                                    ) -> None:
    dispatcher = Dispatcher(app)
    queue_handle = app.extensions.pop(QUEUE_EXTENSION)  # a bug: no queue to enqueue on
    with caplog.at_level(logging.ERROR, logger="jobs.dispatcher"):
        dispatcher.submit([Change("user", _id("u"), "upsert")])
        assert dispatcher.flush(timeout=10)
    assert "outbox sweeper will retry" in caplog.text
    app.extensions[QUEUE_EXTENSION] = queue_handle
    user = _id("u")
    dispatcher.submit([Change("user", user, "upsert")])
    assert dispatcher.flush(timeout=10)
    assert _queued(app) == [sync_job_id("user", user)]


def test_a_full_backlog_drops_changes_with_a_warning(
        database_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # A "Redis" that takes connections and never answers: each enqueue waits for the
    # socket timeout, so the backlog fills while the thread is stuck on the first change.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        monkeypatch.setattr(dispatcher_module, "BACKLOG_MAX", 2)
        dispatcher = Dispatcher(make_app(database_url, f"redis://127.0.0.1:{port}/0",
                                         str(tmp_path)))
        with caplog.at_level(logging.WARNING, logger="jobs.dispatcher"):
            for n in range(10):
                dispatcher.submit([Change("user", _id(f"u{n}"), "upsert")])
    # Eight of ten changes find no room; the warning comes once per spell, not per change
    # (two spells when the thread takes its first change in the middle of the loop).
    assert caplog.text.count("backlog full") in (1, 2)


def test_the_idle_thread_ends_and_a_new_one_starts(app: Any, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    monkeypatch.setattr(dispatcher_module, "IDLE_EXIT", 0.05)
    dispatcher = Dispatcher(app)
    first, second = _id("u"), _id("u")
    dispatcher.submit([Change("user", first, "upsert")])
    assert dispatcher.flush(timeout=10)
    deadline = time.monotonic() + 5
    while dispatcher._running_in is not None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert dispatcher._running_in is None  # the thread has ended
    dispatcher.submit([Change("user", second, "upsert")])
    assert dispatcher.flush(timeout=10)
    assert _queued(app) == [sync_job_id("user", first), sync_job_id("user", second)]


def test_a_forked_child_starts_its_own_thread(app: Any) -> None:
    dispatcher = Dispatcher(app)
    parent, child = _id("u"), _id("u")
    dispatcher.submit([Change("user", parent, "upsert")])
    assert dispatcher.flush(timeout=10)
    # What a child of gunicorn --preload inherits: the parent's pid as the running one.
    dispatcher._running_in = -1
    dispatcher.submit([Change("user", child, "upsert")])
    assert dispatcher.flush(timeout=10)
    assert _queued(app) == [sync_job_id("user", parent), sync_job_id("user", child)]


def test_the_thread_lingers_only_while_the_process_is_busy() -> None:
    """Below BUSY_RATE a write is enqueued at once; at or above it, batches gather."""
    now = [100.0]
    rate = dispatcher_module._Rate(clock=lambda: now[0])
    rate.count(dispatcher_module.BUSY_RATE - 1)
    now[0] += 1.0
    assert not rate.busy()  # a second with fewer writes than BUSY_RATE
    rate.count(dispatcher_module.BUSY_RATE * 2)
    now[0] += 0.5
    assert not rate.busy()  # the second is not over: the last verdict stands
    now[0] += 0.5
    assert rate.busy()
    now[0] += 1.0
    assert not rate.busy()  # a quiet second ends it
