"""run_batched and the clients' *_many helpers: JSON $batch of 20 against the emulator,
mixed item results classified by the one error table, 429 items retried one by one."""

from __future__ import annotations

import time

from jobs.graph import BadRequest, GraphBoundary, GroupsClient, NotFound, UsersClient
from jobs.graph.batch import BatchRequest
from jobs.graph.batch_writes import run_batched
from jobs.graph.errors import AmbiguousWrite, ObjectConflict, Throttled
from tests.emulator.server import EntraEmulator
from tests.test_graph_support import group_payload, open_boundary, user_payload


def test_mixed_results_come_back_in_order_and_classified(entra: EntraEmulator,
                                                         graph: GraphBoundary) -> None:
    entra.state.seed_user("taken@example.com")
    no_password = {k: v for k, v in user_payload("nopw@example.com").items()
                   if k != "passwordProfile"}
    answers = UsersClient(graph).create_many([
        user_payload("new1@example.com"), user_payload("taken@example.com"), no_password,
        user_payload("new2@example.com")])
    assert [a.status for a in answers] == [201, 400, 400, 201]
    assert isinstance(answers[1].error, ObjectConflict)
    assert isinstance(answers[2].error, BadRequest)
    created = {u["userPrincipalName"] for u in entra.state.users.values()}
    assert {"new1@example.com", "new2@example.com"} <= created
    assert entra.audit.count(method="POST", path_re=r"^/\$batch$") == 1
    assert graph.fresh.named_in(f"/users/{answers[0].body['id']}")  # 404 soon = lag


def test_updates_and_deletes_by_id(entra: EntraEmulator, graph: GraphBoundary) -> None:
    users = [entra.state.seed_user(f"u{i}@example.com")["id"] for i in range(45)]
    gone = "00000000-0000-0000-0000-00000000dead"
    client = UsersClient(graph)
    answers = client.update_many({**{u: {"jobTitle": "Batched"} for u in users},
                                  gone: {"jobTitle": "x"}})
    assert all(answers[u].ok for u in users)
    assert isinstance(answers[gone].error, NotFound)
    assert {entra.state.users[u]["jobTitle"] for u in users} == {"Batched"}
    assert entra.audit.count(method="POST", path_re=r"^/\$batch$") == 3  # 46 = 20 + 20 + 6
    deleted = client.delete_many(users[:3])
    assert all(a.status == 204 for a in deleted.values())
    assert not set(users[:3]) & set(entra.state.users)


def test_throttled_items_are_sent_again_without_duplicates(entra: EntraEmulator,
                                                           graph: GraphBoundary) -> None:
    entra.set_write_quota(app_capacity=6, app_period_s=0.5)  # Retry-After: 1 s
    answers = GroupsClient(graph).create_many([group_payload(f"Batch {i}") for i in range(12)])
    assert all(a.ok for a in answers)
    assert len(entra.state.groups) == 12  # a 429 item was not processed: re-sent once
    assert entra.audit.count(status=429, in_batch=True) >= 1
    assert entra.audit.count(method="POST", path_re=r"^/\$batch$") >= 2


def test_a_503_create_item_is_ambiguous_not_replayed(entra: EntraEmulator,
                                                     graph: GraphBoundary) -> None:
    entra.add_fault("status", status=503, method="POST", path_re="^/groups$", count=1)
    answers = GroupsClient(graph).create_many([group_payload("Maybe"), group_payload("Sure")])
    assert isinstance(answers[0].error, AmbiguousWrite) and answers[1].ok
    assert entra.audit.count(method="POST", path_re=r"^/\$batch$") == 1


def test_a_503_patch_item_is_retried(entra: EntraEmulator, graph: GraphBoundary) -> None:
    user = entra.state.seed_user("flaky@example.com")["id"]
    entra.add_fault("status", status=503, method="PATCH", count=1)
    answers = run_batched(graph, [BatchRequest("PATCH", f"/users/{user}", {"jobTitle": "ok"})])
    assert answers[0].ok and entra.state.users[user]["jobTitle"] == "ok"


def test_items_count_one_write_each_against_the_pacer(entra: EntraEmulator) -> None:
    """20 writes/s: 40 items are two batches a second apart, not two writes."""
    users = [entra.state.seed_user(f"p{i}@example.com")["id"] for i in range(40)]
    for graph in open_boundary(entra, writes_per_second=20.0):
        started = time.monotonic()
        answers = UsersClient(graph).update_many({u: {"jobTitle": "paced"} for u in users})
        assert time.monotonic() - started >= 0.9
        assert all(a.ok for a in answers.values())


def test_retries_stop_at_the_policy_limit(entra: EntraEmulator, graph: GraphBoundary) -> None:
    user = entra.state.seed_user("always@example.com")["id"]
    entra.add_fault("status", status=429, method="PATCH", retry_after="0.1", count=10)
    answers = run_batched(graph, [BatchRequest("PATCH", f"/users/{user}", {"jobTitle": "no"})])
    assert isinstance(answers[0].error, Throttled)
    assert entra.audit.count(method="PATCH", status=429) == graph.policy.max_attempts
