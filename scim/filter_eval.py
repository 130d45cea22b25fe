"""In-memory filter evaluation (RFC 7644 §3.4.2.2), with the index's normalising rules.

`matches(node, element)` tests one value of a multi-valued attribute against the filter of a
value path (`emails[type eq "work"]` in a PATCH path, RFC 7644 §3.5.2): the node's paths name
sub-attributes of that attribute. `matches_resource(node, resource)` tests a whole resource
(the same semantics as `scim.query.where_clause`, used to cross-check it).

Strings compare in lower case unless caseExact (RFC 7643 §2.2); dateTimes as instants; a
multi-valued attribute matches when any value does; `ne` is "no value is equal", so an absent
attribute is `ne` anything.
"""

from __future__ import annotations

from typing import Any

from scim.filter_ast import (
    And,
    Compare,
    Node,
    Not,
    Or,
    Present,
    ValuePath,
    is_extension,
)
from scim.index import Leaf, canonical_datetime, clip, fold, normalise
from scim.schemas import Attribute, ResolvedPath


def matches(node: Node, element: Any) -> bool:
    """True when `element` (one value of a value path's attribute) satisfies `node`."""
    return _evaluate(node, lambda path: _element_values(path, element))


def matches_resource(node: Node, resource: dict[str, Any]) -> bool:
    """True when the whole `resource` satisfies `node` (RFC 7644 §3.4.2.2)."""
    return _evaluate(node, lambda path: _resource_values(path, resource), resource)


def _evaluate(node: Node, values: Any, resource: dict[str, Any] | None = None) -> bool:
    if isinstance(node, And):
        return all(_evaluate(item, values, resource) for item in node.items)
    if isinstance(node, Or):
        return any(_evaluate(item, values, resource) for item in node.items)
    if isinstance(node, Not):
        return not _evaluate(node.node, values, resource)
    if isinstance(node, Present):
        return any(_present(node.path, v) for v in values(node.path))
    if isinstance(node, Compare):
        return _compare(node, values(node.path))
    if isinstance(node, ValuePath):
        elements = _resource_values(node.attr, resource or {})
        return any(matches(node.filter, element) for element in elements)
    raise TypeError(f"not a filter node: {node!r}")


def _compare(node: Compare, found: list[Any]) -> bool:
    if node.value is None:  # `eq null` is unassigned, `ne null` present
        present = any(_present(node.path, v) for v in found)
        return present if node.op == "ne" else not present
    if node.op == "ne":
        return not _compare(Compare(node.path, "eq", node.value), found)
    target = node.path.target
    expected = operand(target, node.op, node.value)
    for value in found:
        actual = normalise(target, value)
        if actual is not None and _holds(node.op, actual, expected):
            return True
    return False


def operand(attribute: Attribute, op: str, value: Any) -> Leaf:
    """A checked filter value in the index's form (see `scim.index`)."""
    if isinstance(value, bool):
        return Leaf(value_bool=value)
    if isinstance(value, (int, float)):
        return Leaf(value_num=float(value))
    text = str(value)
    if attribute.type == "dateTime" and op not in ("co", "sw", "ew"):
        return Leaf(value_str=canonical_datetime(text))
    if attribute.type == "dateTime":
        return Leaf(value_str=text)  # substring of the stored canonical text, as given
    return Leaf(value_str=clip(fold(attribute, text)))


def _holds(op: str, actual: Leaf, expected: Leaf) -> bool:
    if expected.value_bool is not None or actual.value_bool is not None:
        return op == "eq" and actual.value_bool == expected.value_bool
    left: Any = actual.value_num if expected.value_num is not None else actual.value_str
    right: Any = expected.value_num if expected.value_num is not None else expected.value_str
    if left is None or right is None:
        return False
    if op == "eq":
        return bool(left == right)
    if op == "co":
        return str(right) in str(left)
    if op == "sw":
        return str(left).startswith(str(right))
    if op == "ew":
        return str(left).endswith(str(right))
    return {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]


def _present(path: ResolvedPath, value: Any) -> bool:
    """RFC 7644 §3.4.2.2 pr: a non-empty value; for a complex value, a non-empty sub-value."""
    if path.target.type == "complex" and isinstance(value, dict):
        return any(
            sub is not None and normalise(sub, v) is not None
            for sub, v in ((path.attribute.sub(k), v) for k, v in value.items())
        )
    return normalise(path.target, value) is not None


def _get(container: Any, name: str) -> Any:
    """`container[name]` with the name in any letter case (RFC 7643 §2.1)."""
    if not isinstance(container, dict):
        return None
    if name in container:
        return container[name]
    lowered = name.lower()
    return next((v for k, v in container.items() if k.lower() == lowered), None)


def _element_values(path: ResolvedPath, element: Any) -> list[Any]:
    if path.sub_attribute is None:
        return [element]
    if not isinstance(element, dict):  # a bare value stands for {"value": …}
        return [element] if path.sub_attribute.name == "value" else []
    return [_get(element, path.sub_attribute.name)]


def _resource_values(path: ResolvedPath, resource: dict[str, Any]) -> list[Any]:
    container = _get(resource, path.schema.id) if path.schema and is_extension(path) else resource
    value = _get(container, path.attribute.name)
    items = value if isinstance(value, list) else [] if value is None else [value]
    if path.sub_attribute is None:
        return items
    return [v for item in items for v in _element_values(path, item)]
