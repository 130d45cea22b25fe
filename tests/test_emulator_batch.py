"""Emulator JSON $batch, with the body built by hand and sent through the SDK's request adapter
(msgraph-core's batch helper sends ``depends_on`` and needs the undeclared ``deprecated``)."""

from __future__ import annotations

from typing import Any

import pytest
from msgraph import GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from tests.emulator.clients import run_graph, send_raw
from tests.emulator.server import EntraEmulator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
JSON = {"Content-Type": "application/json"}


def user_body(name: str) -> dict[str, Any]:
    return {"accountEnabled": True, "displayName": name, "mailNickname": name,
            "userPrincipalName": f"{name}@example.com",
            "passwordProfile": {"password": "Passw0rd!x"}}


def batch(entra: EntraEmulator, requests: list[dict[str, Any]], **kw: Any) -> Any:
    async def body(client: GraphServiceClient) -> Any:
        return await send_raw(client, "POST", f"{entra.graph_url}/$batch",
                              {"requests": requests})
    return run_graph(entra, body, **kw)


def test_batch_items_and_depends_on(entra: EntraEmulator) -> None:
    group = entra.state.seed_group("Batch group")
    answer = batch(entra, [
        {"id": "1", "method": "POST", "url": "/users", "headers": JSON,
         "body": user_body("bat")},
        {"id": "2", "method": "GET", "url": "/users/bat@example.com?$select=id,displayName",
         "dependsOn": ["1"]},
        {"id": "3", "method": "PATCH", "url": "/groups/does-not-exist", "headers": JSON,
         "body": {"description": "x"}},
        {"id": "4", "method": "GET", "url": "users", "dependsOn": ["3"]},
        {"id": "5", "method": "DELETE", "url": f"/groups/{group['id']}"},
    ])
    by_id = {r["id"]: r for r in answer["responses"]}
    assert {k: r["status"] for k, r in by_id.items()} == {"1": 201, "2": 200, "3": 404,
                                                         "4": 424, "5": 204}
    assert by_id["1"]["body"]["userPrincipalName"] == "bat@example.com"
    assert by_id["2"]["body"]["displayName"] == "bat"
    assert by_id["3"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    assert "body" not in by_id["5"]
    assert entra.audit.count(in_batch=True) == 4  # the 424 never ran
    assert entra.audit.count(kind="batch") == 1


def test_batch_items_count_against_the_write_quota(entra: EntraEmulator) -> None:
    entra.set_write_quota(app_capacity=2, app_period_s=100)
    answer = batch(entra, [
        {"id": str(n), "method": "POST", "url": "/users", "headers": JSON,
         "body": user_body(f"q{n}")} for n in range(3)])
    statuses = [r["status"] for r in answer["responses"]]
    assert statuses == [201, 201, 429]
    assert answer["responses"][2]["headers"]["Retry-After"].isdigit()


def test_batch_apply_then_fail_item(entra: EntraEmulator) -> None:
    entra.add_fault("apply_then_fail", status=504, method="POST", path_re="^/groups$")
    group = {"displayName": "G", "mailEnabled": False, "mailNickname": "g",
             "securityEnabled": True}
    answer = batch(entra, [{"id": "a", "method": "POST", "url": "/groups", "headers": JSON,
                            "body": group}])
    assert answer["responses"][0]["status"] == 504
    assert len(entra.state.groups) == 1


@pytest.mark.parametrize(("requests", "fragment"), [
    ([{"id": str(n), "method": "GET", "url": "/users"} for n in range(21)], "20"),
    ([{"id": "1", "method": "GET", "url": "/users"}] * 2, "unique"),
    ([{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/users"}],
     "relative"),
    ([{"id": "1", "method": "POST", "url": "/users", "body": user_body("x")}], "Content-Type"),
    ([{"id": "1", "method": "GET", "url": "/users", "dependsOn": ["9"]}], "depends"),
])
def test_batch_validation(entra: EntraEmulator, requests: list[dict[str, Any]],
                          fragment: str) -> None:
    with pytest.raises(ODataError) as info:
        batch(entra, requests, max_retries=0)
    assert (info.value.response_status_code, info.value.error.code) == (400, "BadRequest")
    assert fragment in info.value.error.message
    assert not entra.state.users


def test_paths_are_case_insensitive_and_unknown_segments_400(entra: EntraEmulator) -> None:
    entra.state.seed_user("case@example.com")

    async def body(client: GraphServiceClient) -> None:
        listed = await send_raw(client, "GET", f"{entra.graph_url}/USERS?$select=id")
        assert len(listed["value"]) == 1
        with pytest.raises(ODataError) as info:
            await send_raw(client, "GET", f"{entra.graph_url}/widgets")
        assert (info.value.response_status_code, info.value.error.code) == (400, "BadRequest")
        assert "widgets" in info.value.error.message
    run_graph(entra, body, max_retries=0)
