"""The Graph boundary: credentials, one loop/client/token per process, raw reads, dry-run,
error classification from the emulator's real answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from jobs.graph import (
    AuthFailed,
    BadRequest,
    BatchRequest,
    GraphBoundary,
    GroupsClient,
    NotFound,
    PlanEntry,
    UsersClient,
    render_table,
    write,
)
from jobs.graph.errors import RULES
from tests.emulator.server import EntraEmulator
from tests.test_graph_support import (
    PASSWORD,
    group_payload,
    open_boundary,
    token_requests,
    user_payload,
)


def test_token_with_client_secret(entra: EntraEmulator, graph: GraphBoundary) -> None:
    assert graph.get_json("/users")["value"] == []
    assert token_requests(entra) == 1


def test_token_with_certificate(entra: EntraEmulator) -> None:
    pem = entra.add_certificate()
    for graph in open_boundary(entra, client_secret=None, client_certificate=pem):
        created = UsersClient(graph).create(user_payload("cert@example.com"))
        assert entra.state.users[created.id]["userPrincipalName"] == "cert@example.com"
        token = entra.audit.filter(kind="identity")[0]
        assert token.status == 200


def test_one_loop_one_client_one_token_for_many_sync_calls(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    entra.state.seed_user("many@example.com")
    loop = graph.loop
    adapter = graph._process().adapter
    for _ in range(25):
        assert graph.get_json("/users", {"$select": "id"})["value"]
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(5):
                graph.get_json("/users/many@example.com")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert graph.loop is loop and graph._process().adapter is adapter
    assert token_requests(entra) == 1
    assert entra.audit.count(method="GET", path_re="^/users") == 45


def test_fork_builds_a_new_loop_and_client_in_the_child(
        entra: EntraEmulator, graph: GraphBoundary) -> None:
    graph.get_json("/users")
    parent_loop = graph.loop
    read, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            ok = graph.get_json("/users")["value"] == [] and graph.loop is not parent_loop
            os.write(write_end, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1" and status == 0
    assert graph.loop is parent_loop
    assert graph.get_json("/users")["value"] == []
    # the child inherited the parent's token: still one token request in all
    assert token_requests(entra) == 1
    assert entra.audit.count(method="GET", path_re="^/users$") == 3


def test_warm_token_before_fork_and_shared_boundary(entra: EntraEmulator) -> None:
    from jobs.graph import shared_boundary
    from tests.test_graph_support import settings_for

    settings = settings_for(entra)
    graph = shared_boundary(settings)
    assert shared_boundary(settings) is graph
    try:
        graph.warm_token()
        graph.warm_token()
        assert token_requests(entra) == 1 and entra.audit.count(kind="read") == 0
    finally:
        graph.close()


def test_warm_models_imports_the_models() -> None:
    code = ("import sys\nfrom jobs.graph import warm_models\nwarm_models()\n"
            "print('msgraph.generated.models.user' in sys.modules, "
            "'msgraph.generated.models.group' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_raw_reads_do_not_parse_models(entra: EntraEmulator) -> None:
    """In a fresh interpreter, a paged discovery never imports the User model."""
    for i in range(30):
        entra.state.seed_user(f"raw{i}@example.com")
    code = (
        "import sys\n"
        "from jobs.graph import GraphBoundary, GraphSettings, UsersClient\n"
        "config = {k.removeprefix('SCIM2ENTRA_'): v for k, v in __import__('os').environ.items()"
        " if k.startswith('SCIM2ENTRA_')}\n"
        "b = GraphBoundary(GraphSettings.from_config(config))\n"
        "n = len(list(UsersClient(b).discover(page_size=7)))\n"
        "b.close()\n"
        "print(n, 'msgraph.generated.models.user' in sys.modules)\n"
    )
    env = {**os.environ, **entra.env()}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.split() == ["30", "False"]


def test_dry_run_sends_no_write_and_masks_the_password(entra: EntraEmulator) -> None:
    plan: list[PlanEntry] = []
    for graph in open_boundary(entra, dry_run=True):
        graph.plan_sink = plan
        result = write(UsersClient(graph), user_payload("dry@example.com"))
        assert result.action == "created" and result.entra_id.startswith("dry-run-")
        groups = GroupsClient(graph)
        group = write(groups, group_payload("Dry group"))
        groups.add_members(group.entra_id, [result.entra_id])
        graph.delete(f"/users/{result.entra_id}")
        graph.batch([BatchRequest("GET", "/users"), BatchRequest("DELETE", "/groups/x")])
    assert entra.audit.writes() == []
    assert [(e.method, e.path) for e in plan] == [
        ("POST", "/users"), ("POST", "/groups"), ("PATCH", f"/groups/{group.entra_id}"),
        ("DELETE", f"/users/{result.entra_id}"), ("DELETE", "/groups/x")]
    profile = plan[0].body["passwordProfile"]
    assert profile == {"password": "***", "forceChangePasswordNextSignIn": False}
    assert PASSWORD not in json.dumps([e.to_dict() for e in plan])


def test_dry_run_without_credentials_reads_nothing(entra: EntraEmulator) -> None:
    plan: list[PlanEntry] = []
    for graph in open_boundary(entra, dry_run=True, client_secret=None):
        with graph.planning(plan):
            assert write(UsersClient(graph), user_payload("x@example.com")).action == "created"
    assert len(entra.audit) == 0 and len(plan) == 1


def test_wrong_secret_is_auth_failed(entra: EntraEmulator) -> None:
    for graph in open_boundary(entra, client_secret="Emu8Q~wrong"):
        with pytest.raises(AuthFailed) as info:
            graph.get_json("/users")
        assert "AADSTS7000215" in info.value.message
        assert info.value.status == 401 and info.value.code == "invalid_client"


def test_missing_permission_is_auth_failed(entra: EntraEmulator) -> None:
    app = entra.register_app(roles=["User.Read"])
    for graph in open_boundary(entra, client_id=app.client_id, client_secret=app.secrets[0]):
        with pytest.raises(AuthFailed) as info:
            UsersClient(graph).create(user_payload("nope@example.com"))
        err = info.value
        assert (err.status, err.code) == (403, "Authorization_RequestDenied")
        assert err.request_id and err.path == "/users" and err.method == "POST"
    assert entra.state.users == {}


def test_not_found_and_bad_request(graph: GraphBoundary) -> None:
    users = UsersClient(graph)
    with pytest.raises(NotFound) as missing:
        users.update("00000000-0000-0000-0000-000000000000", {"displayName": "x"})
    assert missing.value.code == "Request_ResourceNotFound"
    with pytest.raises(BadRequest) as bad:
        users.create(user_payload("someone@unverified.example.net"))
    assert bad.value.status == 400 and bad.value.code == "Request_BadRequest"


def test_batch_answers_per_item_in_order(entra: EntraEmulator, graph: GraphBoundary) -> None:
    user = entra.state.seed_user("batch@example.com")
    answers = graph.batch([
        BatchRequest("GET", f"/users/{user['id']}?$select=id,displayName"),
        BatchRequest("PATCH", f"/users/{user['id']}", {"displayName": "Batched"}),
        BatchRequest("GET", "/users/00000000-0000-0000-0000-00000000dead"),
    ])
    assert [a.status for a in answers] == [200, 204, 404]
    assert answers[0].body["id"] == user["id"] and answers[0].ok
    assert isinstance(answers[2].error, NotFound)
    assert entra.state.users[user["id"]]["displayName"] == "Batched"
    with pytest.raises(ValueError):
        graph.batch([BatchRequest("GET", "/users")] * 21)


def test_error_table_names_every_class_once() -> None:
    table = render_table()
    for name in ("Throttled", "Transient", "ObjectConflict", "AlreadyMember", "NotFound",
                 "BadRequest", "AuthFailed", "AmbiguousWrite"):
        assert name in table
    assert len(table.splitlines()) == len(RULES) + 2


def test_identity_outage_is_not_an_auth_failure(entra: EntraEmulator,
                                                graph: GraphBoundary) -> None:
    entra.add_fault("status", status=503, server="identity", count=1)
    assert graph.get_json("/users")["value"] == []
    assert entra.audit.count(kind="identity", status=503) == 1


def test_settings_from_the_app_config() -> None:
    from jobs.graph import GraphSettings

    bare = GraphSettings.from_config({"GRAPH_URL": None, "DRY_RUN": None})
    assert bare.dry_run and bare.graph_url == "https://graph.microsoft.com/v1.0"
    full = GraphSettings.from_config({
        "TENANT_ID": "t", "CLIENT_ID": "c", "CLIENT_CERTIFICATE": "cert.pem",
        "DRY_RUN": "false", "USER_MATCH": "userPrincipalName, mail", "GRAPH_URL": "http://x/"})
    assert not full.dry_run and full.user_match == ("userPrincipalName", "mail")
    assert full.graph_url == "http://x" and full.has_credentials
    assert GraphSettings.from_config({"TENANT_ID": "t", "CLIENT_ID": "c",
                                      "CLIENT_SECRET": "s", "DRY_RUN": "1"}).dry_run


def test_unreadable_certificate_is_auth_failed(entra: EntraEmulator) -> None:
    for graph in open_boundary(entra, client_secret=None,
                               client_certificate="missing-client-cert.pem"):
        with pytest.raises(AuthFailed):
            graph.get_json("/users")
    assert len(entra.audit) == 0
