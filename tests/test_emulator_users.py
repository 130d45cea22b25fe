"""Emulator /users through the real msgraph-sdk: CRUD, validation, errors, queries, paging."""

from __future__ import annotations

from typing import Any

import pytest
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User
from msgraph.generated.users.users_request_builder import UsersRequestBuilder

from tests.emulator.clients import run_graph, send_raw
from tests.emulator.server import EntraEmulator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
Query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters


def new_user(upn: str, password: str = "Passw0rd!x", **extra: Any) -> User:
    local = upn.split("@")[0]
    return User(account_enabled=True, display_name=local, mail_nickname=local,
                user_principal_name=upn, password_profile=PasswordProfile(password=password),
                **extra)


def config(eventual: bool = False, **params: Any) -> RequestConfiguration[Query]:
    cfg = RequestConfiguration(query_parameters=Query(**params))
    if eventual:
        cfg.headers.add("ConsistencyLevel", "eventual")
    return cfg


async def error_of(awaitable: Any) -> ODataError:
    with pytest.raises(ODataError) as info:
        await awaitable
    return info.value


def test_create_get_update_delete(entra: EntraEmulator) -> None:
    async def body(client: GraphServiceClient) -> None:
        created = await client.users.post(new_user("alice@example.com", given_name="Alice"))
        assert created.id and created.user_principal_name == "alice@example.com"
        by_upn = await client.users.by_user_id("ALICE@EXAMPLE.COM").get()
        assert by_upn.id == created.id and by_upn.given_name == "Alice"
        assert by_upn.account_enabled is None  # not among the 11 default properties
        await client.users.by_user_id(created.id).patch(User(job_title="Engineer",
                                                             account_enabled=False))
        got = await client.users.by_user_id(created.id).get(
            config(select=["jobTitle", "accountEnabled"]))
        assert (got.job_title, got.account_enabled) == ("Engineer", False)
        await client.users.by_user_id(created.id).delete()
        err = await error_of(client.users.by_user_id(created.id).get())
        assert err.response_status_code == 404
        assert err.error.code == "Request_ResourceNotFound"
        assert err.error.message == (f"Resource '{created.id}' does not exist or one of its "
                                     "queried reference-property objects are not present.")
        assert err.error.inner_error.request_id
    run_graph(entra, body)
    assert not entra.state.users and len(entra.state.deleted) == 1


def test_duplicate_upn_is_400_object_conflict(entra: EntraEmulator) -> None:
    async def body(client: GraphServiceClient) -> ODataError:
        await client.users.post(new_user("bob@example.com"))
        return await error_of(client.users.post(new_user("BOB@example.com")))
    err = run_graph(entra, body)
    assert err.response_status_code == 400
    assert err.error.code == "Request_BadRequest"
    assert err.error.details[0].code == "ObjectConflict"
    assert err.error.details[0].target == "userPrincipalName"


def test_soft_deleted_user_keeps_its_upn_until_restored(entra: EntraEmulator) -> None:
    user = entra.state.seed_user("carol@example.com")
    async def body(client: GraphServiceClient) -> None:
        await client.users.by_user_id(user["id"]).delete()
        err = await error_of(client.users.post(new_user("carol@example.com")))
        assert err.error.details[0].code == "ObjectConflict"
        restored = await client.directory.deleted_items.by_directory_object_id(
            user["id"]).restore.post()
        assert restored.id == user["id"]
    run_graph(entra, body)
    assert user["id"] in entra.state.users


