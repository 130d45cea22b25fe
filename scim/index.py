"""Search-index rows (`webapp.models.ScimAttr`) for a stored SCIM resource, and value normalising.

`index_rows(USER, resource)` returns one dict per leaf value, with every ScimAttr column except
the surrogate `id`: `resource_type`, `resource_id` (the resource's `id`), `path`, `elem`,
`value_str`, `value_num`, `value_bool` — ready for `insert(ScimAttr)` with a list of dicts.

Normalising (the filter side uses the same functions, so a filter operand and a stored value
always compare like with like):
- strings, references and binaries: lower-cased unless the attribute is caseExact (RFC 7643
  §2.2), then clipped to `MAX_CHARS` characters and `MAX_BYTES` UTF-8 bytes (a btree key must
  stay under PostgreSQL's ~2.7 kB). A filter on a longer value therefore sees only its first
  1,024 characters: `eq` compares those prefixes (two values that differ only after them are
  equal to a filter) and `co`/`ew` only find text inside them.
- dateTime: UTC, fixed width (`2011-05-13T04:42:34.000000Z`), so text order is time order
  (RFC 7644 §3.4.2.2 compares dateTime chronologically). Naive times are taken as UTC; a value
  that does not parse is kept as text.
- integer and decimal in `value_num`, boolean in `value_bool` ("true"/"false" strings accepted).
- null, "" and empty lists are unassigned (RFC 7643 §2.5): no row, so `pr` is false for them.

Not indexed: `members` (the Membership table), the User's `groups` (derived from Membership) and
anything returned "never" (`password`). Complex singular attributes (`name.*`, `meta.*`) get
elem 0; each element of a multi-valued attribute its position in the list.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from scim.filter_ast import SCHEMAS_ATTRIBUTE, resolve
from scim.schemas import Attribute, ResolvedPath, ResourceType

MAX_CHARS = 1024  # ScimAttr.value_str is String(1024)
MAX_BYTES = 2000
NOT_INDEXED = frozenset({"members", "groups"})
NUMBER_TYPES = frozenset({"integer", "decimal"})
PLAIN_TEXT_TYPES = frozenset({"string", "reference", "binary"})  # compared as (folded) text


class Leaf(NamedTuple):
    """A normalised value: exactly one of the three is set (a tuple: a user's index makes
    35 of them, a quarter the cost of frozen dataclasses)."""

    value_str: str | None = None
    value_num: float | None = None
    value_bool: bool | None = None


def canonical_datetime(text: str) -> str:
    """RFC 7643 §2.3.5 xsd:dateTime → fixed-width UTC text; ValueError if it is not one."""
    moment = datetime.fromisoformat(text.strip())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    m = moment.astimezone(UTC)
    return (
        f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}"
        f".{m.microsecond:06d}Z"
    )


def clip(text: str) -> str:
    """What of a string fits the index column (see the module docstring)."""
    text = text[:MAX_CHARS]
    # A character is at most 4 UTF-8 bytes: short strings (nearly all) skip the encoding.
    if len(text) * 4 > MAX_BYTES and len(text.encode("utf-8")) > MAX_BYTES:
        text = text.encode("utf-8")[:MAX_BYTES].decode("utf-8", "ignore")
    return text


def to_bool(value: Any) -> bool | None:
    """A JSON boolean, or the strings "true"/"false" some clients send (Entra's "False")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def fold(attribute: Attribute, text: str) -> str:
    """RFC 7643 §2.2 caseExact: strings that are not case-exact compare in lower case."""
    return text if attribute.case_exact else text.lower()


def normalise(attribute: Attribute, value: Any) -> Leaf | None:
    """The index form of one simple value of `attribute`, or None when it is unassigned."""
    if type(value) is str and value and attribute.type in PLAIN_TEXT_TYPES:  # most values
        return Leaf(clip(fold(attribute, value)))
    if value is None or value == "" or isinstance(value, (dict, list)):
        return None
    kind = attribute.type
    if kind == "boolean":
        flag = to_bool(value)
        return None if flag is None else Leaf(value_bool=flag)
    if kind in NUMBER_TYPES:
        return _number(value)
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = value if isinstance(value, str) else str(value)
    if kind == "dateTime":
        try:
            return Leaf(value_str=canonical_datetime(text))
        except ValueError:
            pass
    return Leaf(value_str=clip(fold(attribute, text)))


def _number(value: Any) -> Leaf | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int past 1e308
        return None
    # "NaN" or "inf" as a string: no order to filter by, and not JSON for the index insert
    return Leaf(value_num=number) if math.isfinite(number) else None


def index_rows(resource_type: ResourceType, resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The ScimAttr rows for `resource` (the SCIM JSON as the server returns it)."""
    owner = {"resource_type": resource_type.name, "resource_id": resource.get("id"),
             **_NO_VALUE}
    return [{**owner, **leaf} for leaf in leaves(resource_type, resource)]


def leaves(resource_type: ResourceType, resource: dict[str, Any]) -> list[dict[str, Any]]:
    """index_rows without the owner columns and with only the value column that is set:
    the short form PostgreSQL receives as JSON (scim.store.PG_INDEX_FROM_JSON)."""
    rows: list[dict[str, Any]] = []
    for key, value in resource.items():
        for path, found in _attributes(resource_type, key, value):
            _attribute_rows(path, found, rows)
    return rows


_NO_VALUE: dict[str, Any] = {"value_str": None, "value_num": None, "value_bool": None}


def _attributes(
    resource_type: ResourceType, key: str, value: Any
) -> list[tuple[ResolvedPath, Any]]:
    """(path, value) for a top-level key: an attribute, or an extension's attributes."""
    extension = resource_type.schema_by_urn(key) if key.lower().startswith("urn:") else None
    if extension is not None and extension is not resource_type.core:
        if not isinstance(value, dict):
            return []
        found = ((resource_type.resolve(f"{extension.id}:{k}"), v) for k, v in value.items())
        return [(p, v) for p, v in found if p is not None and p.sub_attribute is None]
    path = resolve(resource_type, key)
    if path is None or path.sub_attribute is not None:
        return []
    return [(path, value)]


def _attribute_rows(path: ResolvedPath, value: Any, rows: list[dict[str, Any]]) -> None:
    """Append the rows of one attribute's value to `rows`."""
    attribute = path.attribute
    if attribute.name.lower() in NOT_INDEXED or attribute.returned == "never":
        return
    base = path.canonical.lower()
    values = value if attribute.multi_valued and isinstance(value, list) else (value,)
    for elem, item in enumerate(values):
        if attribute.type == "complex":
            _element_rows(attribute, base, elem, item, rows)
        else:
            _add_row(rows, base, elem, normalise(attribute, item))


def _element_rows(attribute: Attribute, base: str, elem: int, item: Any,
                  rows: list[dict[str, Any]]) -> None:
    """Rows for one value of a complex attribute: one per sub-attribute that has a value."""
    if not isinstance(item, dict):
        # A bare value where an object belongs (e.g. Entra's manager string): its "value".
        item = {"value": item} if attribute.sub("value") is not None else {}
    for key, sub_value in item.items():
        sub = attribute.sub(key)
        if sub is not None:
            _add_row(rows, _sub_path(base, sub.name), elem, normalise(sub, sub_value))


@lru_cache(maxsize=4096)  # schema-defined names only: `sub` found the sub-attribute
def _sub_path(base: str, sub_name: str) -> str:
    return f"{base}.{sub_name.lower()}"


def _add_row(rows: list[dict[str, Any]], path: str, elem: int, leaf: Leaf | None) -> None:
    if leaf is None:
        return
    if leaf.value_str is not None:
        rows.append({"path": path, "elem": elem, "value_str": leaf.value_str})
    elif leaf.value_num is not None:
        rows.append({"path": path, "elem": elem, "value_num": leaf.value_num})
    else:
        rows.append({"path": path, "elem": elem, "value_bool": leaf.value_bool})


__all__ = [
    "MAX_CHARS",
    "SCHEMAS_ATTRIBUTE",
    "Leaf",
    "canonical_datetime",
    "clip",
    "fold",
    "index_rows",
    "leaves",
    "normalise",
    "to_bool",
]
