"""The Graph v1.0 server: authentication, latency, faults, write quota, routing, audit.

Errors: https://learn.microsoft.com/en-us/graph/errors. Throttling:
https://learn.microsoft.com/en-us/graph/throttling (429 TooManyRequests + Retry-After).
"""

from __future__ import annotations

import json
import re
import time
import uuid

from . import admin, errors, routing
from . import batch as _batch  # noqa: F401  (registers routes)
from . import delta as _delta  # noqa: F401
from . import graph_directory as _directory  # noqa: F401
from . import graph_groups as _groups  # noqa: F401
from . import graph_users as _users  # noqa: F401
from . import me as _me  # noqa: F401
from . import members as _members  # noqa: F401
from .audit import AuditEntry
from .core import FAULT_CODES, Core
from .httpserver import Request, Response
from .knobs import FAULT_KINDS, FaultRule
from .routing import Ctx, Result
from .tokens import TokenInvalid

VERSION = re.compile(r"^/v1\.0(?=/|$)", re.IGNORECASE)
JSON_TYPE = ("application/json;odata.metadata=minimal;odata.streaming=true;"
             "IEEE754Compatible=false;charset=utf-8")


class GraphApp:
    def __init__(self, core: Core) -> None:
        self.core = core
        core.dispatch = self.run

    def __call__(self, req: Request) -> Response:
        if req.path.lower().startswith("/_emulator"):
            return admin.handle(self.core, req)
        self.core.knobs.sleep_latency()
        request_id = str(uuid.uuid4())
        ctx = Ctx(self.core, req.method, req.path, routing.parse_params(req.query), req.headers,
                  req.body, request_id=request_id,
                  client_request_id=req.header("client-request-id") or request_id)
        version = VERSION.match(req.path)
        if version:
            ctx.path = req.path[version.end():] or "/"
        elif req.path.lower() != "/oidc/userinfo":  # userinfo lives outside /v1.0
            segment = req.path.strip("/").split("/")[0]
            err = errors.GraphError(400, "BadRequest", f"Invalid version: {segment}")
            return self.respond(ctx, self.error(ctx, err))
        try:
            self.authenticate(ctx, req)
        except errors.GraphError as err:
            result = self.error(ctx, err)
            self.record(ctx, result, "write" if req.method != "GET" else "read", "", time.time())
            return self.respond(ctx, result)
        return self.respond(ctx, self.run(ctx))

    def authenticate(self, ctx: Ctx, req: Request) -> None:
        scheme, _, token = req.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.unauthorized("Access token is empty.")
        try:
            claims = self.core.tokens.validate_graph(token.strip())
        except TokenInvalid as exc:
            raise errors.unauthorized(str(exc)) from None
        ctx.app_id = claims.get("appid") or claims.get("azp") or ""
        if claims.get("idtyp") == "user":
            ctx.user_id = str(claims.get("oid", ""))
        ctx.roles = set(claims.get("roles") or []) | set(str(claims.get("scp", "")).split())

    def run(self, ctx: Ctx) -> Result:
        """One Graph request (also each $batch item): faults, permission, quota, handler."""
        started = time.time()
        try:
            found, params = routing.match(ctx.method, ctx.path)
        except errors.GraphError as err:
            result = self.error(ctx, err)
            self.record(ctx, result, "write" if ctx.method != "GET" else "read", "", started)
            return result
        allowed = ("status", "apply_then_fail") if ctx.in_batch else FAULT_KINDS
        fault = self.core.knobs.faults.pick("graph", ctx.method, ctx.path, allowed)
        if fault is not None and not (fault.kind == "apply_then_fail" and found.kind == "write"):
            result = self.fault(ctx, fault)
        else:
            result = self.execute(ctx, found, params)
            if fault is not None and result.status < 400:
                result = self.fault(ctx, fault)
        self.record(ctx, result, found.kind, fault.kind if fault else "", started)
        return result

    def execute(self, ctx: Ctx, found: routing.Route, params: dict[str, str]) -> Result:
        try:
            if found.perms and not ctx.roles & found.perms:
                raise errors.forbidden()
            if found.kind == "write":
                self.take_quota(ctx)
            return found.handler(ctx, **params)
        except errors.GraphError as err:
            return self.error(ctx, err)

    def take_quota(self, ctx: Ctx) -> None:
        quota = self.core.knobs.write_quota
        wait = quota.take(ctx.app_id)
        if wait is None:
            return
        value = quota.retry_after(wait)
        headers = {"Retry-After": value} if value is not None else {}
        raise errors.GraphError(429, *FAULT_CODES[429], headers=headers)

    def fault(self, ctx: Ctx, rule: FaultRule) -> Result:
        if rule.kind == "reset":
            return Result(0, None, {"x-emulator-reset": "1"})
        status = rule.status
        if rule.kind == "hang":
            self.core.knobs.faults.release.wait(rule.hang_seconds)
            status = 504
        code, message = FAULT_CODES.get(status, ("UnknownError", "The service had an error."))
        headers = {"Retry-After": rule.retry_after} if rule.retry_after is not None else {}
        return self.error(ctx, errors.GraphError(status, code, message, headers=headers))

    def error(self, ctx: Ctx, err: errors.GraphError) -> Result:
        return Result(err.status, err.body(ctx.request_id, ctx.client_request_id),
                      dict(err.headers))

    def record(self, ctx: Ctx, result: Result, kind: str, fault: str, started: float) -> None:
        self.core.audit.record(AuditEntry(
            started, ctx.method, ctx.path, routing.encode_params(ctx.params), result.status,
            kind, ctx.app_id, ctx.in_batch, fault, (time.time() - started) * 1000))

    def respond(self, ctx: Ctx, result: Result) -> Response:
        if result.headers.get("x-emulator-reset"):
            return Response(reset=True)
        headers = [("request-id", ctx.request_id), ("client-request-id", ctx.client_request_id),
                   ("Cache-Control", "no-cache"), ("OData-Version", "4.0"),
                   ("x-ms-ags-diagnostic", '{"ServerInfo":{"DataCenter":"Emulator"}}')]
        headers += list(result.headers.items())
        if isinstance(result.body, (dict, list)):
            data = json.dumps(result.body, separators=(",", ":")).encode()
            headers.append(("Content-Type", JSON_TYPE))
        elif isinstance(result.body, str):
            data = result.body.encode()
            headers.append(("Content-Type", "text/plain"))
        else:
            data = b""
        return Response(result.status, headers, data)
