"""What both emulator servers share, plus small response helpers."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .apps import AppRegistry
from .audit import AuditLog
from .httpserver import Response
from .knobs import FaultRule, Knobs
from .state import Directory
from .tokens import TokenService


@dataclass
class Core:
    state: Directory
    apps: AppRegistry
    tokens: TokenService
    knobs: Knobs = field(default_factory=Knobs)
    audit: AuditLog = field(default_factory=AuditLog)
    graph_base: str = ""  # http://127.0.0.1:PORT (no /v1.0)
    authority_base: str = ""  # https://127.0.0.1:PORT
    delta_token_ttl_s: float = 7 * 24 * 3600  # directory delta tokens live 7 days
    # odata.maxpagesize is a preference: "the service may return fewer" (paging); tests lower
    # this cap to see a round of several pages without seeding a thousand objects
    delta_page_max: int = 999
    dispatch: Callable[[Any], Any] | None = None  # the Graph pipeline, for $batch items

    @property
    def tenant_id(self) -> str:
        return self.state.tenant_id

    def tenant_matches(self, segment: str) -> bool:
        low = segment.lower()
        return low == self.tenant_id or low in self.state.verified()


def json_response(status: int, body: Any, headers: dict[str, str] | None = None,
                  content_type: str = "application/json") -> Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    items = [("Content-Type", f"{content_type}; charset=utf-8"), *(headers or {}).items()]
    return Response(status, items, data)


def html_response(status: int, html: str, headers: dict[str, str] | None = None) -> Response:
    items = [("Content-Type", "text/html; charset=utf-8"), *(headers or {}).items()]
    return Response(status, items, html.encode())


def redirect(location: str) -> Response:
    return Response(302, [("Location", location)], b"")


# Codes of https://learn.microsoft.com/en-us/graph/errors for the statuses faults produce.
FAULT_CODES = {
    429: ("TooManyRequests", "Too many requests."),
    500: ("generalException", "An unspecified error has occurred."),
    502: ("BadGateway", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable for maintenance or "
                                 "is overloaded. You may repeat the request after a delay."),
    504: ("UnknownError", "The operation has timed out."),
}


def fault_response(rule: FaultRule, release: threading.Event) -> Response:
    """What an injected fault on the identity server answers: a reset connection, or an
    AADSTS-style error (a hang waits ``hang_seconds`` or until faults are cleared, then 504)."""
    if rule.kind == "reset":
        return Response(reset=True)
    status = rule.status
    if rule.kind == "hang":
        release.wait(rule.hang_seconds)
        status = 504
    headers = {"Retry-After": rule.retry_after} if rule.retry_after is not None else {}
    body = {"error": "temporarily_unavailable", "error_codes": [50196],
            "error_description": f"AADSTS50196: The server is temporarily unavailable "
                                 f"({status})."}
    return json_response(status, body, headers)
