"""The filter tree every consumer reads: frozen nodes with resolved attribute paths.

A node's paths are resolved against a ResourceType (RFC 7644 §3.10), so names are canonical.
Inside a `ValuePath`, the paths of the inner filter name sub-attributes of `ValuePath.attr`
(RFC 7644 §3.4.2.2 valuePath); `Compare.value` is the decoded JSON literal, not normalised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from scim.schemas import Attribute, ResolvedPath, ResourceType

COMPARE_OPS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
ORDER_OPS = frozenset({"gt", "ge", "lt", "le"})
SUBSTRING_OPS = frozenset({"co", "sw", "ew"})

# RFC 7643 §3: "schemas" is on every resource but not in any schema definition; RFC 7644
# §3.4.2.2 filters on it (`schemas eq "urn:…:enterprise:2.0:User"`). URIs compare ignoring case.
SCHEMAS_ATTRIBUTE = Attribute(
    name="schemas", type="reference", multi_valued=True, required=True, reference_types=("uri",)
)

# RFC 7644 §3.4.2.2: JSON literal types a comparison value may have.
Value: TypeAlias = str | int | float | bool | None


@dataclass(frozen=True)
class Compare:
    """`path op value` for op in eq, ne, co, sw, ew, gt, ge, lt, le (lower case)."""

    path: ResolvedPath
    op: str
    value: Value


@dataclass(frozen=True)
class Present:
    """`path pr`: the attribute has a non-empty value (for a complex one, any sub-attribute)."""

    path: ResolvedPath


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class ValuePath:
    """`attr[filter]`: one value of `attr` must satisfy the whole filter (RFC 7644 §3.4.2.2)."""

    attr: ResolvedPath
    filter: Node


Node: TypeAlias = Compare | Present | And | Or | Not | ValuePath


def resolve(resource_type: ResourceType, text: str) -> ResolvedPath | None:
    """`ResourceType.resolve` plus the `schemas` attribute every resource carries."""
    found = resource_type.resolve(text)
    if found is None and text.lower() == "schemas":
        return ResolvedPath(None, SCHEMAS_ATTRIBUTE)
    return found


def attribute_level(path: ResolvedPath) -> ResolvedPath:
    """The path without its sub-attribute (`emails.value` → `emails`)."""
    return ResolvedPath(path.schema, path.attribute)


def with_sub(path: ResolvedPath, sub: Attribute) -> ResolvedPath:
    return ResolvedPath(path.schema, path.attribute, sub)


def is_extension(path: ResolvedPath) -> bool:
    """True when the attribute lives under its schema URN in the resource (RFC 7643 §3.3)."""
    return path.canonical.lower().startswith("urn:")
