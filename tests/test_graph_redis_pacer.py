"""The Redis-shared write bucket: separate boundaries (as separate workers would have) share
one rate and one 429 hold. Real Redis, real SDK over HTTP to the emulator; rates are read
from the emulator's audit timestamps."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_lib
from flask import Flask
from redis.backoff import NoBackoff
from redis.retry import Retry

from jobs.graph import GraphBoundary, UsersClient
from jobs.graph.pacing import TokenBucketPacer
from jobs.graph.redis_pacer import RedisTokenBucket, bucket_key
from jobs.graph.retry import RetryPolicy
from tests.conftest import make_app
from tests.emulator.server import EntraEmulator
from tests.test_graph_support import settings_for
from webapp.config import ConfigError


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis_lib.Redis]:
    conn = redis_lib.Redis.from_url(redis_url)
    yield conn
    conn.close()


def bucket(conn: redis_lib.Redis, key: str, rate: float, burst: float | None = None
           ) -> RedisTokenBucket:
    # each caller its own connection, as each worker process has
    own = redis_lib.Redis(connection_pool=redis_lib.ConnectionPool(
        **conn.connection_pool.connection_kwargs))
    return RedisTokenBucket(own, rate, burst, key=key)


def boundaries(entra: EntraEmulator, conn: redis_lib.Redis, n: int, rate: float,
               burst: float | None = None) -> list[GraphBoundary]:
    key = f"test:pacer:{uuid.uuid4().hex}"
    settings = settings_for(entra)
    return [GraphBoundary(settings, pacer=bucket(conn, key, rate, burst),
                          policy=RetryPolicy(4, 15.0, base=0.2, cap=2.0)) for _ in range(n)]


def run_threads(targets: list[Any]) -> None:
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_bucket_reserves_and_reports_the_debt(redis_conn: redis_lib.Redis) -> None:
    pacer = bucket(redis_conn, f"test:pacer:{uuid.uuid4().hex}", rate=10, burst=5)
    assert pacer.acquire(5) == 0.0
    assert pacer.acquire(1) == pytest.approx(0.1, abs=0.02)
    assert pacer.acquire(2) == pytest.approx(0.3, abs=0.02)  # queued behind the first
    pacer.reset()
    assert pacer.acquire(1) == 0.0


def test_hold_delays_every_sharer(redis_conn: redis_lib.Redis) -> None:
    key = f"test:pacer:{uuid.uuid4().hex}"
    first, second = bucket(redis_conn, key, 100), bucket(redis_conn, key, 100)
    started = time.monotonic()
    first.hold(2.0)
    wait = second.acquire(1)
    elapsed = time.monotonic() - started  # time between the two calls lowers the wait
    assert 2.01 - elapsed - 0.02 <= wait <= 2.01 + 0.02
    with pytest.raises(ValueError):
        RedisTokenBucket(redis_conn, rate=0)


def test_unreachable_redis_paces_in_process_instead_of_failing() -> None:
    down = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2,
                           retry=Retry(NoBackoff(), 0))
    pacer = RedisTokenBucket(down, rate=10, burst=1)
    assert pacer.acquire(1) == 0.0
    assert pacer.acquire(1) == pytest.approx(0.1, abs=0.05)
    pacer.hold(2.0)
    assert pacer.acquire(1) >= 1.9


def test_in_process_bucket_honours_a_hold() -> None:
    pacer = TokenBucketPacer(rate=100)
    started = time.monotonic()
    pacer.hold(1.0)
    wait = pacer.acquire(1)
    elapsed = time.monotonic() - started
    assert 1.01 - elapsed - 0.02 <= wait <= 1.01 + 0.02


def test_separate_boundaries_never_exceed_the_shared_rate(
        entra: EntraEmulator, redis_conn: redis_lib.Redis) -> None:
    """Three 'workers' x 10 PATCHes at a shared 20/s, burst 1: about 1.45 s, where three
    private buckets would finish in 0.45 s."""
    user = entra.state.seed_user("shared@example.com")["id"]
    graphs = boundaries(entra, redis_conn, 3, rate=20, burst=1)

    def ten_patches(graph: GraphBoundary) -> None:
        for i in range(10):
            UsersClient(graph).update(user, {"jobTitle": str(i)})

    try:
        run_threads([lambda g=g: ten_patches(g) for g in graphs])
    finally:
        for g in graphs:
            g.close()
    stamps = sorted(e.ts for e in entra.audit.writes())
    assert len(stamps) == 30
    assert stamps[-1] - stamps[0] >= 29 / 20 * 0.9
    # any one second holds at most rate + burst writes (+3: requests the CPU-starved test
    # machine delayed after their turn can arrive bunched); private buckets would give ~60
    busiest = max(sum(1 for t in stamps if s <= t < s + 1.0) for s in stamps)
    assert busiest <= 20 + 1 + 3
    assert entra.audit.count(status=429) == 0


def test_a_429_holds_the_other_workers_too(entra: EntraEmulator,
                                           redis_conn: redis_lib.Redis) -> None:
    user = entra.state.seed_user("held@example.com")["id"]
    throttled, other = boundaries(entra, redis_conn, 2, rate=1000)
    entra.add_fault("status", status=429, method="PATCH", retry_after="2", count=1)
    try:
        first = threading.Thread(
            target=lambda: UsersClient(throttled).update(user, {"jobTitle": "a"}))
        first.start()
        deadline = time.monotonic() + 10
        while entra.audit.count(status=429) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        UsersClient(other).update(user, {"jobTitle": "b"})  # never saw a 429 itself
        first.join()
    finally:
        throttled.close()
        other.close()
    hit = entra.audit.filter(status=429)[0].ts
    accepted = [e.ts for e in entra.audit.writes()]
    assert len(accepted) == 2
    assert min(accepted) - hit >= 1.8  # nobody wrote during the Retry-After


def test_sync_context_paces_through_redis(redis_url: str, entra: EntraEmulator,
                                          tmp_path: Any) -> None:
    from jobs.sync.context import sync_context
    from tests.conftest import emulator_config

    app: Flask = make_app("sqlite://", redis_url, str(tmp_path), **emulator_config(entra),
                          GRAPH_WRITES_PER_SECOND="7")
    with app.app_context():
        pacer = sync_context(app).graph.pacer
    assert isinstance(pacer, RedisTokenBucket) and pacer.rate == 7.0
    settings = app.config["SCIM2ENTRA"]
    assert pacer.key == bucket_key(settings["TENANT_ID"], settings["CLIENT_ID"],
                                   settings["QUEUE_NAME"])


def test_embedded_queue_paces_in_process(entra: EntraEmulator, tmp_path: Any) -> None:
    from jobs.sync.context import sync_context
    from tests.conftest import emulator_config

    app = make_app("sqlite://", None, str(tmp_path), **emulator_config(entra))
    with app.app_context():
        assert isinstance(sync_context(app).graph.pacer, TokenBucketPacer)


@pytest.mark.parametrize("value", ["fast", "0", "-3"])
def test_bad_write_rate_is_a_clear_config_error(value: str, tmp_path: Any) -> None:
    with pytest.raises(ConfigError, match="GRAPH_WRITES_PER_SECOND"):
        make_app("sqlite://", None, str(tmp_path), GRAPH_WRITES_PER_SECOND=value)
