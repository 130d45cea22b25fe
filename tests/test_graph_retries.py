"""Retries owned by the boundary: Retry-After in all its forms, 503 bursts, no blind replay
of POST creates, 404 right after a create, hangs and resets."""

from __future__ import annotations

import threading

import pytest

from jobs.graph import (
    AmbiguousWrite,
    GraphBoundary,
    GroupsClient,
    Throttled,
    Transient,
    UsersClient,
)
from tests.emulator.server import EntraEmulator
from tests.test_graph_support import (
    Stopwatch,
    graph_requests,
    group_payload,
    open_boundary,
    user_payload,
)


@pytest.mark.parametrize("retry_after, wait", [("2", 2.0), ("1.25", 1.25), (None, 0.0)])
def test_429_on_get_is_retried_after_retry_after(
        entra: EntraEmulator, graph: GraphBoundary, retry_after: str | None,
        wait: float) -> None:
    entra.add_fault("status", status=429, method="GET", path_re="^/users$",
                    retry_after=retry_after, count=1)
    with Stopwatch() as sw:
        assert graph.get_json("/users")["value"] == []
    assert [e.status for e in graph_requests(entra, "GET", "^/users$")] == [429, 200]
    assert sw.elapsed >= wait


@pytest.mark.parametrize("retry_after, wait", [("1", 1.0), ("0.600", 0.6), (None, 0.0)])
def test_429_on_patch_is_retried_after_retry_after(
        entra: EntraEmulator, graph: GraphBoundary, retry_after: str | None,
        wait: float) -> None:
    user = entra.state.seed_user("patch429@example.com")
    entra.add_fault("status", status=429, method="PATCH", retry_after=retry_after, count=2)
    with Stopwatch() as sw:
        UsersClient(graph).update(user["id"], {"displayName": "Paced"})
    assert [e.status for e in graph_requests(entra, "PATCH", "^/users/")] == [429, 429, 204]
    assert sw.elapsed >= 2 * wait
    assert entra.state.users[user["id"]]["displayName"] == "Paced"


@pytest.mark.parametrize("mode", ["int", "fraction", "absent"])
def test_write_quota_429_is_honoured(entra: EntraEmulator, graph: GraphBoundary,
                                     mode: str) -> None:
    """The emulator's real write quota (3 writes per 1.5 s here): 429s are waited out."""
    users = [entra.state.seed_user(f"q{i}@example.com") for i in range(5)]
    entra.set_write_quota(app_capacity=3, app_period_s=1.5, retry_after_mode=mode)
    client = UsersClient(graph)
    for user in users:
        client.update(user["id"], {"jobTitle": mode})
    assert all(entra.state.users[u["id"]].get("jobTitle") == mode for u in users)
    throttled = entra.audit.count(method="PATCH", status=429)
    assert throttled >= 1 and len(entra.audit.writes()) == 5


def test_throttled_beyond_the_budget_raises_with_retry_after(entra: EntraEmulator) -> None:
    for graph in open_boundary(entra, max_wait=1.0):
        entra.add_fault("status", status=429, method="GET", retry_after="30", count=1)
        with Stopwatch() as sw, pytest.raises(Throttled) as info:
            graph.get_json("/users")
        assert info.value.retry_after == 30.0 and sw.elapsed < 2


def test_503_burst_then_success(entra: EntraEmulator, graph: GraphBoundary) -> None:
    entra.add_fault("status", status=503, method="GET", path_re="^/users$", count=3)
    assert graph.get_json("/users")["value"] == []
    assert [e.status for e in graph_requests(entra, "GET", "^/users$")] == [503, 503, 503, 200]


