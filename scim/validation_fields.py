"""marshmallow schemas generated from the RFC 7643 definitions in `scim.schemas`.

One field class per SCIM data type (RFC 7643 §2.3), strict about JSON types (quirks were
normalised before), keeping the JSON value as it came so that the stored document is JSON.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from scim.schemas import GROUP_URN, Attribute
from scim.schemas import Schema as ScimSchema


class _Typed(fields.Field):
    """A field accepting JSON values for which `accepts` holds, returned unchanged."""

    accepts: Callable[[Any], bool] = staticmethod(lambda value: True)
    expected = "value"

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not self.accepts(value):
            raise ValidationError(f"Not a valid {self.expected}.")
        return value

    def _validate(self, value: Any) -> None:
        if self.validators:  # marshmallow builds an `And` of none for every value otherwise
            super()._validate(value)


class Boolean(_Typed):
    """RFC 7643 §2.3.2: JSON true or false (not 1, not "yes")."""

    accepts = staticmethod(lambda value: isinstance(value, bool))
    expected = "boolean"


class Integer(_Typed):
    """RFC 7643 §2.3.4: a whole number, no fractional part or exponent."""

    accepts = staticmethod(lambda value: isinstance(value, int) and not isinstance(value, bool))
    expected = "integer"


class Decimal(_Typed):
    """RFC 7643 §2.3.3: a real number (JSON number)."""

    accepts = staticmethod(
        lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    )
    expected = "decimal"


class String(_Typed):
    """RFC 7643 §2.3.1 string and §2.3.7 reference (a URI, kept as written)."""

    accepts = staticmethod(lambda value: isinstance(value, str))
    expected = "string"


class DateTime(String):
    """RFC 7643 §2.3.5: an xsd:dateTime, e.g. 2008-01-23T04:56:22Z; the string is kept."""

    expected = "dateTime (ISO 8601, e.g. 2008-01-23T04:56:22Z)"

    @staticmethod
    def accepts(value: Any) -> bool:
        if not isinstance(value, str) or "T" not in value.upper():
            return False
        try:
            datetime.fromisoformat(value)
        except ValueError:
            return False
        return True


class Binary(String):
    """RFC 7643 §2.3.6: base64-encoded bytes (RFC 4648 §4)."""

    expected = "base64 binary"

    @staticmethod
    def accepts(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return False
        return True


class CanonicalString(String):
    """A string that must be one of `choices`, any case, stored in canonical case."""

    def __init__(self, choices: tuple[str, ...], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = {c.lower(): c for c in choices}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        value = super()._deserialize(value, attr, data, **kwargs)
        if value.lower() not in self.choices:
            raise ValidationError(f"Must be one of {', '.join(self.choices.values())}.")
        return self.choices[value.lower()]


class MultiValued(fields.List):
    """RFC 7643 §2.4: a JSON array; one value given alone is read as a one-element array."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return super()._deserialize(value if isinstance(value, list) else [value], attr, data,
                                    **kwargs)

    def _validate(self, value: Any) -> None:
        if self.validators:  # as in _Typed
            super()._validate(value)


_SIMPLE: dict[str, type[fields.Field]] = {
    "string": String,
    "reference": String,
    "boolean": Boolean,
    "integer": Integer,
    "decimal": Decimal,
    "dateTime": DateTime,
    "binary": Binary,
}

# Where the RFC's definitions are looser than what this server must hold (RFC 7643 §4.2):
# a member is identified by `value`, and the store keeps members as Users or Groups.
REQUIRED_SUBS: frozenset[tuple[str, str, str]] = frozenset({(GROUP_URN, "members", "value")})
ENFORCED_CANONICAL: frozenset[tuple[str, str, str]] = frozenset({(GROUP_URN, "members", "type")})


def not_blank(value: Any) -> None:
    """RFC 7643 §2.2: a required attribute must carry a value; blank strings carry none."""
    if isinstance(value, str) and not value.strip():
        raise ValidationError("Must not be empty.")


def at_most_one_primary(values: list[Any]) -> None:
    """RFC 7643 §2.4: the primary attribute value "true" MUST appear no more than once."""
    if sum(1 for v in values if isinstance(v, dict) and v.get("primary") is True) > 1:
        raise ValidationError("At most one value may have primary true (RFC 7643 §2.4).")


def field_for(schema_id: str, attr: Attribute, parent: str | None = None) -> fields.Field:
    """The marshmallow field checking one attribute (with its sub-attributes) as defined."""
    key = (schema_id, parent, attr.name) if parent else None
    required = attr.required or key in REQUIRED_SUBS
    kw: dict[str, Any] = {}
    if not attr.multi_valued:
        kw = {"required": required, "validate": [not_blank] if required else []}
    field: fields.Field
    if attr.type == "complex":
        field = fields.Nested(complex_schema(schema_id, attr)(unknown=EXCLUDE), **kw)
    elif key in ENFORCED_CANONICAL:
        field = CanonicalString(attr.canonical_values, **kw)
    else:
        field = _SIMPLE.get(attr.type, String)(**kw)
    if not attr.multi_valued:
        return field
    list_validators = [at_most_one_primary] if attr.sub("primary") else []
    return MultiValued(field, required=required, validate=list_validators)


@cache
def complex_schema(schema_id: str, attr: Attribute) -> type[Schema]:
    """The marshmallow schema of a complex attribute's sub-attributes."""
    subs = {s.name: field_for(schema_id, s, attr.name) for s in attr.sub_attributes}
    return Schema.from_dict(subs, name=f"{attr.name}Schema")


@cache
def resource_schema(schema: ScimSchema) -> type[Schema]:
    """The marshmallow schema of one SCIM schema's attributes (core or extension)."""
    attrs = {a.name: field_for(schema.id, a) for a in schema.attributes}
    return Schema.from_dict(attrs, name=f"{schema.name}Schema")


def error_text(messages: Any, prefix: str = "") -> str:
    """The first marshmallow error as `attribute.sub: message`, indices left out."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = prefix if isinstance(key, int) or key == "_schema" else _join(prefix, key)
            return error_text(value, name)
    if isinstance(messages, list) and messages:
        return error_text(messages[0], prefix)
    return f"{prefix}: {messages}" if prefix else str(messages)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}{key}" if not prefix or prefix.endswith(":") else f"{prefix}.{key}"
