"""PATCH bodies (RFC 7644 §3.5.2) as Entra, Okta and authentik send them → `PatchOperation`s.

The envelope is checked strictly; the client quirks of scim-clients.md are rewritten into
plain RFC operations: lower-case `op`, remove-with-value-list as a selector, no-path values
with dotted or URN-qualified keys split into operations with those paths, "False" strings
for booleans, bare-string manager, `$ref: null`, authentik's repeated `schemas`.
"""

from __future__ import annotations

import json
from typing import Any

from scim.errors import InvalidPath, InvalidSyntax, InvalidValue, NoTarget
from scim.normalize_names import (
    canonical_urn,
    canonical_value,
    extension_schema,
    is_urn,
    map_legacy_prefix,
    require_object,
    top_attribute,
)
from scim.normalize_values import (
    coerce_boolean,
    drop_unset,
    is_unset,
    normalize_element,
    normalize_extension,
    normalize_value,
)
from scim.patch_op import PatchOperation
from scim.schemas import PATCH_OP_URN, Attribute, ResourceType

OPS = ("add", "remove", "replace")


def normalize_patch(rt: ResourceType, body: Any) -> list[PatchOperation]:
    """The operations of a PATCH body, normalised, in order (RFC 7644 §3.5.2)."""
    envelope = require_object(body)
    _require_patch_schema(envelope)
    operations: list[PatchOperation] = []
    for raw in _operations(envelope):
        operations.extend(normalize_operation(rt, raw))
    return operations


def normalize_operation(rt: ResourceType, raw: Any) -> list[PatchOperation]:
    """One operation object → zero or more normalised operations."""
    raw = require_object(raw, "PATCH operation")
    op = op_name(raw)
    path = _path(rt, raw)
    has_value, value = _member(raw, "value")
    if op == "remove":
        return expand_remove(rt, path, value)
    if not has_value:
        # RFC 7644 §3.5.2.1 / §3.5.2.3: add and replace MUST carry a "value"; §3.12
        # invalidValue: "A required value was missing".
        raise InvalidValue(f"A PATCH {op!r} operation needs a 'value'")
    if path is None:
        return split_pathless(rt, op, value)
    return with_path(rt, op, path, value)


def op_name(raw: dict[str, Any]) -> str:
    """Entra sends "Replace", "Add", "Remove" (scim-clients.md): compared case-insensitively.
    RFC 7644 §3.5.2: "op" MUST be one of "add", "remove" or "replace"."""
    _, op = _member(raw, "op")
    name = op.strip().lower() if isinstance(op, str) else None
    if name not in OPS:
        raise InvalidSyntax(f"PATCH op {op!r} is not one of add, remove, replace")
    return name


def canonical_path(rt: ResourceType, path: str) -> str:
    """Legacy URN prefix mapped, attribute names in canonical case; filters left as written."""
    path = map_legacy_prefix(rt, path)
    head, bracket, tail = path.partition("[")
    close = tail.rfind("]")
    if not bracket:
        resolved = rt.resolve(path)
        if resolved is not None:
            return resolved.canonical
        return canonical_urn(rt, path) if is_urn(path) else path
    resolved = rt.resolve(head)
    if close < 0 or resolved is None or resolved.sub_attribute is not None:
        return path  # the PATCH engine reports malformed or unknown paths (invalidPath)
    rest = tail[close + 1:]
    sub = resolved.attribute.sub(rest[1:]) if rest.startswith(".") else None
    return f"{resolved.canonical}[{tail[:close]}]" + (f".{sub.name}" if sub else rest)


