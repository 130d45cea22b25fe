"""The working copy a PATCH edits (RFC 7644 §3.5.2): attribute access in any letter case,
mutability-checked assignment and values checked against their attribute (RFC 7643 §2.2-2.3).
"""

from __future__ import annotations

from typing import Any

from scim.errors import InvalidValue, Mutability
from scim.filter_ast import is_extension
from scim.index import canonical_datetime, to_bool
from scim.patch_values import KeyedValues, Values, clone
from scim.schemas import Attribute, ResolvedPath, ResourceType


def find_key(container: dict[str, Any], name: str) -> str | None:
    """The key spelling `name` in any letter case (RFC 7643 §2.1), or None."""
    if name in container:
        return name
    lowered = name.lower()
    return next((k for k in container if isinstance(k, str) and k.lower() == lowered), None)


def check_change(attribute: Attribute, old: Any, new: Any, where: str) -> None:
    """RFC 7643 §2.2 / RFC 7644 §3.5.2: readOnly never changes; immutable only from unset.
    Resending the current value is no change (authentik and Okta resend `id`)."""
    if old == new:
        return
    if attribute.mutability == "readOnly":
        raise Mutability(f"'{where}' is readOnly and cannot be changed")
    if attribute.mutability == "immutable" and old is not None:
        raise Mutability(f"'{where}' is immutable and already set")


def assign(obj: dict[str, Any], attribute: Attribute, value: Any, where: str) -> None:
    """`obj[attribute.name] = value`, the key in canonical case, mutability checked."""
    key = find_key(obj, attribute.name)
    check_change(attribute, obj.get(key) if key is not None else None, value, where)
    if key is not None and key != attribute.name:
        del obj[key]
    obj[attribute.name] = value


def unset(obj: dict[str, Any], attribute: Attribute, where: str) -> None:
    key = find_key(obj, attribute.name)
    if key is None:
        return
    check_change(attribute, obj[key], None, where)
    del obj[key]


def scalar(attribute: Attribute, value: Any, where: str) -> Any:
    """A simple value checked against its type (RFC 7643 §2.3); "true"/"false" → booleans."""
    if isinstance(value, (dict, list)):
        raise InvalidValue(f"'{where}' takes a single {attribute.type} value")
    kind = attribute.type
    if kind == "boolean":
        flag = to_bool(value)
        if flag is None:
            raise InvalidValue(f"'{where}' takes a boolean, not {value!r}")
        return flag
    if kind in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidValue(f"'{where}' takes a number, not {value!r}")
        return value
    if not isinstance(value, str):
        raise InvalidValue(f"'{where}' takes a string, not {value!r}")
    if kind == "dateTime":
        try:
            canonical_datetime(value)
        except ValueError:
            raise InvalidValue(f"'{where}' takes a dateTime, not {value!r}") from None
    return value


def element_of(attribute: Attribute, raw: Any, where: str) -> Any:
    """One value of a multi-valued or complex attribute, sub-attribute names in canonical
    case. readOnly sub-attributes of a writable attribute (`members.display`) are server-set
    and ignored, as on PUT (RFC 7644 §3.5.1)."""
    if attribute.type != "complex":
        return scalar(attribute, raw, where)
    if not isinstance(raw, dict):
        if attribute.sub("value") is None or isinstance(raw, list):
            raise InvalidValue(f"'{where}' takes an object, not {raw!r}")
        raw = {"value": raw}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        sub = attribute.sub(key) if isinstance(key, str) else None
        if sub is None:
            raise InvalidValue(f"'{where}' has no sub-attribute {key!r}")
        if value is None or (sub.mutability == "readOnly" and attribute.mutability != "readOnly"):
            continue
        out[sub.name] = scalar(sub, value, f"{where}.{sub.name}")
    return out


class Document:
    """A deep copy of the resource plus the multi-valued attributes being edited."""

    def __init__(self, resource_type: ResourceType, resource: dict[str, Any]) -> None:
        self.rt = resource_type
        self.data: dict[str, Any] = clone(resource)
        self.multi: dict[str, tuple[ResolvedPath, Values]] = {}
        self.touched: set[str] = set()  # extension URNs written to

    def container(self, path: ResolvedPath, create: bool) -> dict[str, Any] | None:
        """The object holding `path`'s attribute: the resource, or its extension object."""
        if not is_extension(path) or path.schema is None:
            return self.data
        urn = path.schema.id
        key = find_key(self.data, urn)
        if key is None and not create:
            return None
        self.touched.add(urn)
        if key is None:
            self.data[urn] = {}
        elif key != urn:
            self.data[urn] = self.data.pop(key)
        part = self.data[urn]
        if not isinstance(part, dict):
            raise InvalidValue(f"'{urn}' must be an object")
        return part

    def values(self, path: ResolvedPath) -> Values:
        key = path.canonical.lower()
        if key not in self.multi:
            container = self.container(path, create=False) or {}
            name = find_key(container, path.attribute.name)
            current = container.get(name) if name is not None else None
            items = current if isinstance(current, list) else [] if current is None else [current]
            kind = KeyedValues if path.attribute.name == "members" else Values
            self.multi[key] = (path, kind(path.attribute, items))
        return self.multi[key][1]

    def finish(self) -> dict[str, Any]:
        for path, values in self.multi.values():
            items = values.elements()
            container = self.container(path, create=bool(items))
            if container is None:
                continue
            key = find_key(container, path.attribute.name)
            if key is not None and (key != path.attribute.name or not items):
                del container[key]
            if items:
                container[path.attribute.name] = items
        self._tidy_schemas()
        return self.data

    def _tidy_schemas(self) -> None:
        """RFC 7643 §3: `schemas` lists the extensions present; an emptied one goes."""
        for urn in sorted(self.touched):
            key = find_key(self.data, urn)
            present = key is not None and bool(self.data[key])
            if key is not None and not present:
                del self.data[key]
            listed = [u for u in self.data.get("schemas") or [] if isinstance(u, str)]
            has = any(u.lower() == urn.lower() for u in listed)
            if present and not has:
                self.data["schemas"] = [*(listed or [self.rt.core.id]), urn]
            elif not present and has:
                self.data["schemas"] = [u for u in listed if u.lower() != urn.lower()]
