"""Emulator /users/delta and /groups/delta through the real msgraph-sdk."""

from __future__ import annotations

from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.groups.delta.delta_request_builder import DeltaRequestBuilder
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.user import User

from tests.emulator.clients import run_graph
from tests.emulator.server import EntraEmulator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
GroupDelta = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters


def members_delta(group: Any) -> list[dict[str, Any]]:
    # kiota parses GUID-shaped strings inside additional_data into uuid.UUID
    return [{k: (str(v) if k == "id" else v) for k, v in m.items()}
            for m in group.additional_data["members@delta"]]


async def drain(builder: Any, first: Any) -> tuple[list[Any], str]:
    """Follow nextLinks to the deltaLink; returns (all items, deltaLink)."""
    items, page = list(first.value), first
    while page.odata_next_link:
        page = await builder.with_url(page.odata_next_link).get()
        items += page.value
    return items, page.odata_delta_link


def test_users_delta_rounds(entra: EntraEmulator) -> None:
    users = [entra.state.seed_user(f"d{n:03}@example.com") for n in range(150)]

    async def body(client: GraphServiceClient) -> None:
        delta = client.users.delta
        items, link = await drain(delta, await delta.get())
        assert len(items) == 150 and link.startswith(entra.graph_url)
        again, link = await drain(delta, await delta.with_url(link).get())
        assert again == []
        await client.users.by_user_id(users[0]["id"]).patch(User(job_title="Boss"))
        await client.users.by_user_id(users[1]["id"]).delete()
        changed, link = await drain(delta, await delta.with_url(link).get())
        assert [u.id for u in changed] == [users[0]["id"], users[1]["id"]]
        assert changed[0].job_title is None or changed[0].display_name
        assert changed[1].additional_data["@removed"] == {"reason": "changed"}
    run_graph(entra, body)


def test_groups_delta_members(entra: EntraEmulator) -> None:
    alice = entra.state.seed_user("alice@example.com")["id"]
    bob = entra.state.seed_user("bob@example.com")["id"]
    group = entra.state.seed_group("Delta team", members=[alice])
    cfg = RequestConfiguration(query_parameters=GroupDelta(select=["displayName", "members"]))

    async def body(client: GraphServiceClient) -> None:
        delta = client.groups.delta
        items, link = await drain(delta, await delta.get(cfg))
        assert members_delta(items[0]) == [
            {"@odata.type": "#microsoft.graph.user", "id": alice}]
        entra.state.add_member(group["id"], bob)
        entra.state.remove_member(group["id"], alice)
        items, link = await drain(delta, await delta.with_url(link).get())
        assert items[0].display_name == "Delta team"
        assert members_delta(items[0]) == [
            {"@odata.type": "#microsoft.graph.user", "id": bob},
            {"@odata.type": "#microsoft.graph.user", "id": alice,
             "@removed": {"reason": "deleted"}}]
        await client.groups.by_group_id(group["id"]).delete()
        items, link = await drain(delta, await delta.with_url(link).get())
        assert items[-1].additional_data["@removed"] == {"reason": "changed"}
    run_graph(entra, body)


def test_stale_delta_token_is_410(entra: EntraEmulator) -> None:
    entra.state.seed_user("eve@example.com")
    entra.set_knobs(token_lifetime_s=30 * 24 * 3600)  # so that only the delta token ages

    async def body(client: GraphServiceClient) -> None:
        delta = client.users.delta
        _, link = await drain(delta, await delta.get())
        entra.advance_clock(8 * 24 * 3600)  # directory delta tokens live 7 days
        with pytest.raises(ODataError) as info:
            await delta.with_url(link).get()
        assert info.value.response_status_code == 410
        assert info.value.error.code == "syncStateNotFound"
        entra.advance_clock(-8 * 24 * 3600)
        _, link = await drain(delta, await delta.get())
        entra.expire_delta_tokens()
        with pytest.raises(ODataError) as info:
            await delta.with_url(link).get()
        assert info.value.response_status_code == 410
        with pytest.raises(ODataError) as info:
            await delta.with_url(f"{entra.graph_url}/users/delta()?$deltatoken=garbage").get()
        assert (info.value.response_status_code, info.value.error.code) == (410,
                                                                             "resyncRequired")
        latest = await delta.with_url(f"{entra.graph_url}/users/delta?$deltatoken=latest").get()
        assert latest.value == [] and latest.odata_delta_link
    run_graph(entra, body)


def test_purged_user_is_removed_with_reason_deleted(entra: EntraEmulator) -> None:
    user = entra.state.seed_user("gone@example.com")

    async def body(client: GraphServiceClient) -> None:
        delta = client.users.delta
        _, link = await drain(delta, await delta.get())
        await client.users.by_user_id(user["id"]).delete()
        await client.directory.deleted_items.by_directory_object_id(user["id"]).delete()
        items, _ = await drain(delta, await delta.with_url(link).get())
        assert [(str(u.id), u.additional_data["@removed"]) for u in items] == [
            (user["id"], {"reason": "deleted"})]
    run_graph(entra, body)
    assert not entra.state.deleted
