"""SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (RFC 7644 §3.5.2): parse, resolve, check.

    node = parse_filter('emails[type eq "work"].value eq "a@x.org"', USER)
    spec = parse_path('members[value eq "42"]', GROUP)

Parsing uses scim2-filter-parser's grammar (see `scim.filter_lex` for the gaps corrected); the
library's AST becomes the frozen nodes of `scim.filter_ast`, every attribute resolved against
the ResourceType in any letter case, URN-qualified or not. Unknown attributes, bad syntax and
comparisons the RFC forbids (`gt` on a boolean or binary) raise `InvalidFilter`.

Two readings beyond the letter of the grammar, both from RFC 7644's own examples / clients:
- `emails co "x"` on a complex attribute with a `value` sub-attribute means `emails.value`.
- `emails[type eq "work"].value eq "x"` (Entra) means one email with type work and value x:
  `ValuePath(emails, And(type eq "work", value eq "x"))`.
`attr eq null` is "attr is unassigned", `attr ne null` is "attr is present".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from scim2_filter_parser import ast as sfp

from scim.errors import InvalidFilter, InvalidPath
from scim.filter_ast import (
    COMPARE_OPS,
    ORDER_OPS,
    SUBSTRING_OPS,
    And,
    Compare,
    Node,
    Not,
    Or,
    Present,
    Value,
    ValuePath,
    attribute_level,
    resolve,
    with_sub,
)
from scim.filter_eval import matches, matches_resource
from scim.filter_lex import FilterSyntaxError, Literal, syntax_tree
from scim.index import canonical_datetime, to_bool
from scim.schemas import Attribute, ResolvedPath, ResourceType

__all__ = [
    "And", "Compare", "Node", "Not", "Or", "PathSpec", "Present", "ValuePath",
    "matches", "matches_resource", "parse_filter", "parse_path",
]


MAX_DEPTH = 64


@dataclass(frozen=True)
class PathSpec:
    """A PATCH path (RFC 7644 §3.5.2 Figure 7): `attr`, `attr.sub`, `attr[filter]`, `…].sub`.

    `attr` never carries the sub-attribute; it is in `sub`.
    """

    attr: ResolvedPath
    filter: Node | None = None
    sub: Attribute | None = None


def parse_filter(text: str, resource_type: ResourceType) -> Node:
    """The filter tree for `text`, or InvalidFilter (RFC 7644 §3.4.2.2, §3.12)."""
    try:
        tree = syntax_tree(text)
    except FilterSyntaxError as exc:
        raise InvalidFilter(f"Invalid filter: {exc}") from None
    try:
        return _Converter(resource_type).node(tree)
    except RecursionError:
        raise InvalidFilter("Invalid filter: nested too deeply") from None


def parse_path(text: str, resource_type: ResourceType) -> PathSpec:
    """A PATCH path: InvalidPath when malformed or unknown, InvalidFilter for a bad `[filter]`."""
    quick = _value_eq_path(text, resource_type)
    if quick is not None:
        return quick
    try:
        # RFC 7644 Figure 7 PATH is the attrPath of a filter: parse it as `<path> pr`.
        tree = syntax_tree(f"{text} pr")
    except FilterSyntaxError:
        _raise_bracket_error(text)
        raise InvalidPath(f"Invalid path {text!r}: not an attribute path (RFC 7644 §3.5.2)") \
            from None
    expr = tree.expr
    if tree.negated or tree.namespace is not None or not isinstance(expr, sfp.AttrExpr) \
            or expr.value.lower() != "pr":
        raise InvalidPath(f"Invalid path {text!r}")
    converter = _Converter(resource_type, error=InvalidPath)
    if not isinstance(expr.attr_path.attr_name, sfp.Filter):
        found = converter.path(expr.attr_path)
        return PathSpec(attribute_level(found), None, found.sub_attribute)
    value_path = expr.attr_path.attr_name
    attr, sub = converter.value_path_parts(value_path.namespace)
    inner = _Converter(resource_type, attr).node(value_path.expr)
    return PathSpec(attr, inner, sub)


# `members[value eq "…"]`: nearly every member PATCH has this shape, and a 10,000-member PATCH
# would spend most of its time in the parser; this gives the PathSpec the grammar gives.
_VALUE_EQ = re.compile(r'\s*([A-Za-z][\w$-]*)\[\s*value\s+eq\s+("(?:[^"\\]|\\.)*")\s*\]\s*',
                       re.IGNORECASE)


def _value_eq_path(text: str, resource_type: ResourceType) -> PathSpec | None:
    found = _VALUE_EQ.fullmatch(text)
    attr = resolve(resource_type, found.group(1)) if found else None
    sub = attr.attribute.sub("value") if attr is not None else None
    if found is None or attr is None or sub is None or attr.sub_attribute is not None:
        return None
    try:
        value = json.loads(found.group(2), strict=False)
    except ValueError:
        return None
    path = with_sub(attr, sub)
    return PathSpec(attr, Compare(path, "eq", check_operand(path, "eq", value)), None)


def _raise_bracket_error(text: str) -> None:
    start, end = text.find("["), text.rfind("]")
    if 0 <= start < end:
        try:
            syntax_tree(text[start + 1:end])
        except FilterSyntaxError as exc:
            raise InvalidFilter(f"Invalid filter in path {text!r}: {exc}") from None


class _Converter:
    """scim2-filter-parser AST → `scim.filter_ast` nodes; `parent` is set inside `[...]`."""

    def __init__(
        self,
        resource_type: ResourceType,
        parent: ResolvedPath | None = None,
        error: type[InvalidFilter] | type[InvalidPath] = InvalidFilter,
    ) -> None:
        self.resource_type = resource_type
        self.parent = parent
        self.error = error
        self.depth = 0

    def node(self, tree: Any) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:  # SQL compilation recurses too; real filters nest 2-3 deep
            raise InvalidFilter(f"Invalid filter: nested more than {MAX_DEPTH} levels")
        try:
            return self._node(tree)
        finally:
            self.depth -= 1

    def _node(self, tree: Any) -> Node:
        if isinstance(tree, sfp.Filter):
            if tree.namespace is not None:  # RFC 7644 §3.4.2.2 valuePath: attr[valFilter]
                attr, sub = self.value_path_parts(tree.namespace)
                if sub is not None:
                    raise InvalidFilter("Invalid filter: a sub-attribute cannot precede '['")
                inner: Node = ValuePath(attr, _Converter(self.resource_type, attr).node(tree.expr))
            else:
                inner = self.node(tree.expr)
            return Not(inner) if tree.negated else inner
        if isinstance(tree, sfp.LogExpr):
            return self._logical(tree)
        if isinstance(tree, sfp.AttrExpr):
            return self._attr_expr(tree)
        raise InvalidFilter("Invalid filter")

    def _logical(self, tree: sfp.LogExpr) -> Node:
        # Flatten a chain of one operator iteratively: long `or` lists do not recurse.
        op = tree.op.lower()
        items: list[Node] = []
        stack = [tree.expr2, tree.expr1]
        while stack:
            current = stack.pop()
            bare = _unwrap(current)
            if isinstance(bare, sfp.LogExpr) and bare.op.lower() == op:
                stack += [bare.expr2, bare.expr1]
            else:
                items.append(self.node(current))
        return And(tuple(items)) if op == "and" else Or(tuple(items))

    def _attr_expr(self, tree: sfp.AttrExpr) -> Node:
        op = tree.value.lower()
        path_ast = tree.attr_path
        if isinstance(path_ast.attr_name, sfp.Filter):  # attr[filter].sub op value (Entra)
            value_path = path_ast.attr_name
            attr, sub = self.value_path_parts(value_path.namespace)
            inner = _Converter(self.resource_type, attr)
            if sub is None:
                raise InvalidFilter("Invalid filter: expected a sub-attribute after ']'")
            leaf = inner.leaf(op, with_sub(attr, sub), tree.comp_value)
            return ValuePath(attr, And((inner.node(value_path.expr), leaf)))
        return self.leaf(op, self.path(path_ast), tree.comp_value)

    def value_path_parts(self, namespace: sfp.AttrPath) -> tuple[ResolvedPath, Attribute | None]:
        """The attribute before `[` (complex, outside any other `[...]`) and a `.sub` after `]`."""
        if self.parent is not None:
            raise InvalidFilter("Invalid filter: '[' inside '[...]'")
        sub_ast, namespace.sub_attr = namespace.sub_attr, None
        attr = self.path(namespace)
        if attr.sub_attribute is not None or attr.attribute.type != "complex":
            raise self.error(f"'{attr.canonical}' is not a complex attribute: no '[...]' on it")
        if sub_ast is None:
            return attr, None
        sub = attr.attribute.sub(sub_ast.value)
        if sub is None:
            raise self.error(f"Unknown attribute '{attr.canonical}.{sub_ast.value}'")
        return attr, sub

    def path(self, path_ast: sfp.AttrPath) -> ResolvedPath:
        name = path_ast.attr_name
        sub = f".{path_ast.sub_attr.value}" if path_ast.sub_attr is not None else ""
        if self.parent is None:
            text = f"{path_ast.uri}:{name}{sub}" if path_ast.uri else f"{name}{sub}"
            found = resolve(self.resource_type, text)
        else:  # RFC 7644 §3.4.2.2: inside [...] names are sub-attributes of the parent
            text = f"{self.parent.canonical}.{name}{sub}"
            found = None if path_ast.uri or sub else self.resource_type.resolve(text)
        if found is None:
            raise self.error(f"Unknown attribute '{text}'")
        return found

    def leaf(self, op: str, path: ResolvedPath, comp_value: Any) -> Node:
        if path.target.type == "complex":
            value_sub = path.attribute.sub("value")
            if op == "pr":
                return Present(path)
            if value_sub is None:  # RFC 7644 §3.10: name a sub-attribute of a complex one
                raise InvalidFilter(f"Invalid filter: '{path.canonical}' is complex; name a "
                                    "sub-attribute")
            path = with_sub(path, value_sub)
        if path.attribute.returned == "never" or path.target.returned == "never":
            raise InvalidFilter(f"Invalid filter: '{path.canonical}' cannot be filtered")
        if op == "pr":
            return Present(path)
        if op not in COMPARE_OPS or not isinstance(comp_value, sfp.CompValue):
            raise InvalidFilter(f"Invalid filter: the operator '{op}' is not supported")
        literal = comp_value.value
        value = literal.value if isinstance(literal, Literal) else literal
        return Compare(path, op, check_operand(path, op, value))


def _unwrap(tree: Any) -> Any:
    """A parenthesised, non-negated group is the same as its content."""
    while isinstance(tree, sfp.Filter) and not tree.negated and tree.namespace is None:
        tree = tree.expr
    return tree


def check_operand(path: ResolvedPath, op: str, value: Value) -> Value:
    """RFC 7644 §3.4.2.2: the comparison must suit the attribute type; returns the value to use."""
    kind = path.target.type
    where = f"'{path.canonical} {op}'"
    if value is None:
        if op not in ("eq", "ne"):
            raise InvalidFilter(f"Invalid filter: {where} cannot compare with null")
        return None
    if kind == "boolean":
        flag = to_bool(value)
        if op not in ("eq", "ne") or flag is None:
            raise InvalidFilter(f"Invalid filter: {where}: a boolean allows only eq/ne true/false")
        return flag
    if kind in ("integer", "decimal"):
        if op in SUBSTRING_OPS or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise InvalidFilter(f"Invalid filter: {where} needs a number and a numeric operator")
        return value
    if not isinstance(value, str):
        raise InvalidFilter(f"Invalid filter: {where} needs a string value")
    if kind == "binary" and op in ORDER_OPS:
        raise InvalidFilter(f"Invalid filter: {where}: binary values cannot be ordered")
    if kind == "dateTime" and op not in SUBSTRING_OPS:
        try:
            canonical_datetime(value)
        except ValueError:
            raise InvalidFilter(f"Invalid filter: {where}: {value!r} is not a dateTime") from None
    return value
