"""JSON batching: POST /$batch.

https://learn.microsoft.com/en-us/graph/json-batching — at most 20 requests, unique ids,
URLs relative to the version, a Content-Type header with every body, per-request status,
headers and body; a request whose ``dependsOn`` target failed gets 424 Failed Dependency.
Each request is throttled (and counts against the write quota) like a single request.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from . import errors
from .routing import Ctx, Result, parse_params, route

MAX_REQUESTS = 20


def _bad(message: str) -> errors.GraphError:
    return errors.GraphError(400, "BadRequest", message)


def _validate(requests: Any) -> list[dict[str, Any]]:
    if not isinstance(requests, list) or not requests:
        raise _bad("Invalid batch payload format.")
    if len(requests) > MAX_REQUESTS:
        raise _bad(f"Number of requests in the batch exceeds the limit of {MAX_REQUESTS}.")
    seen: set[str] = set()
    for item in requests:
        if not isinstance(item, dict) or not all(k in item for k in ("id", "method", "url")):
            raise _bad("Invalid batch payload format: each request needs id, method and url.")
        rid = str(item["id"])
        if rid in seen:
            raise _bad(f"Request Id '{rid}' must be unique within the batch.")
        url = str(item["url"])
        if url.lower().startswith(("http://", "https://")):
            raise _bad(f"Invalid request URL '{url}': batch request URLs must be relative.")
        headers = {k.lower(): v for k, v in (item.get("headers") or {}).items()}
        if "body" in item and "content-type" not in headers:
            raise _bad(f"Request '{rid}': Content-Type header is required when a body is "
                       "present.")
        for dep in item.get("dependsOn") or []:
            if str(dep) not in seen:
                raise _bad(f"Request '{rid}' depends on '{dep}', which is not an earlier "
                           "request of the batch.")
        seen.add(rid)
    return requests


def _sub_ctx(ctx: Ctx, item: dict[str, Any]) -> Ctx:
    url = "/" + str(item["url"]).lstrip("/")
    if url.lower().startswith("/v1.0/"):
        url = url[5:]
    path, _, query = url.partition("?")
    body = item.get("body")
    raw = b"" if body is None else (body.encode() if isinstance(body, str)
                                    else json.dumps(body).encode())
    headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
    return Ctx(ctx.core, str(item["method"]).upper(), unquote(path), parse_params(query),
               headers, raw, ctx.app_id, ctx.roles, ctx.request_id, ctx.client_request_id,
               in_batch=True)


def _failed_dependency(ctx: Ctx) -> Result:
    err = errors.GraphError(424, "FailedDependency",
                            "The request could not be completed because a request it "
                            "depends on failed.")
    return Result(424, err.body(ctx.request_id, ctx.client_request_id))


def _item_response(rid: str, result: Result) -> dict[str, Any]:
    headers = dict(result.headers)
    entry: dict[str, Any] = {"id": rid, "status": result.status}
    if isinstance(result.body, (dict, list)):
        headers.setdefault("Content-Type", "application/json; odata.metadata=minimal; "
                                           "odata.streaming=true; IEEE754Compatible=false; "
                                           "charset=utf-8")
        entry["body"] = result.body
    elif isinstance(result.body, str):
        headers.setdefault("Content-Type", "text/plain")
        entry["body"] = result.body
    entry["headers"] = headers
    return entry


@route("POST", "/$batch", set(), kind="batch")
def batch(ctx: Ctx) -> Result:
    requests = _validate(ctx.json().get("requests"))
    dispatch = ctx.core.dispatch
    assert dispatch is not None
    statuses: dict[str, int] = {}
    responses = []
    for item in requests:
        rid = str(item["id"])
        deps = [str(d) for d in item.get("dependsOn") or []]
        if any(not 200 <= statuses[d] < 300 for d in deps):
            result = _failed_dependency(ctx)
        else:
            result = dispatch(_sub_ctx(ctx, item))
        statuses[rid] = result.status
        responses.append(_item_response(rid, result))
    return Result(200, {"responses": responses})
