"""Real SDK clients pointed at the emulator (msgraph-sdk + azure-identity, nothing patched).

Facts this relies on (msgraph-sdk 1.65, msgraph-core 1.5.2, kiota 1.16, azure-identity 1.27):
- ``kiota_authentication_azure``'s AzureIdentityAuthenticationProvider with no allowed_hosts
  attaches tokens for any host, and accepts plain http only for localhost/127.0.0.1/::1.
  ``msgraph_core.authentication.AzureIdentityAuthenticationProvider(cred)`` cannot be built at
  all with its defaults (ValueError: "Allowed host value cannot contain 'https://' or 'http://'
  prefix"), and with allowed_hosts=["graph.microsoft.com"] it silently sends no token to the
  emulator (Graph answers 401 "Access token is empty.").
- azure-identity needs ``authority=<https URL>``, ``connection_verify=<CA file>`` and
  ``disable_instance_discovery=True``.
- The RetryHandler retries 429/503/504 (POST and PATCH too) up to 3 times, waiting an integer
  Retry-After, or ``0.5 * 2**(n-1) + random(0..1) + delay (3 s)`` when the header is absent or
  fractional. ``max_retries`` here builds the client with a RetryHandlerOption, so tests can see
  single faults (max_retries=0) or fast replays (retry_delay=0).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from azure.identity import ClientSecretCredential
from azure.identity.aio import ClientSecretCredential as AioClientSecretCredential
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.graph_request_adapter import options as graph_default_options
from msgraph_core import GraphClientFactory

from .server import EntraEmulator

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
T = TypeVar("T")


def credential_kwargs(entra: EntraEmulator) -> dict[str, Any]:
    return {"authority": entra.authority_url, "connection_verify": entra.ca_bundle,
            "disable_instance_discovery": True}


def aio_credential(entra: EntraEmulator, secret: str | None = None
                   ) -> AioClientSecretCredential:
    return AioClientSecretCredential(entra.tenant_id, entra.client_id,
                                     secret or entra.client_secret, **credential_kwargs(entra))


def sync_credential(entra: EntraEmulator, secret: str | None = None) -> ClientSecretCredential:
    return ClientSecretCredential(entra.tenant_id, entra.client_id,
                                  secret or entra.client_secret, **credential_kwargs(entra))


def graph_client(
    entra: EntraEmulator, cred: Any, *, max_retries: int | None = None,
    retry_delay: float = RetryHandlerOption.DEFAULT_DELAY, timeout: float | None = None,
    scopes: list[str] | None = None, allowed_hosts: list[str] | None = None,
) -> GraphServiceClient:
    """A GraphServiceClient for the emulator; the default middleware, optionally with our own
    RetryHandlerOption and client timeout."""
    auth = AzureIdentityAuthenticationProvider(cred, scopes=scopes or [GRAPH_SCOPE],
                                               allowed_hosts=allowed_hosts or [])
    http = None
    if max_retries is not None or timeout is not None:
        options = dict(graph_default_options)
        if max_retries is not None:
            options[RetryHandlerOption.get_key()] = RetryHandlerOption(
                delay=retry_delay, max_retries=max_retries)
        http = GraphClientFactory.create_with_default_middleware(
            client=httpx.AsyncClient(timeout=timeout or 100, http2=True), options=options)
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = entra.graph_url
    return GraphServiceClient(request_adapter=adapter)


def run_graph(entra: EntraEmulator, body: Callable[[GraphServiceClient], Awaitable[T]],
              **client_kwargs: Any) -> T:
    """asyncio.run ``body(client)`` with a fresh aio credential and client, closed after (the
    SDK's httpx client cannot outlive its event loop)."""
    async def main() -> T:
        async with aio_credential(entra) as cred:
            return await body(graph_client(entra, cred, **client_kwargs))
    return asyncio.run(main())


async def send_raw(client: GraphServiceClient, method: str, url: str, body: Any = None,
                   headers: dict[str, str] | None = None) -> Any:
    """Raw JSON through the SDK's request adapter (auth, retry, error mapping kept)."""
    info = RequestInformation()
    info.http_method = Method[method.upper()]
    info.url = url
    for name, value in (headers or {}).items():
        info.headers.try_add(name, value)
    if body is not None:
        info.headers.try_add("Content-Type", "application/json")
        info.content = json.dumps(body).encode()
    data: Any = await client.request_adapter.send_primitive_async(info, "bytes",
                                                                  {"XXX": ODataError})
    return json.loads(data) if data else None
