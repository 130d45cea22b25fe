"""Emulator /groups and memberships through the real msgraph-sdk."""

from __future__ import annotations

from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate

from tests.emulator.clients import run_graph, send_raw
from tests.emulator.server import EntraEmulator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
GRAPH = "https://graph.microsoft.com/v1.0"


def security_group(name: str, nick: str | None = None, **extra: Any) -> Group:
    return Group(display_name=name, mail_enabled=False, mail_nickname=nick or name.replace(" ", ""),
                 security_enabled=True, group_types=[], **extra)


async def error_of(awaitable: Any) -> ODataError:
    with pytest.raises(ODataError) as info:
        await awaitable
    return info.value


def test_create_get_update_delete_and_no_uniqueness(entra: EntraEmulator) -> None:
    async def body(client: GraphServiceClient) -> None:
        first = await client.groups.post(security_group("Sales", "sales"))
        second = await client.groups.post(security_group("Sales", "sales"))
        assert first.id != second.id  # Graph: no uniqueness on displayName or mailNickname
        assert first.security_enabled and first.group_types == []
        await client.groups.by_group_id(first.id).patch(Group(description="EMEA sales"))
        got = await client.groups.by_group_id(first.id).get()
        assert (got.display_name, got.description) == ("Sales", "EMEA sales")
        await client.groups.by_group_id(second.id).delete()
        err = await error_of(client.groups.by_group_id(second.id).get())
        assert (err.response_status_code, err.error.code) == (404, "Request_ResourceNotFound")
        listed = await client.groups.get()
        assert [g.id for g in listed.value] == [first.id]
    run_graph(entra, body)


@pytest.mark.parametrize(("change", "fragment"), [
    ({"mailNickname": "has space"}, "mailNickname"),
    ({"mailNickname": "a.b"}, "mailNickname"),
    ({"mailNickname": "a@b"}, "mailNickname"),
    ({"mailNickname": "x" * 65}, "mailNickname"),
    ({"mailNickname": "caf\u00e9"}, "mailNickname"),
    ({"displayName": "x" * 257}, "displayName"),
    ({"displayName": None}, "displayName"),
    ({"securityEnabled": None}, "securityEnabled"),
    ({"mailEnabled": True}, "mailEnabled"),
    ({"visibilityLevel": "x"}, "visibilityLevel"),
])
def test_create_validation(entra: EntraEmulator, change: dict[str, Any], fragment: str) -> None:
    payload = {"displayName": "Ops", "mailEnabled": False, "mailNickname": "ops",
               "securityEnabled": True}
    payload = {k: v for k, v in {**payload, **change}.items() if v is not None}

    async def body(client: GraphServiceClient) -> ODataError:
        return await error_of(send_raw(client, "POST", f"{entra.graph_url}/groups", payload))
    err = run_graph(entra, body, max_retries=0)
    assert (err.response_status_code, err.error.code) == (400, "Request_BadRequest")
    assert fragment in err.error.message
    assert not entra.state.groups


def test_member_ref_add_duplicate_remove(entra: EntraEmulator) -> None:
    user = entra.state.seed_user("ivy@example.com")
    group = entra.state.seed_group("Support")
    ref = ReferenceCreate(odata_id=f"{GRAPH}/directoryObjects/{user['id']}")

    async def body(client: GraphServiceClient) -> None:
        members = client.groups.by_group_id(group["id"]).members
        await members.ref.post(ref)
        err = await error_of(members.ref.post(ref))
        assert (err.response_status_code, err.error.code) == (400, "Request_BadRequest")
        assert err.error.message == ("One or more added object references already exist for "
                                     "the following modified properties: 'members'.")
        missing = ReferenceCreate(odata_id=f"{GRAPH}/directoryObjects/{'0' * 8}-0000-0000-"
                                           "0000-000000000000")
        err = await error_of(members.ref.post(missing))
        assert (err.response_status_code, err.error.code) == (404, "Request_ResourceNotFound")
        listed = await members.get()
        assert [m.id for m in listed.value] == [user["id"]]
        assert listed.value[0].odata_type == "#microsoft.graph.user"
        await members.by_directory_object_id(user["id"]).ref.delete()
        err = await error_of(members.by_directory_object_id(user["id"]).ref.delete())
        assert err.response_status_code == 404
    run_graph(entra, body)
    assert entra.state.members_of(group["id"]) == []


def test_members_odata_bind_all_or_nothing(entra: EntraEmulator) -> None:
    users = [entra.state.seed_user(f"bind{n}@example.com")["id"] for n in range(25)]
    group = entra.state.seed_group("Bound")
    url = f"{entra.graph_url}/groups/{group['id']}"

    def binds(ids: list[str]) -> dict[str, Any]:
        return {"members@odata.bind": [f"{GRAPH}/directoryObjects/{i}" for i in ids]}

    async def body(client: GraphServiceClient) -> None:
        err = await error_of(send_raw(client, "PATCH", url, binds(users[:21])))
        assert (err.response_status_code, err.error.code) == (400, "Request_BadRequest")
        await send_raw(client, "PATCH", url, binds(users[:20]))
        # one already a member: nothing of the request is applied
        err = await error_of(send_raw(client, "PATCH", url, binds([users[20], users[0]])))
        assert err.error.message.startswith("One or more added object references")
        # an unknown object: 404, nothing applied
        err = await error_of(send_raw(client, "PATCH", url, binds([users[21], "nope"])))
        assert err.response_status_code == 404
        sdk_group = Group(additional_data=binds(users[21:23]))
        await client.groups.by_group_id(group["id"]).patch(sdk_group)
    run_graph(entra, body, max_retries=0)
    assert entra.state.members_of(group["id"]) == users[:20] + users[21:23]


