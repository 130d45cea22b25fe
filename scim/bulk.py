"""/Bulk (RFC 7644 §3.7): each operation its own transaction, bulkIds resolved across them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import request

from scim import service, store
from scim.errors import InvalidSyntax, InvalidValue, PayloadTooLarge, ScimError
from scim.schemas import BULK_REQUEST_URN, BULK_RESPONSE_URN, RESOURCE_TYPES, ResourceType

BULK_REF = re.compile(r"bulkId:([^\"/\s]+)")
PATH = re.compile(r"^/(Users|Groups)(?:/([^/]+))?$")


class Unresolved(Exception):
    """The operation names a bulkId no earlier operation has created (yet)."""


@dataclass
class BulkRun:
    fail_on_errors: int | None
    created: dict[str, str] = field(default_factory=dict)  # bulkId → resource id
    errors: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)


def _resolve(value: Any, created: dict[str, str]) -> Any:
    """Replace every `bulkId:<id>` with the id the earlier POST created (RFC 7644 §3.7.2)."""
    text = json.dumps(value)

    def swap(match: re.Match[str]) -> str:
        if match.group(1) not in created:
            raise Unresolved(match.group(1))
        return created[match.group(1)]

    return json.loads(BULK_REF.sub(swap, text))


def _check_envelope(body: dict[str, Any], max_operations: int) -> list[dict[str, Any]]:
    if BULK_REQUEST_URN not in (body.get("schemas") or []):
        raise InvalidSyntax(f"a bulk request needs the schema {BULK_REQUEST_URN}")
    operations = body.get("Operations")
    if not isinstance(operations, list) or not all(isinstance(o, dict) for o in operations):
        raise InvalidSyntax("Operations must be a list of objects")
    if len(operations) > max_operations:
        # RFC 7644 §3.7.4: too many operations is a 413 for the whole request.
        raise PayloadTooLarge(f"at most {max_operations} operations per bulk request")
    return operations


def run_bulk(body: dict[str, Any], max_operations: int) -> dict[str, Any]:
    operations = _check_envelope(body, max_operations)
    fail_on = body.get("failOnErrors")
    run = BulkRun(fail_on_errors=int(fail_on) if isinstance(fail_on, int) else None)
    pending = list(operations)
    # Operations naming a bulkId created further down wait for a second pass (§3.7.2).
    for _ in range(2):
        deferred = []
        for operation in pending:
            if run.fail_on_errors is not None and run.errors >= run.fail_on_errors:
                return _response(run)
            if not _run_one(operation, run, final=False):
                deferred.append(operation)
        pending = deferred
    for operation in pending:
        _run_one(operation, run, final=True)
    return _response(run)


def _response(run: BulkRun) -> dict[str, Any]:
    return {"schemas": [BULK_RESPONSE_URN], "Operations": run.results}


def _run_one(operation: dict[str, Any], run: BulkRun, *, final: bool) -> bool:
    method = str(operation.get("method", "")).upper()
    result: dict[str, Any] = {"method": method}
    if operation.get("bulkId"):
        result["bulkId"] = operation["bulkId"]
    try:
        path = _resolve(str(operation.get("path", "")), run.created)
        data = _resolve(operation.get("data"), run.created)
        result.update(_apply(method, path, data, operation.get("version")))
        if method == "POST" and operation.get("bulkId"):
            run.created[str(operation["bulkId"])] = result["location"].rsplit("/", 1)[-1]
    except Unresolved as missing:
        if not final:
            return False
        error = InvalidValue(f"bulkId {missing} is not created by any operation")
        error.status = 409  # RFC 7644 §3.7.2: unresolvable references answer 409
        _fail(run, result, error)
    except ScimError as error:
        _fail(run, result, error)
    run.results.append(result)
    return True


def _fail(run: BulkRun, result: dict[str, Any], error: ScimError) -> None:
    run.errors += 1
    result["status"] = str(error.status)
    result["response"] = error.to_body()


def _apply(method: str, path: str, data: Any, version: str | None) -> dict[str, Any]:
    match = PATH.match(path)
    if not match:
        raise InvalidValue(f"bulk path {path!r} is not /Users[/id] or /Groups[/id]")
    rt = RESOURCE_TYPES["User" if match.group(1) == "Users" else "Group"]
    resource_id = match.group(2)
    if method == "POST" and resource_id is None:
        return _done(rt, service.create(rt, _data(data)), "201")
    if resource_id is None or method not in _ITEM_ACTIONS:
        raise InvalidValue(f"{method} {path} is not a bulk operation of RFC 7644 §3.7")
    if method == "DELETE":
        service.delete(rt, resource_id, version)
        return {"location": _location(rt, resource_id), "status": "204"}
    return _done(rt, _ITEM_ACTIONS[method](rt, resource_id, _data(data), version), "200")


_ITEM_ACTIONS: dict[str, Callable[..., store.Row]] = {
    "PUT": service.replace,
    "PATCH": service.patch,
    "DELETE": service.delete,  # type: ignore[dict-item]
}


def _data(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidSyntax("bulk operation data must be a JSON object")
    return data


def _location(rt: ResourceType, resource_id: str) -> str:
    from scim.blueprint import PREFIX

    return f"{request.url_root.rstrip('/')}{PREFIX}{rt.endpoint}/{resource_id}"


def _done(rt: ResourceType, row: store.Row, status: str) -> dict[str, Any]:
    return {"location": _location(rt, row.id), "version": store.etag(row.version),
            "status": status}