@pytest.mark.parametrize(("change", "status", "code", "detail", "message_part"), [
    ({"userPrincipalName": "dan@nowhere.org"}, 400, "Request_BadRequest", "InvalidValue",
     "verified domain"),
    ({"userPrincipalName": "dan@unverified.example.net"}, 400, "Request_BadRequest",
     "InvalidValue", "verified domain"),
    ({"userPrincipalName": "da n@example.com"}, 400, "Request_BadRequest", "InvalidValue",
     "userPrincipalName is invalid"),
    ({"passwordProfile": {"password": "alllowercase1"}}, 400, "Request_BadRequest", None,
     "password complexity"),
    ({"passwordProfile": {"password": "Sh0rt!"}}, 400, "Request_BadRequest", None,
     "password complexity"),
    ({"mailNickname": None}, 400, "Request_BadRequest", "PropertyRequired", "mailNickname"),
    ({"accountEnabled": None}, 400, "Request_BadRequest", "PropertyRequired", "accountEnabled"),
    ({"passwordProfile": None}, 400, "Request_BadRequest", "PropertyRequired",
     "passwordProfile"),
    ({"favouriteColour": "blue"}, 400, "Request_BadRequest", None, "favouriteColour"),
    ({"extension_abc_costCentre": "1"}, 400, "Request_BadRequest", None, "extension"),
    ({"createdDateTime": "2020-01-01T00:00:00Z"}, 400, "Request_BadRequest", "InvalidValue",
     "read-only"),
    ({"accountEnabled": "yes"}, 400, "Request_BadRequest", "InvalidValue", "accountEnabled"),
])
def test_create_validation(entra: EntraEmulator, change: dict[str, Any], status: int, code: str,
                           detail: str | None, message_part: str) -> None:
    payload = {"accountEnabled": True, "displayName": "Dan", "mailNickname": "dan",
               "userPrincipalName": "dan@example.com",
               "passwordProfile": {"password": "Passw0rd!x"}}
    payload.update(change)
    payload = {k: v for k, v in payload.items() if v is not None}

    async def body(client: GraphServiceClient) -> ODataError:
        return await error_of(send_raw(client, "POST", f"{entra.graph_url}/users", payload))
    err = run_graph(entra, body, max_retries=0)
    assert err.response_status_code == status
    assert err.error.code == code
    assert message_part.lower() in err.error.message.lower()
    if detail:
        assert err.error.details[0].code == detail
    assert not entra.state.users


def test_initial_domain_and_password_update_needs_permission(entra: EntraEmulator) -> None:
    async def body(client: GraphServiceClient) -> ODataError:
        created = await client.users.post(new_user(f"erin@{entra.default_domain}"))
        patch = User(password_profile=PasswordProfile(password="N3w-Passw0rd"))
        return await error_of(client.users.by_user_id(created.id).patch(patch))
    err = run_graph(entra, body)
    assert err.response_status_code == 403
    assert err.error.code == "Authorization_RequestDenied"
    assert err.error.message == "Insufficient privileges to complete the operation."


def test_filters(entra: EntraEmulator) -> None:
    frank = entra.state.seed_user("frank@example.com", displayName="Frank O'Hara",
                                  mail="Frank.Ohara@example.com", mailNickname="frank",
                                  onPremisesImmutableId="imm-1",
                                  otherMails=["frank@personal.example"])
    entra.state.seed_user("fiona@example.com", displayName="Fiona")
    entra.state.seed_user("george@example.com", displayName="George")

    async def ids(client: GraphServiceClient, flt: str) -> list[str]:
        page = await client.users.get(config(filter=flt))
        return sorted(u.user_principal_name for u in page.value)

    async def body(client: GraphServiceClient) -> None:
        assert await ids(client, "userPrincipalName eq 'FRANK@example.com'") == [
            "frank@example.com"]
        assert await ids(client, "mail eq 'frank.ohara@EXAMPLE.com'") == ["frank@example.com"]
        assert await ids(client, "displayName eq 'Frank O''Hara'") == ["frank@example.com"]
        assert await ids(client, f"id eq '{frank['id']}'") == ["frank@example.com"]
        assert await ids(client, "mailNickname eq 'frank'") == ["frank@example.com"]
        assert await ids(client, "onPremisesImmutableId eq 'imm-1'") == ["frank@example.com"]
        assert await ids(client, "otherMails/any(x:x eq 'frank@personal.example')") == [
            "frank@example.com"]
        assert await ids(client, "startswith(displayName,'f')") == [
            "fiona@example.com", "frank@example.com"]
        assert await ids(client, "startswith(displayName,'F') and mailNickname eq 'frank'") \
            == ["frank@example.com"]
        assert await ids(client, "displayName eq 'George' or displayName eq 'Fiona'") == [
            "fiona@example.com", "george@example.com"]
        err = await error_of(client.users.get(config(filter="aboutMe eq 'x'")))
        assert (err.response_status_code, err.error.code) == (400, "Request_UnsupportedQuery")
        err = await error_of(client.users.get(config(filter="endswith(mail,'.com')")))
        assert err.error.code == "Request_UnsupportedQuery"
        assert "ConsistencyLevel" in err.error.message
        page = await client.users.get(config(eventual=True, count=True,
                                             filter="endswith(mail,'example.com')"))
        assert [u.user_principal_name for u in page.value] == ["frank@example.com"]
        assert page.odata_count == 1
    run_graph(entra, body)


