"""JSON ``$batch`` bodies written by hand.

https://learn.microsoft.com/en-us/graph/json-batching: at most 20 requests, unique string
``id``s, URLs relative to the version, a Content-Type header with every body, per-request
``status``/``headers``/``body`` answers in any order. msgraph-core 1.5.2's helper sends
``depends_on`` and needs an undeclared package (graph-facts.md), so it is not used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobs.graph.errors import Failure, GraphSyncError, classify
from jobs.graph.sdk import parse_retry_after

MAX_BATCH = 20


@dataclass(frozen=True)
class BatchRequest:
    method: str
    url: str  # relative to the version: "/users/{id}"
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    id: str | None = None

    @property
    def is_write(self) -> bool:
        return self.method.upper() != "GET"


@dataclass(frozen=True)
class BatchResponse:
    id: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: GraphSyncError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def with_ids(requests: list[BatchRequest]) -> list[BatchRequest]:
    """Give every request an id ("1", "2", ... unless set) and check the batch limits."""
    if not 1 <= len(requests) <= MAX_BATCH:
        raise ValueError(f"a batch holds 1 to {MAX_BATCH} requests, not {len(requests)}")
    out = [r if r.id is not None else BatchRequest(r.method, r.url, r.body, r.headers, str(i))
           for i, r in enumerate(requests, 1)]
    ids = [r.id for r in out]
    if len(set(ids)) != len(ids):
        raise ValueError("batch request ids must be unique")
    for r in out:
        if r.url.lower().startswith(("http://", "https://")):
            raise ValueError(f"batch URLs must be relative, not {r.url}")
    return out


def body_of(requests: list[BatchRequest]) -> dict[str, Any]:
    items = []
    for r in requests:
        item: dict[str, Any] = {"id": r.id, "method": r.method.upper(),
                                "url": "/" + r.url.lstrip("/")}
        headers = dict(r.headers)
        if r.body is not None:
            headers.setdefault("Content-Type", "application/json")
            item["body"] = r.body
        if headers:
            item["headers"] = headers
        items.append(item)
    return {"requests": items}


def responses_of(requests: list[BatchRequest], answer: dict[str, Any] | None
                 ) -> list[BatchResponse]:
    """Per-request answers in the order of ``requests``, each classified like a single call."""
    by_id = {str(item.get("id")): item for item in (answer or {}).get("responses", [])}
    out = []
    for r in requests:
        item = by_id.get(str(r.id))
        if item is None:
            failure = Failure("sent", message="no answer for this batch item", method=r.method,
                              replay_safe=r.method.upper() != "POST", path=r.url)
            out.append(BatchResponse(str(r.id), 0, error=classify(failure)))
            continue
        out.append(_response(r, item))
    return out


def _response(r: BatchRequest, item: dict[str, Any]) -> BatchResponse:
    status = int(item.get("status", 0))
    headers = {str(k): str(v) for k, v in (item.get("headers") or {}).items()}
    body = item.get("body")
    error = None
    if status >= 400:
        err = (body or {}).get("error", {}) if isinstance(body, dict) else {}
        lower = {k.lower(): v for k, v in headers.items()}
        inner = err.get("innerError") or {}
        error = classify(Failure(
            "http", status=status, code=err.get("code"),
            detail_codes=tuple(d.get("code", "") for d in err.get("details") or []),
            message=err.get("message", ""), method=r.method.upper(), path=r.url,
            replay_safe=r.method.upper() != "POST", request_id=inner.get("request-id"),
            retry_after=parse_retry_after(lower.get("retry-after"))))
    return BatchResponse(str(r.id), status, body, headers, error)
