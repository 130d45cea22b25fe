"""One normalisation layer for what real SCIM clients send, before validation.

`normalize_resource` rewrites POST/PUT bodies and `normalize_patch` PATCH bodies of Microsoft
Entra provisioning, Okta, OneLogin and authentik into the RFC 7643/7644 shapes the validator
and the PATCH engine expect. Each rule is a small function citing where the quirk is
documented (scim-clients.md summarises the clients' documentation). Everything else stays
strict: the validator rejects what no rule here makes valid.

    doc = normalize_resource(USER, body)          # then scim.validation.validate_resource
    ops = normalize_patch(GROUP, body)            # then the PATCH engine
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from scim.normalize_names import (
    canonical_urn,
    canonicalize_names,
    extension_schema,
    is_urn,
    require_object,
    top_attribute,
)
from scim.normalize_patch import normalize_patch
from scim.normalize_values import (
    coerce_boolean,
    drop_unset,
    drop_valueless_elements,
    wrap_bare_value,
)
from scim.schemas import ENTERPRISE_URN, USER, ResourceType

__all__ = ["RESOURCE_RULES", "normalize_patch", "normalize_resource", "require_object"]

Rule = Callable[[ResourceType, dict[str, Any]], dict[str, Any]]


def map_legacy_urns(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """Legacy URNs in `schemas` and as extension keys → RFC 7643 URNs, in canonical case.

    OneLogin (scim-clients.md): `urn:scim:schemas:core:1.0`, `…core:2.0`,
    `…extension:enterprise:2.0`. A bare-string `schemas` is read as a one-element array
    (RFC 7643 §3 defines it as an array of strings).
    """
    out = {(canonical_urn(rt, k) if is_urn(k) else k): v for k, v in doc.items()}
    return {("schemas" if k.lower() == "schemas" else k):
            (_schema_urns(rt, v) if k.lower() == "schemas" else v) for k, v in out.items()}


def _schema_urns(rt: ResourceType, urns: Any) -> Any:
    urns = [urns] if isinstance(urns, str) else urns
    if not isinstance(urns, list):
        return urns
    out: list[Any] = []
    for urn in urns:
        mapped = canonical_urn(rt, urn) if isinstance(urn, str) else urn
        if mapped not in out:
            out.append(mapped)
    return out


def canonicalize_attribute_names(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """`USERNAME` → `userName`, `name.GivenName` → `name.givenName` (RFC 7643 §2.1: names are
    case-insensitive; Entra docs ask servers not to require case-sensitive matches)."""
    return canonicalize_names(rt, doc)


def drop_meta(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """`meta` is readOnly (RFC 7643 §3.1) and SHALL be ignored (§7); Okta's GET-then-PUT
    resends it (scim-clients.md)."""
    return {k: v for k, v in doc.items() if k != "meta"}


def drop_unset_values(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """null and "" mean unset (RFC 7643 §2.5; OneLogin's `"id": null` and `""`; Entra's
    `"$ref": null`), at any depth; objects left empty are dropped as well."""
    cleaned = drop_unset(doc)
    return cleaned if isinstance(cleaned, dict) else {}


def drop_user_groups(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """A user's `groups` is readOnly (RFC 7643 §4.1.2) and ignored (§7): Okta POSTs
    `groups: []` and its PUT resends the groups it read (scim-clients.md)."""
    if rt is not USER:
        return doc
    return {k: v for k, v in doc.items() if k != "groups"}


def wrap_bare_manager(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """Entra sends `manager` as a bare id string (scim-clients.md) → `{"value": id}`."""
    data = doc.get(ENTERPRISE_URN)
    schema = extension_schema(rt, ENTERPRISE_URN)
    if schema is None or not isinstance(data, dict):
        return doc
    manager = schema.attribute("manager")
    wrapped = {k: wrap_bare_value(manager, v) if k == "manager" and manager else v
               for k, v in data.items()}
    return {**doc, ENTERPRISE_URN: wrapped}


def drop_valueless_multi_values(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """`{"value": "", "type": "work"}` elements (OneLogin, scim-clients.md) carry no value once
    "" is read as unset: dropped (see normalize_values.drop_valueless_elements)."""
    out = dict(doc)
    for key, value in doc.items():
        attr = top_attribute(rt, key)
        kept = value if attr is None else drop_valueless_elements(attr, value)
        if kept or not value:
            out[key] = kept
        else:
            del out[key]  # nothing left: unassigned (RFC 7643 §2.5)
    return out


def coerce_boolean_strings(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """"true"/"false" strings (any case) → booleans for boolean attributes and sub-attributes
    (OneLogin's `"active": "true"`, scim-clients.md)."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        schema = extension_schema(rt, key) if is_urn(key) else None
        if schema is not None and isinstance(value, dict):
            out[key] = {k: _coerce(schema.attribute(k), v) for k, v in value.items()}
        else:
            out[key] = _coerce(top_attribute(rt, key), value)
    return out


def _coerce(attr: Any, value: Any) -> Any:
    return value if attr is None else coerce_boolean(attr, value)


def drop_dataless_extension_urns(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """Unknown extension URNs in `schemas` that carry no data are dropped: clients copy
    their own extension URNs into every body (scim-clients.md, rule of thumb). Unknown
    extension data that is present is kept under its URN, and stored as it is."""
    urns = doc.get("schemas")
    if not isinstance(urns, list):
        return doc
    with_data = {k.lower() for k in doc if is_urn(k)}
    kept = [u for u in urns
            if not isinstance(u, str) or rt.schema_by_urn(u) is not None
            or u.lower() in with_data]
    return {**doc, "schemas": kept}


# The order matters: URNs and names are made canonical before the rules that look them up.
RESOURCE_RULES: tuple[Rule, ...] = (
    map_legacy_urns,
    canonicalize_attribute_names,
    drop_meta,
    drop_user_groups,
    wrap_bare_manager,
    drop_unset_values,
    drop_valueless_multi_values,
    coerce_boolean_strings,
    drop_dataless_extension_urns,
)


def normalize_resource(rt: ResourceType, body: Any) -> dict[str, Any]:
    """A POST/PUT body with every client quirk above rewritten; not yet validated."""
    doc = dict(require_object(body))
    for rule in RESOURCE_RULES:
        doc = rule(rt, doc)
    return doc
