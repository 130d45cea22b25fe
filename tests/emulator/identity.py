"""The HTTPS identity server: OIDC discovery, JWKS and the v2.0 token endpoint.

Client credentials: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
Certificate credentials: https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials
Error codes: https://learn.microsoft.com/en-us/entra/identity-platform/reference-error-codes
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from . import authcode
from .apps import App
from .audit import AuditEntry
from .core import Core, fault_response, json_response
from .errors import aadsts
from .httpserver import Request, Response
from .tokens import GRAPH_APP_ID, GRAPH_AUDIENCES, GRAPH_RESOURCE

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}


def openid_configuration(core: Core) -> dict[str, Any]:
    base = f"{core.authority_base}/{core.tenant_id}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": core.tokens.issuer_v2,
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{core.graph_base}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True, "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
            "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "tenant_region_scope": "EU", "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net", "msgraph_host": "graph.microsoft.com",
    }


class IdentityApp:
    """Request -> Response for the authority (login.microsoftonline.com) side."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def __call__(self, req: Request) -> Response:
        started = time.time()
        fault = self.core.knobs.faults.pick("identity", req.method, req.path,
                                            ("status", "reset", "hang"))
        release = self.core.knobs.faults.release
        resp = fault_response(fault, release) if fault else self.route(req)
        self.core.audit.record(AuditEntry(
            started, req.method, req.path, req.query, resp.status, "identity",
            _client_id(req), fault=fault.kind if fault else "",
            duration_ms=(time.time() - started) * 1000))
        return resp

    def route(self, req: Request) -> Response:
        match = re.fullmatch(r"/([^/]+)(/.*)", req.path)
        if not match:
            return json_response(404, {"error": "not_found"})
        tenant, rest = match.group(1), match.group(2).lower()
        if not self.core.tenant_matches(tenant) and tenant.lower() not in ("common",
                                                                          "organizations"):
            status, body = aadsts("invalid_tenant", 90002, f"Tenant '{tenant}' not found.")
            return json_response(status, body)
        if rest in ("/v2.0/.well-known/openid-configuration", "/.well-known/openid-configuration"):
            return json_response(200, openid_configuration(self.core))
        if rest in ("/discovery/v2.0/keys", "/discovery/keys"):
            return json_response(200, self.core.tokens.jwks())
        if rest == "/oauth2/v2.0/token" and req.method == "POST":
            return self.token(req)
        if rest == "/oauth2/v2.0/authorize":
            return authcode.authorize(self.core, req)
        if rest == "/oauth2/v2.0/logout":
            return authcode.logout(req)
        return json_response(404, {"error": "not_found"})

    def token(self, req: Request) -> Response:
        form = dict(parse_qsl(req.body.decode(), keep_blank_values=True))
        basic = _basic_auth(req)
        if basic:
            form.setdefault("client_id", basic[0])
            form.setdefault("client_secret", basic[1])
        app = self.core.apps.apps.get(form.get("client_id", ""))
        if app is None:
            return _error(400, "unauthorized_client", 700016, (
                f"Application with identifier '{form.get('client_id')}' was not found in the "
                f"directory '{self.core.tenant_id}'."))
        failure = self.authenticate(app, form)
        if failure is not None:
            return failure
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self.client_credentials(app, form)
        if grant in ("authorization_code", "refresh_token"):
            return authcode.redeem(self.core, app, form)
        return _error(400, "unsupported_grant_type", 70003,
                      f"The app requested an unsupported grant type '{grant}'.")

    def authenticate(self, app: App, form: dict[str, str]) -> Response | None:
        assertion = form.get("client_assertion")
        if assertion:
            if form.get("client_assertion_type") != JWT_BEARER:
                return _error(400, "invalid_request", 50027, "Invalid client_assertion_type.")
            problem = self.core.tokens.verify_assertion(assertion, app)
            if problem:
                number, _, text = problem.partition(": ")
                return _error(401, "invalid_client", int(number[6:]), text)
            form["_cert"] = "1"
            return None
        secret = form.get("client_secret")
        if secret is None:
            return _error(401, "invalid_client", 7000218, (
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'."))
        if secret not in app.secrets:
            return _error(401, "invalid_client", 7000215, (
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added to "
                f"app '{app.client_id}'."))
        return None

    def client_credentials(self, app: App, form: dict[str, str]) -> Response:
        scope = form.get("scope", "").strip()
        if not scope.endswith("/.default") or " " in scope:
            return _error(400, "invalid_scope", 1002012, (
                f"The provided value for scope {scope} is not valid. Client credential flows "
                "must have a scope value with /.default suffixed to the resource identifier "
                "(application ID URI)."))
        resource = scope[: -len("/.default")].rstrip("/")
        target = self._resolve_resource(resource)
        if target is None:
            return _error(400, "invalid_resource", 500011, (
                f"The resource principal named {resource} was not found in the tenant named "
                f"{self.core.tenant_id}. This can happen if the application has not been "
                "installed by the administrator of the tenant."))
        audience, version = target
        token = self.core.tokens.app_token(app, audience, version, bool(form.get("_cert")))
        lifetime = self.core.tokens.lifetime
        body = {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                "access_token": token}
        return json_response(200, body, NO_STORE)

    def _resolve_resource(self, resource: str) -> tuple[str, int] | None:
        if resource in GRAPH_AUDIENCES or resource == GRAPH_APP_ID:
            return GRAPH_RESOURCE, 1
        app_id = resource.removeprefix("api://")
        target = self.core.apps.apps.get(app_id)
        if target is None:
            return None
        return f"api://{app_id}", target.access_token_version


def _error(status: int, error: str, number: int, description: str) -> Response:
    code, body = aadsts(error, number, description, status)
    return json_response(code, body, NO_STORE)


def _basic_auth(req: Request) -> tuple[str, str] | None:
    header = req.header("authorization")
    if not header.lower().startswith("basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def _client_id(req: Request) -> str:
    if req.method == "POST" and req.body:
        return dict(parse_qsl(req.body.decode(errors="replace"))).get("client_id", "")
    return dict(parse_qsl(req.query)).get("client_id", "")
