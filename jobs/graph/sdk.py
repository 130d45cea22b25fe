"""Building the SDK pieces and sending one raw request through them.

- Credential: azure-identity's aio ``ClientSecretCredential`` / ``CertificateCredential``
  (async, like the SDK), ``authority`` = SCIM2ENTRA_AUTHORITY_URL (must be https),
  ``connection_verify`` = the CA bundle, ``disable_instance_discovery`` so no
  login.microsoftonline.com metadata call is made for a custom authority.
- Adapter: msgraph's ``GraphRequestAdapter`` over an httpx client carrying the SDK's default
  middleware, except that the ``RetryHandler`` never retries (``RetryHandlerOption(
  max_retries=0, should_retry=False)`` as the handler's default and on every request): it
  would replay POST /groups after a 503/504 whose write went through (graph-facts.md).
- Raw send: ``RequestInformation`` + ``adapter.send_primitive_async(info, "bytes",
  error_map)``: auth and ODataError mapping kept, no model parsing of the answer.
"""

from __future__ import annotations

import json
import ssl
from typing import Any

import httpx
from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from kiota_abstractions.api_client_builder import register_default_deserializer
from kiota_abstractions.api_error import APIError
from kiota_abstractions.method import Method
from kiota_abstractions.request_information import RequestInformation
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.middleware.options import RetryHandlerOption, UrlReplaceHandlerOption
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from kiota_serialization_text.text_parse_node_factory import TextParseNodeFactory
from msgraph_core import APIVersion, GraphClientFactory
from msgraph_core.middleware.options import GraphTelemetryHandlerOption

from jobs.graph.errors import Failure
from jobs.graph.settings import GRAPH_SCOPE, GraphSettings

# RetryHandler.send() loops only while RetryHandlerOption.should_retry is true
# (kiota_http/middleware/retry_handler.py); max_retries=0 as a second fence.
NO_RETRY = RetryHandlerOption(delay=0, max_retries=0, should_retry=False)
# "XXX": every 4xx/5xx answer is parsed as ODataError (https://learn.microsoft.com/en-us/graph/errors)
_ERROR_MAP: dict[str, Any] | None = None


def error_map() -> dict[str, Any]:
    global _ERROR_MAP
    if _ERROR_MAP is None:
        from msgraph.generated.models.o_data_errors.o_data_error import ODataError

        _ERROR_MAP = {"XXX": ODataError}
    return _ERROR_MAP


def make_credential(s: GraphSettings) -> AsyncTokenCredential:
    from azure.identity.aio import CertificateCredential, ClientSecretCredential

    if not (s.tenant_id and s.client_id):
        raise ValueError("SCIM2ENTRA_TENANT_ID and SCIM2ENTRA_CLIENT_ID are required")
    kwargs: dict[str, Any] = {"authority": s.authority_url, "disable_instance_discovery": True}
    if s.ca_bundle:
        kwargs["connection_verify"] = s.ca_bundle
    if s.client_certificate:
        return CertificateCredential(s.tenant_id, s.client_id,
                                     certificate_path=s.client_certificate, **kwargs)
    if not s.client_secret:
        raise ValueError("SCIM2ENTRA_CLIENT_SECRET or SCIM2ENTRA_CLIENT_CERTIFICATE is required")
    return ClientSecretCredential(s.tenant_id, s.client_id, s.client_secret, **kwargs)


def make_http_client(s: GraphSettings) -> tuple[httpx.AsyncClient, httpx.AsyncHTTPTransport]:
    """httpx client like KiotaClientFactory.get_default_client(), with our timeouts, the CA
    bundle and the SDK middleware minus retries. The inner transport is returned too:
    msgraph-core 1.5.2's AsyncGraphTransport has no aclose(), so AsyncClient.aclose() never
    reaches the connection pool; close() closes the transport itself."""
    from msgraph._version import VERSION as MSGRAPH_VERSION

    verify: ssl.SSLContext | bool = True
    if s.ca_bundle:
        verify = ssl.create_default_context(cafile=s.ca_bundle)
    transport = httpx.AsyncHTTPTransport(http2=True, verify=verify)
    timeout = httpx.Timeout(s.timeout, connect=min(s.timeout, 10.0))
    client = httpx.AsyncClient(timeout=timeout, transport=transport)
    options = {
        RetryHandlerOption.get_key(): NO_RETRY,
        # what msgraph.graph_request_adapter passes (its module-level `options`)
        UrlReplaceHandlerOption.get_key(): UrlReplaceHandlerOption(
            enabled=True, replacement_pairs={"/users/me-token-to-replace": "/me"}),
        GraphTelemetryHandlerOption.get_key(): GraphTelemetryHandlerOption(
            api_version=APIVersion.v1, sdk_version=MSGRAPH_VERSION),
    }
    client = GraphClientFactory.create_with_default_middleware(client=client, options=options)
    return client, transport