def test_select_top_count_and_paging(entra: EntraEmulator) -> None:
    for n in range(250):
        entra.state.seed_user(f"user{n:03}@example.com")

    async def body(client: GraphServiceClient) -> None:
        first = await client.users.get()
        assert len(first.value) == 100 and first.odata_next_link.startswith(entra.graph_url)
        raw = await send_raw(client, "GET", f"{entra.graph_url}/users?$top=1")
        assert set(raw["value"][0]) == {
            "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
            "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}
        assert raw["@odata.context"].endswith("$metadata#users")
        seen = [u.id for u in first.value]
        page = first
        while page.odata_next_link:
            page = await client.users.with_url(page.odata_next_link).get()
            seen += [u.id for u in page.value]
        assert len(seen) == len(set(seen)) == 250
        page = await client.users.get(config(top=999, select=["id", "userPrincipalName"]))
        assert len(page.value) == 250 and page.odata_next_link is None
        raw = await send_raw(client, "GET", f"{entra.graph_url}/users?$top=2&$select=id")
        assert set(raw["value"][0]) == {"id"}
        err = await error_of(client.users.get(config(top=1000)))
        assert (err.response_status_code, err.error.code) == (400, "Request_BadRequest")
        err = await error_of(client.users.get(config(count=True)))
        assert err.response_status_code == 400
        counted = await client.users.get(config(eventual=True, count=True, top=5))
        assert counted.odata_count == 250 and len(counted.value) == 5
        cfg = RequestConfiguration()
        cfg.headers.add("ConsistencyLevel", "eventual")
        assert await client.users.count.get(cfg) == 250
        err = await error_of(client.users.get(config(select=["noSuchProperty"])))
        assert err.response_status_code == 400
    run_graph(entra, body)


def test_member_of(entra: EntraEmulator) -> None:
    user = entra.state.seed_user("hank@example.com")
    group = entra.state.seed_group("Hank's team", members=[user["id"]])

    async def body(client: GraphServiceClient) -> None:
        page = await client.users.by_user_id(user["id"]).member_of.get()
        assert [g.id for g in page.value] == [group["id"]]
        assert page.value[0].odata_type == "#microsoft.graph.group"
    run_graph(entra, body)


def test_orderby_in_and_lambda_on_objects(entra: EntraEmulator) -> None:
    for name in ("carl", "anna", "bert"):
        entra.state.seed_user(f"{name}@example.com", displayName=name.title())

    async def body(client: GraphServiceClient) -> None:
        page = await client.users.get(config(orderby=["displayName desc"], top=2))
        assert [u.display_name for u in page.value] == ["Carl", "Bert"]
        page = await client.users.with_url(page.odata_next_link).get()
        assert [u.display_name for u in page.value] == ["Anna"]
        page = await client.users.get(config(
            filter="userPrincipalName in ('anna@example.com', 'BERT@example.com')"))
        assert sorted(u.display_name for u in page.value) == ["Anna", "Bert"]
        flt = ("identities/any(c:c/issuerAssignedId eq 'carl@example.com' and "
               f"c/issuer eq '{entra.default_domain}')")
        page = await client.users.get(config(filter=flt))
        assert [u.display_name for u in page.value] == ["Carl"]
        err = await error_of(client.users.get(config(filter="displayName eq 'x'",
                                                     orderby=["displayName"])))
        assert err.error.code == "Request_UnsupportedQuery"
    run_graph(entra, body)
