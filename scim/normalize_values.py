"""Value-level client quirks, applied to one attribute's value wherever it appears.

Resource bodies (POST/PUT) and PATCH values share these rules, so a quirk accepted in one is
accepted in the other. Each rule cites where the quirk is documented (scim-clients.md names
the client documentation it summarises).
"""

from __future__ import annotations

from typing import Any

from scim.normalize_names import canonical_extension, canonical_value
from scim.schemas import Attribute, Schema


def is_unset(value: Any) -> bool:
    """RFC 7643 §2.5: null is "unassigned"; OneLogin sends "" for unset values (scim-clients.md);
    a complex value with nothing left in it is unassigned too."""
    return value is None or value == "" or value == {}


def drop_unset(value: Any) -> Any:
    """Recursively drop null and "" members and elements, and objects left empty.

    Covers OneLogin's `"id": null` and `""`, and Entra's `{"$ref": null, "value": …}` member
    elements (Entra docs via scim-clients.md). Empty arrays stay: `"members": []` in a PUT
    is how a client clears a multi-valued attribute (RFC 7644 §3.5.1).
    """
    if isinstance(value, dict):
        cleaned = {k: drop_unset(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if not is_unset(v)}
    if isinstance(value, list):
        cleaned_items = [drop_unset(v) for v in value]
        return [v for v in cleaned_items if not is_unset(v)]
    return value


def coerce_boolean(attr: Attribute, value: Any) -> Any:
    """"true"/"false" in any case → JSON booleans for boolean attributes.

    OneLogin templates send `"active": "true"` and Entra disables with `"value": "False"`
    (scim-clients.md); RFC 7643 §2.3.2 wants a JSON boolean, which is what we store.
    """
    if attr.type == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if isinstance(value, list):
            return [coerce_boolean(attr, v) for v in value]
        return value
    if attr.type != "complex":
        return value
    if isinstance(value, list):
        return [_coerce_subs(attr, v) for v in value]
    return _coerce_subs(attr, value)


def _coerce_subs(attr: Attribute, value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for key, item in value.items():
        sub = attr.sub(key)
        if sub is not None:
            out[key] = coerce_boolean(sub, item)
    return out


def wrap_bare_value(attr: Attribute, value: Any) -> Any:
    """A bare string for a single-valued complex attribute with a `value` sub-attribute →
    `{"value": …}`: Entra sends the enterprise `manager` as the manager's id (Entra docs
    via scim-clients.md); RFC 7643 §4.3 defines manager as complex."""
    complex_single = attr.type == "complex" and not attr.multi_valued
    if complex_single and isinstance(value, str) and attr.sub("value") is not None:
        return {"value": value}
    return value


def drop_valueless_elements(attr: Attribute, value: Any) -> Any:
    """Elements of a multi-valued attribute whose `value` is unset are dropped when nothing but
    qualifiers (type, primary, display: RFC 7643 §2.4) is left: OneLogin sends
    `{"value": "", "type": "work"}` for a phone number it does not have (scim-clients.md)."""
    if not (attr.multi_valued and attr.sub("value") and isinstance(value, list)):
        return value
    qualifiers = {"type", "primary", "display"}
    return [v for v in value
            if not isinstance(v, dict) or "value" in v or not set(v) <= qualifiers]


def normalize_value(attr: Attribute, value: Any) -> Any:
    """All value rules for one attribute's value (a whole value, or a whole list)."""
    value = drop_unset(canonical_value(attr, wrap_bare_value(attr, value)))
    return coerce_boolean(attr, drop_valueless_elements(attr, value))


def normalize_element(attr: Attribute, value: Any) -> Any:
    """All value rules for one element of a multi-valued attribute."""
    if attr.type != "complex" or not isinstance(value, dict):
        return coerce_boolean(attr, drop_unset(value))
    return _coerce_subs(attr, drop_unset(canonical_value(attr, value)))


def normalize_extension(schema: Schema, data: Any) -> Any:
    """All value rules for an extension object (e.g. the enterprise extension).

    A `schemas` member inside it is dropped: scim2_models (hence scim2-tester) dumps an
    extension object given as a PATCH value with its own `schemas`, which RFC 7643 §3 only
    defines at the top of a resource.
    """
    data = canonical_extension(schema, data)
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key.lower() == "schemas":
            continue
        attr = schema.attribute(key)
        out[key] = drop_unset(value) if attr is None else normalize_value(attr, value)
    return {k: v for k, v in out.items() if not is_unset(v)}
