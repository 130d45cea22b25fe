"""Emulator knobs (write quota, faults, latency, eventual consistency, audit, admin endpoints)
observed through the real msgraph-sdk. ``max_retries=0`` builds the client with a
RetryHandlerOption(max_retries=0) so a single fault is visible; where the SDK's own retries
are the point, they stay on."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from azure.identity.aio import ClientSecretCredential
from msgraph import GraphServiceClient
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.password_profile import PasswordProfile
from msgraph.generated.models.user import User

from tests.emulator.clients import credential_kwargs, graph_client, run_graph, send_raw
from tests.emulator.server import EntraEmulator

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def new_user(n: int | str) -> User:
    return User(account_enabled=True, display_name=f"U{n}", mail_nickname=f"u{n}",
                user_principal_name=f"u{n}@example.com",
                password_profile=PasswordProfile(password="Passw0rd!x"))


def new_group(name: str) -> Group:
    return Group(display_name=name, mail_enabled=False, mail_nickname=name.lower(),
                 security_enabled=True)


async def error_of(awaitable: Any) -> ODataError:
    with pytest.raises(ODataError) as info:
        await awaitable
    return info.value


@pytest.mark.parametrize(("mode", "check"), [
    ("int", lambda v: v is not None and v.isdigit() and 49 <= int(v) <= 50),
    ("fraction", lambda v: v is not None and "." in v and 49 < float(v) <= 50),
    ("absent", lambda v: v is None),
])
def test_write_quota_429_retry_after_forms(entra: EntraEmulator, mode: str, check: Any) -> None:
    entra.set_write_quota(app_capacity=2, app_period_s=100, retry_after_mode=mode)

    async def body(client: GraphServiceClient) -> ODataError:
        await client.users.post(new_user(1))
        await client.users.post(new_user(2))
        err = await error_of(client.users.post(new_user(3)))
        await client.users.get()  # reads are not writes
        return err
    err = run_graph(entra, body, max_retries=0)
    assert (err.response_status_code, err.error.code) == (429, "TooManyRequests")
    assert check(err.response_headers.get("retry-after"))
    assert len(entra.state.users) == 2
    assert len(entra.audit.writes()) == 2 and entra.audit.count(status=429) == 1


def test_sdk_waits_integer_retry_after_and_succeeds(entra: EntraEmulator) -> None:
    entra.set_write_quota(app_capacity=1, app_period_s=1)

    def payload(n: int) -> dict[str, Any]:
        return {"accountEnabled": True, "displayName": f"U{n}", "mailNickname": f"u{n}",
                "userPrincipalName": f"u{n}@example.com",
                "passwordProfile": {"password": "Passw0rd!x"}}

    async def body(client: GraphServiceClient) -> None:
        # raw JSON (no ~1 s first model parse between the writes, which would refill the bucket)
        await send_raw(client, "POST", f"{entra.graph_url}/users", payload(1))
        await send_raw(client, "POST", f"{entra.graph_url}/users", payload(2))
    started = time.monotonic()
    run_graph(entra, body)
    assert time.monotonic() - started >= 0.9
    assert [e.status for e in entra.audit.filter(kind="write")] == [201, 429, 201]


def test_tenant_quota_is_shared_by_apps(entra: EntraEmulator) -> None:
    other = entra.register_app(display_name="other")
    entra.set_write_quota(tenant_capacity=1, tenant_period_s=100)

    async def main() -> ODataError:
        async with ClientSecretCredential(entra.tenant_id, other.client_id, other.secrets[0],
                                          **credential_kwargs(entra)) as cred:
            await graph_client(entra, cred, max_retries=0).users.post(new_user(1))
        return await error_of(_default_post(entra))
    err = asyncio.run(main())
    assert err.response_status_code == 429
    assert {e.app_id for e in entra.audit.filter(method="POST")} == {other.client_id,
                                                                      entra.client_id}


async def _default_post(entra: EntraEmulator) -> Any:
    from tests.emulator.clients import aio_credential
    async with aio_credential(entra) as cred:
        return await graph_client(entra, cred, max_retries=0).users.post(new_user(2))


@pytest.mark.parametrize(("status", "code", "retry_after"), [
    (429, "TooManyRequests", "2.128"), (503, "serviceNotAvailable", "3"),
    (504, "UnknownError", None),
])
def test_scripted_status_faults(entra: EntraEmulator, status: int, code: str,
                                retry_after: str | None) -> None:
    entra.add_fault("status", status=status, method="GET", path_re="^/users$",
                    retry_after=retry_after)

    async def body(client: GraphServiceClient) -> ODataError:
        err = await error_of(client.users.get())
        await client.users.get()  # the script held one response only
        return err
    err = run_graph(entra, body, max_retries=0)
    assert (err.response_status_code, err.error.code) == (status, code)
    assert err.response_headers.get("retry-after") == retry_after
    assert [e.fault for e in entra.audit.filter(path_re="^/users$")] == ["status", ""]


def test_rate_fault_and_sdk_retry(entra: EntraEmulator) -> None:
    entra.add_fault("status", status=503, rate=1.0, path_re="^/groups$", retry_after="1")

    async def body(client: GraphServiceClient) -> ODataError:
        return await error_of(client.groups.get())
    err = run_graph(entra, body, max_retries=1)
    assert err.response_status_code == 503
    assert entra.audit.count(path_re="^/groups$", status=503) == 2  # first try + one retry
    entra.clear_faults()
    assert run_graph(entra, lambda c: c.groups.get()).value == []


def test_connection_reset_and_hang(entra: EntraEmulator) -> None:
    entra.add_fault("reset", path_re="^/users$")

    async def body(client: GraphServiceClient) -> Any:
        return await client.users.get()
    with pytest.raises(httpx.TransportError):
        run_graph(entra, body, max_retries=0)
    entra.add_fault("hang", path_re="^/users$", hang_seconds=10)
    started = time.monotonic()
    with pytest.raises(httpx.TimeoutException):
        run_graph(entra, body, max_retries=0, timeout=0.5)
    assert time.monotonic() - started < 5
    entra.clear_faults()  # lets the hanging server thread go


def test_apply_then_fail_replays(entra: EntraEmulator) -> None:
    entra.add_fault("apply_then_fail", status=503, method="POST", path_re="^/users$",
                    retry_after="1")
    entra.add_fault("apply_then_fail", status=504, method="POST", path_re="^/groups$",
                    retry_after="1")

    async def body(client: GraphServiceClient) -> tuple[ODataError, Group]:
        err = await error_of(client.users.post(new_user("replayed")))
        group = await client.groups.post(new_group("Replayed"))
        return err, group
    err, group = run_graph(entra, body, max_retries=1)
    # the write went through, the SDK replayed it: a user meets its own UPN...
    assert err.response_status_code == 400 and err.error.details[0].code == "ObjectConflict"
    assert len(entra.state.users) == 1
    # ...and a group is simply created twice
    assert [g["displayName"] for g in entra.state.groups.values()] == ["Replayed", "Replayed"]
    assert group.id in entra.state.groups


def test_eventual_consistency_and_latency(entra: EntraEmulator) -> None:
    entra.set_replication_delay(1000, hide_from_lists=True)
    users = f"{entra.graph_url}/users"
    payload = {"accountEnabled": True, "displayName": "F", "mailNickname": "f",
               "userPrincipalName": "fresh@example.com",
               "passwordProfile": {"password": "Passw0rd!x"}}

    async def body(client: GraphServiceClient) -> None:
        # raw JSON through the adapter: no model parsing between the create and the reads
        created = await send_raw(client, "POST", users, payload)
        err = await error_of(send_raw(client, "GET", f"{users}/{created['id']}"))
        assert (err.response_status_code, err.error.code) == (404, "Request_ResourceNotFound")
        assert (await send_raw(client, "GET", users))["value"] == []
        for _ in range(50):
            await asyncio.sleep(0.1)
            if (await send_raw(client, "GET", users))["value"]:
                break
        assert (await client.users.by_user_id(created["id"]).get()).id == created["id"]
        entra.set_latency(150)
        started = time.monotonic()
        await client.users.get()
        assert time.monotonic() - started >= 0.15
    run_graph(entra, body, max_retries=0)


def test_audit_helpers(entra: EntraEmulator) -> None:
    async def body(client: GraphServiceClient) -> None:
        user = await client.users.post(new_user(1))
        await client.users.by_user_id(user.id).get()
        await client.users.by_user_id(user.id).patch(User(job_title="x"))
    run_graph(entra, body)
    assert entra.audit.count(method="POST", path_re="^/users$", status=201) == 1
    assert [e.method for e in entra.audit.writes()] == ["POST", "PATCH"]
    assert len(entra.audit.reads()) == 1
    assert all(e.app_id == entra.client_id for e in entra.audit.filter(kind="write"))
    assert entra.audit.count(kind="identity") >= 1


def test_admin_http_endpoints(entra: EntraEmulator) -> None:
    admin = entra.admin_url
    with httpx.Client() as http:
        assert http.get(admin).json()["tenant_id"] == entra.tenant_id
        knobs = http.post(f"{admin}/knobs", json={"write_quota": {"scale": 10},
                                                  "latency_ms": 0}).json()
        assert knobs["write_quota"]["scale"] == 10
        seeded = http.post(f"{admin}/seed/users",
                           json={"userPrincipalName": "seed@example.com"}).json()
        rule = http.post(f"{admin}/faults", json={"kind": "status", "status": 503,
                                                  "path_re": "^/users/", "count": 1})
        assert rule.status_code == 201

        async def body(client: GraphServiceClient) -> ODataError:
            return await error_of(client.users.by_user_id(seeded["id"]).get())
        assert run_graph(entra, body, max_retries=0).response_status_code == 503
        audit = http.get(f"{admin}/audit").json()
        assert [a["status"] for a in audit if a["kind"] == "read"] == [503]
        assert http.get(f"{admin}/state").json()["users"][0]["id"] == seeded["id"]
        http.post(f"{admin}/reset")
        assert http.get(f"{admin}/state").json()["users"] == []
        assert http.post(f"{admin}/knobs", json={"nope": 1}).status_code == 400