def expand_remove(rt: ResourceType, path: str | None, value: Any) -> list[PatchOperation]:
    """Remove; Entra's `{"op":"Remove","path":"members","value":[{"value":id}]}` (scim-clients.md)
    read literally removes every member: its value list is a selector, so it becomes one
    `members[value eq "id"]` remove per element. An empty list selects nothing."""
    if path is None:
        raise NoTarget("A PATCH remove needs a 'path' (RFC 7644 §3.5.2.2)")
    resolved = None if "[" in path else rt.resolve(path)
    attr = resolved.attribute if resolved is not None else None
    value = drop_unset(value)
    if (attr is None or resolved is None or resolved.sub_attribute is not None
            or not attr.multi_valued or attr.type != "complex" or is_unset(value)):
        return [PatchOperation("remove", path, None)]  # RFC 7644 §3.5.2.2: no value
    items = value if isinstance(value, list) else [value]
    return [PatchOperation("remove", f"{path}[{_selector(attr, item)}]", None) for item in items]


def with_path(rt: ResourceType, op: str, path: str, value: Any) -> list[PatchOperation]:
    """Add/replace at a path, the value normalised for the attribute the path names."""
    value = value_for_path(rt, path, value)
    if is_unset(value):
        return _clear(rt, op, path)
    return [PatchOperation(op, path, value)]


def value_for_path(rt: ResourceType, path: str, value: Any) -> Any:
    """`"False"` for `active` → False (Entra), bare-string manager → `{"value": …}` (Entra),
    `$ref: null` dropped from member elements (Entra), all per scim-clients.md."""
    schema = extension_schema(rt, path) if is_urn(path) else None
    if schema is not None:
        return normalize_extension(schema, value)
    attr, element = _target(rt, path)
    if attr is None:
        return drop_unset(value)
    if element:
        return normalize_element(attr, value)
    if attr.multi_valued and isinstance(value, dict):
        value = [value]  # lenient: one element given where RFC 7644 §3.5.2.1 wants an array
    return normalize_value(attr, value)


def split_pathless(rt: ResourceType, op: str, value: Any) -> list[PatchOperation]:
    """Add/replace without path (RFC 7644 §3.5.2.1: the value holds attributes of the resource).

    Dotted and URN-qualified keys become operations with that path (Entra's newer jobs send
    `"name.givenName"` and `"urn:…:enterprise:2.0:User:employeeNumber"` keys); plain keys stay
    in one remaining no-path operation. authentik repeats `schemas` (dropped) and the unchanged
    `id` (kept, so the engine can reject a changed id as mutability), per scim-clients.md.
    Okta's `{"op":"replace","value":{"active":false}}` passes through unchanged.
    """
    if not isinstance(value, dict):
        raise InvalidValue(f"A PATCH {op!r} without 'path' needs an object 'value'")
    remaining: dict[str, Any] = {}
    qualified: list[PatchOperation] = []
    cleared: list[PatchOperation] = []
    for key, item in value.items():
        if key.lower() in ("schemas", "meta"):  # meta: readOnly, ignored (RFC 7643 §3.1, §7)
            continue
        if _is_qualified(rt, key):
            qualified.extend(with_path(rt, op, canonical_path(rt, key), item))
            continue
        name, normalized = _pathless_entry(rt, key, item)
        cleared.extend(_cleared_subs(rt, op, name, item))
        if item is None or item == "":
            cleared.extend(_clear(rt, op, name))
        elif is_unset(normalized):
            continue  # e.g. {"name": {"givenName": ""}}: only its unset parts were cleared
        elif name in remaining:
            raise InvalidSyntax(f"Attribute {name!r} is given more than once (in any case)")
        else:
            remaining[name] = normalized
    head = [PatchOperation(op, None, remaining)] if remaining else []
    return head + qualified + cleared


def _pathless_entry(rt: ResourceType, key: str, item: Any) -> tuple[str, Any]:
    if is_urn(key):
        urn = canonical_urn(rt, key)
        schema = extension_schema(rt, urn)
        return urn, normalize_extension(schema, item) if schema else drop_unset(item)
    attr = top_attribute(rt, key)
    return (key, drop_unset(item)) if attr is None else (attr.name, normalize_value(attr, item))


