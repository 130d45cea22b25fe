"""Which attributes a response carries (RFC 7644 §3.4.2.5, §3.9; RFC 7643 §7 "returned").

    project(GROUP, doc, None, parse_attribute_list("members"))    # Entra's group lookups
    project(USER, doc, ["userName", "name.givenName",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"], None)

- `returned: always` (id, and `schemas`, which RFC 7643 §3 makes REQUIRED in every
  representation) is always there, whatever `attributes`/`excludedAttributes` say;
- `returned: never` (password) is never there, even when asked for;
- `returned: request` only when named (the attribute or one of its sub-attributes);
- `returned: default` unless `attributes` is given and does not name it (or its parent, its
  sub-attributes, or its extension URN), or `excludedAttributes` names it.
Names are case-insensitive (RFC 7643 §2.1) and may be URN-qualified (RFC 7644 §3.10).
"""

from __future__ import annotations

from typing import Any

from scim.normalize_names import is_urn, map_legacy_prefix, top_attribute
from scim.schemas import Attribute, ResourceType

Ref = tuple[str, str | None, str | None]  # (extension URN or "", attribute, sub-attribute)
_DROP = object()


def parse_attribute_list(param: str | None) -> list[str] | None:
    """`attributes` / `excludedAttributes` query value: comma-separated names
    (RFC 7644 §3.4.2.5); None when absent or empty."""
    if param is None:
        return None
    names = [name.strip() for name in param.split(",") if name.strip()]
    return names or None


def project(
    rt: ResourceType,
    doc: dict[str, Any],
    attributes: list[str] | None,
    excluded: list[str] | None,
) -> dict[str, Any]:
    """`doc` with only the attributes the response may carry, in the document's order."""
    containers = {s.id.lower() for s in rt.extensions} | {k.lower() for k in doc if is_urn(k)}
    inc = None if attributes is None else {_parse(rt, p, containers) for p in attributes}
    exc = {_parse(rt, p, containers) for p in excluded or []}
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "schemas":
            out[key] = value
            continue
        if is_urn(key):
            kept = _container(rt, key, value, inc, exc)
        else:
            kept = _attribute("", key, top_attribute(rt, key), value, inc, exc)
        if kept is not _DROP:
            out[key] = kept
    if isinstance(out.get("schemas"), list):
        # RFC 7643 §3: `schemas` names the schemas of the attributes present.
        gone = {k.lower() for k in doc if is_urn(k) and k not in out}
        out["schemas"] = [u for u in out["schemas"] if not isinstance(u, str)
                          or u.lower() not in gone]
    return out


def _parse(rt: ResourceType, path: str, containers: set[str]) -> Ref:
    """A requested name as a lower-case (container, attribute, sub-attribute) triple."""
    lowered = map_legacy_prefix(rt, path.strip()).lower()
    core = rt.core.id.lower()
    container, rest = "", lowered
    for urn in sorted(containers | {core}, key=len, reverse=True):
        if lowered == urn:
            return ("" if urn == core else urn), None, None
        if lowered.startswith(urn + ":"):
            container, rest = ("" if urn == core else urn), lowered[len(urn) + 1:]
            break
    name, _, sub = rest.partition(".")
    return container, name or None, sub or None


def _container(rt: ResourceType, key: str, data: Any, inc: set[Ref] | None, exc: set[Ref]
               ) -> Any:
    """An extension object, projected attribute by attribute."""
    urn = key.lower()
    if (urn, None, None) in exc:
        return _DROP
    if not isinstance(data, dict):
        return data if inc is None or (urn, None, None) in inc else _DROP
    schema = rt.schema_by_urn(key)
    out: dict[str, Any] = {}
    for name, value in data.items():
        attr = schema.attribute(name) if schema is not None else None
        kept = _attribute(urn, name, attr, value, inc, exc)
        if kept is not _DROP:
            out[name] = kept
    return out or _DROP


def _attribute(container: str, key: str, attr: Attribute | None, value: Any,
               inc: set[Ref] | None, exc: set[Ref]) -> Any:
    name = key.lower()
    returned = attr.returned if attr is not None else "default"
    if returned == "never":
        return _DROP
    if returned == "always":
        return value
    whole = (container, name, None)
    named = inc is not None and (
        whole in inc or any(c == container and a == name for c, a, _ in inc))
    if returned == "request" and not named:
        return _DROP
    if inc is not None and not named and (container, None, None) not in inc:
        return _DROP
    if whole in exc:
        return _DROP
    return _subs(container, name, attr, value, inc, exc)


def _subs(container: str, name: str, attr: Attribute | None, value: Any,
          inc: set[Ref] | None, exc: set[Ref]) -> Any:
    """Sub-attributes of a complex value, or of each element of a multi-valued one."""
    whole_asked = inc is None or (container, name, None) in inc or (container, None, None) in inc
    asked = set() if inc is None else {s for c, a, s in inc if c == container and a == name and s}
    dropped = {s for c, a, s in exc if c == container and a == name and s}

    def keep(sub_key: str) -> bool:
        sub = attr.sub(sub_key) if attr is not None else None
        returned = sub.returned if sub is not None else "default"
        lowered = sub_key.lower()
        if returned in ("always", "never"):
            return returned == "always"
        if returned == "request" or not whole_asked:
            return lowered in asked
        return lowered not in dropped

    def one(item: Any) -> Any:
        if not isinstance(item, dict):
            return item
        return {k: v for k, v in item.items() if keep(k)}

    if isinstance(value, dict):
        return one(value) or _DROP
    if isinstance(value, list):
        items = [v for v in (one(item) for item in value) if v != {}]
        return items if items or not value else _DROP
    return value