def test_503_burst_longer_than_the_attempts_is_transient(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    entra.add_fault("status", status=503, method="GET", count=10)
    with pytest.raises(Transient) as info:
        graph.get_json("/groups")
    assert info.value.status == 503 and info.value.code == "serviceNotAvailable"
    assert len(graph_requests(entra, "GET", "^/groups$")) == graph.policy.max_attempts


@pytest.mark.parametrize("kind, status", [("status", 503), ("status", 504),
                                          ("apply_then_fail", 504), ("reset", 0)])
def test_post_create_is_never_replayed(entra: EntraEmulator, graph: GraphBoundary,
                                       kind: str, status: int) -> None:
    """Neither we nor the SDK's RetryHandler re-send a create after an ambiguous failure."""
    entra.add_fault(kind, status=status or 503, method="POST", path_re="^/groups$", count=5)
    with pytest.raises(AmbiguousWrite):
        GroupsClient(graph).create(group_payload("Once"))
    assert len(graph_requests(entra, "POST", "^/groups$")) == 1
    assert len(entra.state.groups) == (1 if kind == "apply_then_fail" else 0)


def test_404_right_after_a_create_is_transient(entra: EntraEmulator,
                                               graph: GraphBoundary) -> None:
    entra.set_replication_delay(700)
    users = UsersClient(graph)
    created = users.create(user_payload("fresh@example.com"))
    users.update(created.id, {"jobTitle": "Fresh"})
    statuses = [e.status for e in graph_requests(entra, "PATCH", "^/users/")]
    assert statuses[0] == 404 and statuses[-1] == 204
    assert entra.state.users[created.id]["jobTitle"] == "Fresh"


def test_404_on_an_old_object_is_not_retried(entra: EntraEmulator,
                                             graph: GraphBoundary) -> None:
    from jobs.graph import NotFound

    with pytest.raises(NotFound):
        graph.get_json("/users/00000000-0000-0000-0000-000000000001")
    assert len(graph_requests(entra, "GET", "^/users/")) == 1


def test_hang_past_the_timeout_is_transient_and_the_worker_goes_on(
        entra: EntraEmulator) -> None:
    for graph in open_boundary(entra, timeout=1.0, max_attempts=2):
        entra.add_fault("hang", method="GET", path_re="^/users$", hang_seconds=30, count=2)
        with Stopwatch() as sw, pytest.raises(Transient) as info:
            graph.get_json("/users")
        assert sw.elapsed < 6 and "Timeout" in info.value.message
        entra.clear_faults()
        assert graph.get_json("/groups")["value"] == []


def test_hang_on_a_create_is_ambiguous(entra: EntraEmulator) -> None:
    for graph in open_boundary(entra, timeout=1.0):
        entra.add_fault("hang", method="POST", path_re="^/users$", hang_seconds=30, count=1)
        with Stopwatch() as sw, pytest.raises(AmbiguousWrite):
            UsersClient(graph).create(user_payload("hang@example.com"))
        assert sw.elapsed < 4


def test_connection_reset_on_get_is_retried(entra: EntraEmulator,
                                            graph: GraphBoundary) -> None:
    entra.add_fault("reset", method="GET", path_re="^/users$", count=1)
    assert graph.get_json("/users")["value"] == []


def test_concurrent_callers_share_the_pacer(entra: EntraEmulator) -> None:
    """20 writes/s: 30 PATCHes from three threads take at least ~1 s."""
    for graph in open_boundary(entra, writes_per_second=20.0):
        user = entra.state.seed_user("paced@example.com")
        client = UsersClient(graph)

        def patch(client: UsersClient = client, uid: str = user["id"]) -> None:
            for i in range(10):
                client.update(uid, {"jobTitle": f"t{i}"})

        threads = [threading.Thread(target=patch) for _ in range(3)]
        with Stopwatch() as sw:
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert len(entra.audit.writes()) == 30 and sw.elapsed >= 0.45


def test_429_on_a_create_is_retried_without_duplicates(entra: EntraEmulator,
                                                        graph: GraphBoundary) -> None:
    """A 429 means "not processed" (throttling page): re-sending a create is safe."""
    entra.set_write_quota(app_capacity=2, app_period_s=1.0, retry_after_mode="fraction")
    groups = GroupsClient(graph)
    for i in range(5):
        groups.create(group_payload(f"Throttled {i}"))
    assert len(entra.state.groups) == 5
    assert entra.audit.count(method="POST", path_re="^/groups$", status=429) >= 1