def _cleared_subs(rt: ResourceType, op: str, name: str, item: Any) -> list[PatchOperation]:
    """`{"name": {"givenName": ""}}` in a replace clears name.givenName (RFC 7643 §2.5)."""
    if not isinstance(item, dict):
        return []
    separator = ":" if is_urn(name) else "."
    paths = [canonical_path(rt, f"{name}{separator}{k}") for k, v in item.items() if is_unset(v)]
    return [operation for path in paths for operation in _clear(rt, op, path)]


def _clear(rt: ResourceType, op: str, path: str) -> list[PatchOperation]:
    """Replace with null or "" is a remove (RFC 7643 §2.5: null is unassigned; OneLogin's ""
    means unset); add of nothing adds nothing. readOnly targets are left to the engine."""
    resolved = rt.resolve(path)
    if op != "replace" or (resolved is not None and resolved.target.mutability == "readOnly"):
        return []
    return [PatchOperation("remove", path, None)]


def _is_qualified(rt: ResourceType, key: str) -> bool:
    if is_urn(key):
        return rt.resolve(map_legacy_prefix(rt, key)) is not None
    return "." in key


def _target(rt: ResourceType, path: str) -> tuple[Attribute | None, bool]:
    """The attribute a path's value is for, and whether the value is one element of it."""
    head, bracket, tail = path.partition("[")
    if not bracket:
        resolved = rt.resolve(path)
        return (resolved.target if resolved else None), False
    resolved = rt.resolve(head)
    if resolved is None:
        return None, False
    rest = tail[tail.rfind("]") + 1:]
    if rest.startswith("."):
        return resolved.attribute.sub(rest[1:]), False
    return resolved.attribute, True


def _selector(attr: Attribute, item: Any) -> str:
    """A filter selecting the element `item` describes: by `value` when it has one (members
    are identified by value; a readOnly `display` beside it must not spoil the match)."""
    item = {"value": item} if isinstance(item, str) else item
    if not isinstance(item, dict) or not item:
        raise InvalidValue(f"Cannot select a value of {attr.name!r} from {item!r}")
    item = canonical_value(attr, item)
    if "value" in item:
        item = {"value": item["value"]}
    terms = []
    for key, raw in item.items():
        sub = attr.sub(key)
        if sub is None or isinstance(raw, dict | list):
            raise InvalidValue(f"Cannot select a value of {attr.name!r} by {key!r}")
        # RFC 7644 §3.4.2.2: comparison values are JSON literals, strings JSON-escaped.
        terms.append(f"{sub.name} eq {json.dumps(coerce_boolean(sub, raw), ensure_ascii=False)}")
    return " and ".join(terms)


def _require_patch_schema(envelope: dict[str, Any]) -> None:
    """RFC 7644 §3.5.2: the body MUST contain `schemas` with the PatchOp URN."""
    _, urns = _member(envelope, "schemas")
    urns = [urns] if isinstance(urns, str) else urns
    names = {u.lower() for u in urns if isinstance(u, str)} if isinstance(urns, list) else set()
    if PATCH_OP_URN.lower() not in names:
        raise InvalidSyntax(f"A PATCH body's 'schemas' must contain {PATCH_OP_URN}")


def _operations(envelope: dict[str, Any]) -> list[Any]:
    """RFC 7644 §3.5.2: "Operations" is an array of one or more operations."""
    _, operations = _member(envelope, "operations")
    if not isinstance(operations, list) or not operations:
        raise InvalidSyntax("A PATCH body needs 'Operations': a non-empty array")
    return operations


def _member(obj: dict[str, Any], name: str) -> tuple[bool, Any]:
    """A message member by name in any letter case (RFC 7643 §2.1)."""
    for key, value in obj.items():
        if isinstance(key, str) and key.lower() == name:
            return True, value
    return False, None


def _path(rt: ResourceType, raw: dict[str, Any]) -> str | None:
    _, path = _member(raw, "path")
    if path is None or (isinstance(path, str) and not path.strip()):
        return None  # "" is unset (OneLogin, scim-clients.md)
    if not isinstance(path, str):
        raise InvalidPath(f"PATCH 'path' must be a string, not {path!r}")
    return canonical_path(rt, path.strip())