def test_create_with_members_and_owners(entra: EntraEmulator) -> None:
    owner = entra.state.seed_user("owner@example.com")["id"]
    member = entra.state.seed_user("member@example.com")["id"]
    extra = {"members@odata.bind": [f"{GRAPH}/users/{member}"],
             "owners@odata.bind": [f"{GRAPH}/users/{owner}"]}

    async def body(client: GraphServiceClient) -> str:
        created = await client.groups.post(security_group("Team", additional_data=extra))
        owners = await client.groups.by_group_id(created.id).owners.get()
        assert [o.id for o in owners.value] == [owner]
        return str(created.id)
    gid = run_graph(entra, body)
    assert entra.state.members_of(gid) == [member]


def test_members_paging_and_casts(entra: EntraEmulator) -> None:
    ids = [entra.state.seed_user(f"m{n:03}@example.com")["id"] for n in range(230)]
    child = entra.state.seed_group("Child")
    group = entra.state.seed_group("Parent", members=[*ids, child["id"]])
    params = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters

    async def body(client: GraphServiceClient) -> None:
        members = client.groups.by_group_id(group["id"]).members
        page = await members.get()
        seen = [m.id for m in page.value]
        while page.odata_next_link:
            page = await members.with_url(page.odata_next_link).get()
            seen += [m.id for m in page.value]
        assert seen == [*ids, child["id"]]
        cfg = RequestConfiguration(query_parameters=params(top=999, select=["id"]))
        assert len((await members.get(cfg)).value) == 231
        only_groups = await members.graph_group.get()
        assert [g.id for g in only_groups.value] == [child["id"]]
        only_users = await members.graph_user.get()
        assert len(only_users.value) == 100
        raw = await send_raw(client, "GET", f"{entra.graph_url}/groups/{group['id']}/members"
                                            "/$ref?$top=1")
        assert raw["value"][0]["@odata.id"].endswith(f"/directoryObjects/{ids[0]}")
    run_graph(entra, body)


def test_group_filters(entra: EntraEmulator) -> None:
    entra.state.seed_group("Alpha Team", mailNickname="alpha")
    entra.state.seed_group("Beta Team", mailNickname="beta")
    from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
    query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters

    async def names(client: GraphServiceClient, flt: str) -> list[str]:
        cfg = RequestConfiguration(query_parameters=query(filter=flt))
        return sorted(g.display_name for g in (await client.groups.get(cfg)).value)

    async def body(client: GraphServiceClient) -> None:
        assert await names(client, "displayName eq 'alpha team'") == ["Alpha Team"]
        assert await names(client, "mailNickname eq 'beta'") == ["Beta Team"]
        assert await names(client, "startswith(displayName,'a') or mailNickname eq 'beta'") \
            == ["Alpha Team", "Beta Team"]
        assert await names(client, "securityEnabled eq true and mailEnabled eq false") == [
            "Alpha Team", "Beta Team"]
    run_graph(entra, body)


def test_owners_ref_add_and_remove(entra: EntraEmulator) -> None:
    owner = entra.state.seed_user("own@example.com")
    group = entra.state.seed_group("Owned")
    ref = ReferenceCreate(odata_id=f"{GRAPH}/users/{owner['id']}")

    async def body(client: GraphServiceClient) -> None:
        owners = client.groups.by_group_id(group["id"]).owners
        await owners.ref.post(ref)
        err = await error_of(owners.ref.post(ref))
        assert "'owners'" in err.error.message
        assert [o.id for o in (await owners.get()).value] == [owner["id"]]
        await owners.by_directory_object_id(owner["id"]).ref.delete()
        assert (await owners.get()).value == []
    run_graph(entra, body)


def test_expand_and_search(entra: EntraEmulator) -> None:
    users = [entra.state.seed_user(f"x{n:02}@example.com")["id"] for n in range(25)]
    group = entra.state.seed_group("Expanded Crew", members=users)
    entra.state.seed_group("Other Crew")
    from msgraph.generated.groups.groups_request_builder import GroupsRequestBuilder
    from msgraph.generated.groups.item.group_item_request_builder import (
        GroupItemRequestBuilder,
    )
    item_query = GroupItemRequestBuilder.GroupItemRequestBuilderGetQueryParameters
    list_query = GroupsRequestBuilder.GroupsRequestBuilderGetQueryParameters

    async def body(client: GraphServiceClient) -> None:
        cfg = RequestConfiguration(query_parameters=item_query(expand=["members($select=id)"]))
        got = await client.groups.by_group_id(group["id"]).get(cfg)
        assert [m.id for m in got.members] == users[:20]  # Graph expands at most 20
        cfg = RequestConfiguration(query_parameters=item_query(expand=["nonsense"]))
        err = await error_of(client.groups.by_group_id(group["id"]).get(cfg))
        assert err.response_status_code == 400
        search = list_query(search='"displayName:crew" AND "displayName:exp"', count=True)
        cfg = RequestConfiguration(query_parameters=search)
        err = await error_of(client.groups.get(cfg))
        assert err.response_status_code == 400  # $search needs ConsistencyLevel: eventual
        cfg.headers.add("ConsistencyLevel", "eventual")
        found = await client.groups.get(cfg)
        assert [g.display_name for g in found.value] == ["Expanded Crew"]
    run_graph(entra, body)
