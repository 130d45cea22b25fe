"""Schema URNs and attribute names in canonical form, shared by normalisation and validation.

RFC 7643 §2.1: attribute names are case-insensitive, so `USERNAME` and `name.GivenName` name
the same attributes as `userName` and `name.givenName`; we store and return the spelling of
the schema definition. Unknown names are left as they are: the validator decides about them.
"""

from __future__ import annotations

from typing import Any

from scim.errors import InvalidSyntax
from scim.schemas import ENTERPRISE_URN, Attribute, ResourceType, Schema

# OneLogin (scim-clients.md): admin-edited templates keep pre-RFC URNs. The SCIM 1.1 core and
# enterprise URNs and the draft "core:2.0" spelling all mean the RFC 7643 schemas.
_LEGACY_CORE = ("urn:scim:schemas:core:1.0", "urn:scim:schemas:core:2.0")
_LEGACY_ENTERPRISE = (
    "urn:scim:schemas:extension:enterprise:1.0",
    "urn:scim:schemas:extension:enterprise:2.0",
)


def require_object(body: Any, what: str = "request body") -> dict[str, Any]:
    """RFC 7644 §3.3/§3.5: a resource or message body is a JSON object."""
    if not isinstance(body, dict):
        raise InvalidSyntax(f"The {what} must be a JSON object")
    return body


def is_urn(key: str) -> bool:
    # The first letter settles most keys without building two strings (called per key).
    return key[:1] in "uU" and key[:4].lower() == "urn:"


def canonical_urn(rt: ResourceType, urn: str) -> str:
    """A legacy URN mapped to RFC 7643's, a known URN in its canonical case, else unchanged."""
    lowered = urn.lower()
    if lowered in _LEGACY_CORE:
        return rt.core.id
    if lowered in _LEGACY_ENTERPRISE:
        return ENTERPRISE_URN
    known = rt.schema_by_urn(urn)
    return known.id if known is not None else urn


def map_legacy_prefix(rt: ResourceType, path: str) -> str:
    """`urn:scim:schemas:extension:enterprise:2.0:manager` → the RFC 7643 URN prefix."""
    lowered = path.lower()
    for legacy in (*_LEGACY_CORE, *_LEGACY_ENTERPRISE):
        if lowered.startswith(legacy + ":"):
            return canonical_urn(rt, legacy) + path[len(legacy):]
    return path


def extension_schema(rt: ResourceType, urn: str) -> Schema | None:
    """The resource type's extension schema called `urn` (the core schema is not one)."""
    schema = rt.schema_by_urn(urn)
    return None if schema is None or schema is rt.core else schema


def top_attribute(rt: ResourceType, name: str) -> Attribute | None:
    """A plain (no dot, no URN) top-level attribute of the resource type, any letter case."""
    if "." in name or is_urn(name):
        return None
    resolved = rt.resolve(name)
    return None if resolved is None else resolved.attribute


def canonical_value(attr: Attribute, value: Any) -> Any:
    """Sub-attribute keys of a complex value (or of each element) in canonical case."""
    if attr.type != "complex":
        return value
    if isinstance(value, dict):
        return _canonical_keys(value, attr.sub)
    if isinstance(value, list):
        return [_canonical_keys(v, attr.sub) if isinstance(v, dict) else v for v in value]
    return value


def canonical_extension(schema: Schema, data: Any) -> Any:
    """An extension object's attribute keys (and their sub-attributes) in canonical case."""
    if not isinstance(data, dict):
        return data
    out = _canonical_keys(data, schema.attribute)
    for key, value in out.items():
        attr = schema.attribute(key)
        if attr is not None:
            out[key] = canonical_value(attr, value)
    return out


def canonicalize_names(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """Every known key of a resource document in canonical case, URNs mapped (RFC 7643 §2.1)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name, canonical = _canonical_entry(rt, key, value)
        if name in out:
            # Two spellings of one attribute: no way to tell which the client meant.
            raise InvalidSyntax(f"Attribute {name!r} is given more than once (in any case)")
        out[name] = canonical
    return out


def _canonical_entry(rt: ResourceType, key: str, value: Any) -> tuple[str, Any]:
    if key.lower() == "schemas":
        return "schemas", value
    if is_urn(key):
        urn = canonical_urn(rt, key)
        schema = extension_schema(rt, urn)
        return urn, canonical_extension(schema, value) if schema is not None else value
    attr = top_attribute(rt, key)
    if attr is None:
        return key, value
    return attr.name, canonical_value(attr, value)


def _canonical_keys(data: dict[str, Any], lookup: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        found = lookup(key) if isinstance(key, str) else None
        name = found.name if found is not None else key
        if name in out:
            raise InvalidSyntax(f"Attribute {name!r} is given more than once (in any case)")
        out[name] = value
    return out
