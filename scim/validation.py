"""Validation of a normalised resource document (RFC 7643) into the document to store.

    validated = validate_resource(USER, normalize_resource(USER, body), existing=current)
    validated.doc        # clean document: schemas, (id when replacing), attributes, extensions
    validated.password   # the writeOnly password, kept apart (never stored in the document)
    validated.ignored    # attribute names that were dropped as unknown (for logging)

Types come from marshmallow schemas generated from `scim.schemas` (validation_fields.py), so
what /Schemas publishes is what is enforced. Every failure is a `ScimError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from marshmallow import EXCLUDE, ValidationError

from scim.errors import InvalidValue, Mutability
from scim.normalize_names import canonicalize_names, extension_schema, is_urn, require_object
from scim.normalize_values import drop_unset
from scim.schemas import COMMON_ATTRIBUTES, Attribute, ResourceType, Schema
from scim.validation_fields import error_text, resource_schema


@dataclass(frozen=True)
class ValidatedResource:
    doc: dict[str, Any]
    password: str | None = None
    ignored: tuple[str, ...] = ()


def validate_resource(
    rt: ResourceType, doc: dict[str, Any], *, existing: dict[str, Any] | None = None,
    normalized: bool = False,
) -> ValidatedResource:
    """Check `doc` against the resource type; `existing` is the current resource (with `id`)
    on PUT/PATCH, None on POST. Returns the document to store and the password apart.

    `normalized` says `doc` is normalize_resource's output, whose names are canonical and
    unset values gone already (tests/test_scim_normalize_samples.py holds it to that)."""
    if not normalized:
        # Names in canonical case and null/"" as unset (RFC 7643 §2.1, §2.5), so that a
        # document that did not come through normalize_resource is read alike.
        doc = drop_unset(canonicalize_names(rt, require_object(doc, "resource")))
    _check_schemas(rt, doc.get("schemas"))
    _check_id(doc.get("id"), existing)
    password = _take_password(rt, doc)
    ignored: list[str] = []
    out: dict[str, Any] = {"schemas": [rt.core.id]}
    if existing is not None and existing.get("id") is not None:
        out["id"] = existing["id"]
    core_data = {k: v for k, v in doc.items() if k != "schemas" and not is_urn(k)}
    out.update(_load(core_definition(rt), core_data, "", ignored))
    for key, value in doc.items():
        if is_urn(key):
            _add_extension(rt, out, key, value, ignored)
    if existing is not None:
        _check_immutable(rt, out, existing)
    return ValidatedResource(out, password, tuple(ignored))


@cache
def core_definition(rt: ResourceType) -> Schema:
    """The core schema with the common attributes (RFC 7643 §3.1: id, externalId, meta)."""
    core = rt.core
    return Schema(core.id, core.name, core.description, COMMON_ATTRIBUTES + core.attributes)


def _check_schemas(rt: ResourceType, urns: Any) -> None:
    """RFC 7643 §3: `schemas` is REQUIRED and names the core schema. Its absence is a missing
    required value, which RFC 7644 §3.12 calls invalidValue."""
    names = {u.lower() for u in urns if isinstance(u, str)} if isinstance(urns, list) else set()
    if rt.core.id.lower() not in names:
        raise InvalidValue(f"'schemas' must be an array containing {rt.core.id}")


def _check_id(given: Any, existing: dict[str, Any] | None) -> None:
    """RFC 7643 §3.1: `id` is "stable, non-reassignable". On POST a client's id is readOnly
    input and ignored (§7); on PUT/PATCH the same id may be resent (Okta, authentik per
    scim-clients.md), a different one is refused (scimType mutability, RFC 7644 §3.12)."""
    if existing is not None and given is not None and given != existing.get("id"):
        raise Mutability("'id' cannot be changed")


def _take_password(rt: ResourceType, doc: dict[str, Any]) -> str | None:
    """`password` is writeOnly and returned never (RFC 7643 §4.1.1): kept apart, not stored
    in the document."""
    if rt.core.attribute("password") is None or "password" not in doc:
        return None
    password = doc.pop("password")
    if not isinstance(password, str):
        raise InvalidValue("password: Not a valid string.")
    return password


def _load(schema: Schema, data: dict[str, Any], prefix: str, ignored: list[str]
          ) -> dict[str, Any]:
    writable = _writable(schema.attribute, data, prefix, ignored)
    try:
        loaded: dict[str, Any] = _loader(schema).load(writable)
    except ValidationError as exc:
        raise InvalidValue(error_text(exc.messages, prefix)) from exc
    return loaded


@cache
def _loader(schema: Schema) -> Any:
    """One marshmallow schema instance per SCIM schema: building one costs 0.3 ms, and
    load() keeps no state between calls."""
    return resource_schema(schema)(unknown=EXCLUDE)


def _writable(lookup: Callable[[str], Attribute | None], data: dict[str, Any], prefix: str,
              ignored: list[str]) -> dict[str, Any]:
    """`data` without readOnly attributes (RFC 7643 §7: "SHALL be ignored") and unknown ones.

    Unknown attributes are dropped, not refused: Entra's and Okta's attribute-mapping editors
    let an admin target any attribute name, and a refusal would fail every provisioning cycle
    of those users over an attribute this server cannot store anyway; scim2-tester only sends
    attributes /Schemas publishes, so it passes either way. The dropped names are returned in
    `ignored` so the caller can log them. Unknown *extensions* are kept (see _add_extension).
    """
    out: dict[str, Any] = {}
    for key, value in data.items():
        attr = lookup(key)
        if attr is None:
            ignored.append(f"{prefix}{key}")
        elif attr.mutability != "readOnly":
            kept = _writable_value(attr, value, prefix, ignored)
            if kept != {} or value == {}:  # a complex value that held only dropped parts
                out[key] = kept
    return out


def _writable_value(attr: Attribute, value: Any, prefix: str, ignored: list[str]) -> Any:
    if attr.type != "complex":
        return value
    inner = f"{prefix}{attr.name}."
    if isinstance(value, dict):
        return _writable(attr.sub, value, inner, ignored)
    if isinstance(value, list):
        return [_writable(attr.sub, v, inner, ignored) if isinstance(v, dict) else v
                for v in value]
    return value


def _add_extension(rt: ResourceType, out: dict[str, Any], urn: str, data: Any,
                   ignored: list[str]) -> None:
    """Extension data lives under its URN as a JSON object (RFC 7643 §3.3); its URN is added
    to `schemas`. Unknown extensions are stored as sent: the store keeps them for mappings."""
    if urn.lower() == rt.core.id.lower():
        ignored.append(urn)  # core attributes belong at the top level (RFC 7643 §3)
        return
    if not isinstance(data, dict):
        raise InvalidValue(f"{urn}: extension data must be a JSON object")
    schema = extension_schema(rt, urn)
    loaded = data if schema is None else _load(schema, data, f"{urn}:", ignored)
    if loaded:
        out[urn] = loaded
        out["schemas"].append(urn)


def _check_immutable(rt: ResourceType, new: dict[str, Any], existing: dict[str, Any]) -> None:
    """RFC 7644 §3.5.1: an immutable attribute already set must be resent unchanged, else 400
    mutability; left out, it keeps its value. Sub-attributes of multi-valued attributes
    (e.g. members.value) are not checked: elements have no identity apart from their values,
    so a new list adds and removes elements instead of changing one."""
    _immutable_attrs(core_definition(rt).attributes, new, existing, "")
    for schema in rt.extensions:
        part = dict(new.get(schema.id) or {})
        _immutable_attrs(schema.attributes, part, existing.get(schema.id), f"{schema.id}:")
        if part:
            new[schema.id] = part
            if schema.id not in new["schemas"]:
                new["schemas"].append(schema.id)


def _immutable_attrs(attrs: tuple[Attribute, ...], new: dict[str, Any], old: Any, prefix: str
                     ) -> None:
    if not isinstance(old, dict):
        return
    for attr in attrs:
        before, after = old.get(attr.name), new.get(attr.name)
        if attr.mutability == "immutable" and before is not None:
            if after is None:
                new[attr.name] = before
            elif after != before:
                raise Mutability(f"{prefix}{attr.name}: immutable, cannot be changed")
        elif attr.type == "complex" and not attr.multi_valued and isinstance(after, dict):
            _immutable_attrs(attr.sub_attributes, after, before, f"{prefix}{attr.name}.")
