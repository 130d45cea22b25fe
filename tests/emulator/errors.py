"""Graph and Entra (AADSTS) error shapes.

Graph: https://learn.microsoft.com/en-us/graph/errors — every error is
``{"error": {"code", "message", "innerError": {"date", "request-id", "client-request-id"},
"details": [...]}}``. Directory (Entra) errors use the ``Request_*`` / ``Authorization_*`` codes.
"""

from __future__ import annotations

import time
from typing import Any

NOT_FOUND_MSG = (
    "Resource '{id}' does not exist or one of its queried reference-property objects are not "
    "present."
)
MEMBER_EXISTS_MSG = (
    "One or more added object references already exist for the following modified properties: "
    "'members'."
)
INSUFFICIENT_MSG = "Insufficient privileges to complete the operation."
CONFLICT_MSG = "Another object with the same value for property {prop} already exists."


class GraphError(Exception):
    """Raised by handlers; turned into the Graph error JSON by the router."""

    def __init__(
        self, status: int, code: str, message: str,
        details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}

    def body(self, request_id: str, client_request_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        error["innerError"] = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "request-id": request_id,
            "client-request-id": client_request_id,
        }
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str, target: str | None = None, code: str = "InvalidValue") -> GraphError:
    """400 Request_BadRequest, with a details entry naming the property when given."""
    details = [{"code": code, "message": message, "target": target}] if target else None
    return GraphError(400, "Request_BadRequest", message, details)


def invalid_value(prop: str, resource: str) -> GraphError:
    msg = f"Invalid value specified for property '{prop}' of resource '{resource}'."
    return bad_request(msg, prop)


def required(prop: str) -> GraphError:
    # Current service text, see microsoftgraph/MSGraph-SDK-Code-Generator#244 (2023 comment).
    return bad_request(f"Property {prop} value is required but is empty or missing.", prop,
                       "PropertyRequired")


def object_conflict(prop: str) -> GraphError:
    """Duplicate UPN / proxy address / immutable id: 400, not 409, with details ObjectConflict."""
    msg = CONFLICT_MSG.format(prop=prop)
    return GraphError(400, "Request_BadRequest", msg,
                      [{"code": "ObjectConflict", "message": msg, "target": prop}])


def not_found(object_id: str) -> GraphError:
    return GraphError(404, "Request_ResourceNotFound", NOT_FOUND_MSG.format(id=object_id))


def member_exists() -> GraphError:
    return GraphError(400, "Request_BadRequest", MEMBER_EXISTS_MSG)


def forbidden() -> GraphError:
    return GraphError(403, "Authorization_RequestDenied", INSUFFICIENT_MSG)


def unauthorized(message: str) -> GraphError:
    header = (
        'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
        'authorize", client_id="00000003-0000-0000-c000-000000000000"'
    )
    return GraphError(401, "InvalidAuthenticationToken", message,
                      headers={"WWW-Authenticate": header})


def unsupported_query(message: str) -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", message)


def segment_not_found(segment: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{segment}'.")


def aadsts(error: str, number: int, description: str, status: int = 400) -> tuple[int, dict]:
    """An Entra token-endpoint error body (RFC 6749 shape plus the AADSTS extras)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    body = {
        "error": error,
        "error_description": f"AADSTS{number}: {description} Trace ID: emulator "
                             f"Correlation ID: emulator Timestamp: {stamp}",
        "error_codes": [number],
        "timestamp": stamp,
        "trace_id": "00000000-0000-0000-0000-000000000000",
        "correlation_id": "00000000-0000-0000-0000-000000000000",
        "error_uri": f"https://login.microsoftonline.com/error?code={number}",
    }
    return status, body
