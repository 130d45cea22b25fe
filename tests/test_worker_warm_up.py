"""A long-running worker gets its Graph client and token at start (jobs.worker.warm_up)."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest

from tests.fullsync_helpers import add_user


def _token_requests(sync: Any) -> int:
    return sync.entra.audit.count(method="POST", path_re="/oauth2/v2.0/token$")


def test_warm_up_gets_the_token_once_before_any_job(sync: Any) -> None:
    from jobs.worker import warm_up

    # settings no other test used: a new process-wide Graph boundary, with no token yet
    sync.configure(GRAPH_WRITES_PER_SECOND=str(10 + random.random()))
    warm_up(sync.app)
    assert _token_requests(sync) == 1
    assert sync.entra.audit.count(kind="read") == sync.entra.audit.count(kind="write") == 0
    add_user(sync, "alice@example.com")
    sync.drain()
    assert sync.entra.audit.count(method="POST", path_re="^/users$") == 1
    assert _token_requests(sync) == 1  # the first job used the warmed token


def test_warm_up_with_wrong_credentials_only_warns(sync: Any,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    from jobs.worker import warm_up

    sync.configure(CLIENT_SECRET="not-the-secret")
    with caplog.at_level(logging.WARNING, logger="jobs.worker"):
        warm_up(sync.app)  # must not raise: the worker starts and its jobs report the error
    assert any("warm-up" in r.getMessage() for r in caplog.records)
    assert "not-the-secret" not in caplog.text
