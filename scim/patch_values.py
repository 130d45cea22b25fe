"""Multi-valued attributes while a PATCH edits them (RFC 7644 §3.5.2).

`Values` keeps the values as a list; `KeyedValues` keeps Group `members` keyed by `value`
(members are equal when their values are, RFC 7643 §4.2), so adding or removing one member of
10,000 is a dictionary operation, not a scan. `editing()` wraps a change with the checks that
concern the attribute as a whole: its mutability and RFC 7643 §2.4 `primary`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from scim.errors import InvalidValue, Mutability
from scim.filter_ast import Compare, Node
from scim.filter_eval import matches
from scim.index import fold
from scim.schemas import Attribute


def clone(value: Any) -> Any:
    """A deep copy of JSON-like data (faster than copy.deepcopy for large member lists)."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    return value


def identity(attribute: Attribute, element: Any) -> Hashable:
    """When two values of a multi-valued attribute are the same value (RFC 7644 §3.5.2.1)."""
    if not isinstance(element, dict):
        return fold(attribute, element) if isinstance(element, str) else element
    parts = []
    for key, value in element.items():
        sub = attribute.sub(key)
        if sub is not None and isinstance(value, str):
            value = fold(sub, value)
        parts.append((key.lower(), value if isinstance(value, Hashable) else repr(value)))
    return tuple(sorted(parts, key=repr))


class Values:
    """A multi-valued attribute as a list."""

    def __init__(self, attribute: Attribute, items: list[Any]) -> None:
        self.attribute = attribute
        self.items: list[Any] = []
        self.set_all(items)

    def elements(self) -> list[Any]:
        return self.items

    def add(self, element: Any) -> None:
        key = identity(self.attribute, element)
        if all(identity(self.attribute, e) != key for e in self.items):
            self.items.append(element)

    def set_all(self, elements: list[Any]) -> None:
        self.items = []
        for element in elements:
            self.add(element)

    def select(self, node: Node) -> list[Any]:
        return [e for e in self.elements() if matches(node, e)]

    def remove(self, chosen: list[Any]) -> None:
        gone = {id(e) for e in chosen}
        self.items = [e for e in self.items if id(e) not in gone]

    def replace(self, old: Any, new: Any) -> None:
        index = next(i for i, e in enumerate(self.items) if e is old)
        self.items[index] = new

    def equal_to(self, others: list[Any]) -> list[Any]:
        """The values equal to one of `others`."""
        keys = {identity(self.attribute, e) for e in others}
        return [e for e in self.items if identity(self.attribute, e) in keys]


class KeyedValues(Values):
    """Values identified by their `value` sub-attribute (Group members, RFC 7643 §4.2)."""

    def __init__(self, attribute: Attribute, items: list[Any]) -> None:
        self.by_key: dict[Hashable, Any] = {}
        super().__init__(attribute, items)

    def elements(self) -> list[Any]:
        return list(self.by_key.values())

    def add(self, element: Any) -> None:
        self.by_key.setdefault(self._key(element), element)

    def set_all(self, elements: list[Any]) -> None:
        self.by_key = {}
        for element in elements:
            self.add(element)

    def select(self, node: Node) -> list[Any]:
        wanted = _value_eq(node)
        if wanted is None:
            return super().select(node)
        found = self.by_key.get(wanted)
        return [found] if found is not None else []

    def remove(self, chosen: list[Any]) -> None:
        for element in chosen:
            self.by_key.pop(self._key(element), None)

    def replace(self, old: Any, new: Any) -> None:
        self.by_key.pop(self._key(old), None)
        self.add(new)

    def equal_to(self, others: list[Any]) -> list[Any]:
        found = (self.by_key.get(self._key(e)) for e in others)
        return [e for e in found if e is not None]

    @staticmethod
    def _key(element: Any) -> Hashable:
        value = element.get("value") if isinstance(element, dict) else element
        return value if isinstance(value, Hashable) else repr(value)


def _value_eq(node: Node) -> str | None:
    """`value eq "x"` on a caseExact value: answered by a dictionary lookup."""
    sub = node.path.sub_attribute if isinstance(node, Compare) else None
    if sub is None or sub.name != "value" or not sub.case_exact:
        return None
    assert isinstance(node, Compare)
    return node.value if node.op == "eq" and isinstance(node.value, str) else None


@contextmanager
def editing(values: Values, where: str) -> Iterator[Values]:
    """Mutability of a multi-valued attribute as a whole, and RFC 7643 §2.4 primary: a value
    newly made primary clears `primary` on the others; two new primaries are an error."""
    attribute = values.attribute
    frozen = attribute.mutability in ("readOnly", "immutable")
    before = clone(values.elements()) if frozen else None
    has_primary = attribute.sub("primary") is not None
    primaries = [e for e in values.elements() if _primary(e)] if has_primary else []
    yield values
    if frozen and values.elements() != before and (attribute.mutability == "readOnly" or before):
        raise Mutability(f"'{where}' is {attribute.mutability} and cannot be changed")
    if has_primary:
        _settle_primary(values, primaries, where)


def _primary(element: Any) -> bool:
    return isinstance(element, dict) and element.get("primary") is True


def _settle_primary(values: Values, before: list[Any], where: str) -> None:
    now = [e for e in values.elements() if _primary(e)]
    new = [e for e in now if not any(e is b for b in before)]
    if len(new) > 1:
        raise InvalidValue(f"'{where}': at most one value may be primary (RFC 7643 §2.4)")
    for element in now if new else []:
        if element is not new[0]:
            element["primary"] = False