def make_adapter(s: GraphSettings, credential: AsyncTokenCredential,
                 http: httpx.AsyncClient) -> Any:
    from msgraph import GraphRequestAdapter

    # GraphServiceClient.__init__ registers these (base_graph_service_client.py); we build
    # no service client, so error bodies would find no parse node without this.
    register_default_deserializer(JsonParseNodeFactory)
    register_default_deserializer(TextParseNodeFactory)
    # Explicit scope: one derived from an emulator's host would be wrong (graph-facts.md).
    auth = AzureIdentityAuthenticationProvider(
        credential, None, scopes=[GRAPH_SCOPE], allowed_hosts=[s.graph_host])
    adapter = GraphRequestAdapter(auth, client=http)
    adapter.base_url = s.graph_url
    return adapter


def request_info(method: str, url: str, body: bytes | None,
                 headers: dict[str, str] | None = None) -> RequestInformation:
    info = RequestInformation(Method(method))
    info.url = url
    info.headers.try_add("Accept", "application/json")
    for key, value in (headers or {}).items():
        info.headers.try_add(key, value)
    if body is not None:
        # not set_stream_content(): that labels the body application/octet-stream
        info.headers.try_add("Content-Type", "application/json")
        info.content = body
    info.add_request_options([NO_RETRY])
    return info


async def send(adapter: Any, method: str, url: str, body: bytes | None,
               headers: dict[str, str] | None = None) -> bytes | None:
    """One attempt; raw bytes of a 2xx answer (None when empty). Errors propagate as the SDK
    raises them: APIError/ODataError, httpx errors, azure-core errors."""
    info = request_info(method, url, body, headers)
    result: bytes | None = await adapter.send_primitive_async(info, "bytes", error_map())
    return result


def failure_from(exc: BaseException, method: str, path: str) -> Failure | None:
    """The Failure behind an exception from ``send`` (None: not a Graph failure)."""
    if isinstance(exc, APIError):
        return _api_failure(exc, method, path)
    if isinstance(exc, ClientAuthenticationError):
        return _token_failure(exc, method, path)
    if isinstance(exc, ServiceRequestError):  # token endpoint unreachable: nothing sent
        return Failure("unsent", message=f"token endpoint: {exc}", method=method, path=path)
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)):
        return Failure("unsent", message=f"{type(exc).__name__}: {exc}", method=method,
                       path=path)
    if isinstance(exc, (httpx.TransportError, TimeoutError)):
        return Failure("sent", message=f"{type(exc).__name__}: {exc}".rstrip(": "),
                       method=method, path=path)
    return None


def _api_failure(exc: APIError, method: str, path: str) -> Failure:
    headers = exc.response_headers or {}
    main = getattr(exc, "error", None)
    details = tuple(d.code for d in (getattr(main, "details", None) or []) if d.code)
    inner = getattr(main, "inner_error", None)
    request_id = headers.get("request-id") or getattr(inner, "request_id", None)
    message = getattr(main, "message", None) or str(exc.message or "")
    return Failure("http", status=exc.response_status_code, code=getattr(main, "code", None),
                   detail_codes=details, message=message, method=method, path=path,
                   request_id=request_id, retry_after=parse_retry_after(
                       headers.get("Retry-After")))


def _token_failure(exc: ClientAuthenticationError, method: str, path: str) -> Failure:
    """azure-identity raises ClientAuthenticationError with the token endpoint's answer
    (v2-oauth2-client-creds-grant-flow, "Error response": error, error_description)."""
    status = getattr(exc.response, "status_code", None)
    code = None
    try:
        body = json.loads(exc.response.text()) if exc.response is not None else {}
        code = body.get("error")
    except (ValueError, AttributeError, TypeError):
        pass
    return Failure("token", status=status, code=code, message=str(exc.message or exc),
                   method=method, path=path)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After seconds: an integer, a fraction such as ``2.128`` (Graph sends both,
    https://learn.microsoft.com/en-us/graph/throttling) or an HTTP date; None when absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        from datetime import datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(when.tzinfo)).total_seconds())
    except (TypeError, ValueError):
        return None


def warm_models() -> None:
    """Import and parse one User and one Group model (and the error model) so that a forked
    RQ work horse does not pay the SDK's lazy imports again (graph-facts.md, "Cost")."""
    import azure.identity.aio  # noqa: F401  (credential classes, imported lazily otherwise)
    from msgraph import GraphRequestAdapter  # noqa: F401
    from msgraph.generated.models.group import Group
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError
    from msgraph.generated.models.user import User

    factory = JsonParseNodeFactory()
    samples: list[tuple[Any, dict[str, Any]]] = [
        (User, {"id": "0", "displayName": "warm", "userPrincipalName": "w@example.com",
                "passwordProfile": {"password": "x"}, "identities": [{"signInType": "x"}]}),
        (Group, {"id": "0", "displayName": "warm", "groupTypes": [], "mailEnabled": False}),
        (ODataError, {"error": {"code": "x", "message": "x", "details": [{"code": "y"}],
                                "innerError": {"request-id": "z"}}}),
    ]
    for model, data in samples:
        node = factory.get_root_parse_node("application/json", json.dumps(data).encode())
        node.get_object_value(model)
    error_map()
