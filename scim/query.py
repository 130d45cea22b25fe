"""Filters as SQL on the ScimAttr index (RFC 7644 §3.4.2.2), sorting (§3.4.2.3), paging (§3.4.2.4).

    node = parse_filter(text, USER)
    stmt = (select(ScimUser).where(where_clause(node, USER, ScimUser.id))
            .order_by(*order_by(USER, sort_by, sort_order, ScimUser.id)))

Every attribute, `id`, `externalId` and `meta.*` included, is read from the index rows
(`scim.index`), never from the resource tables' own columns, so one rule serves all paths.
A comparison is `EXISTS (SELECT 1 FROM scim_attr …)` correlated on `id_column`; the conditions
of a value path (`emails[type eq "work" and value co "@x"]`) must hold on one `elem`. Group
`members` and User `groups` are the Membership table. `ne` is "no value equal" (absent
included), `eq null` is "unassigned". SQL is the same on PostgreSQL and SQLite (`filter_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeGuard

from sqlalchemy import Select, and_, case, false, func, literal, not_, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from scim.errors import InvalidFilter, InvalidValue
from scim.filter_ast import (
    SUBSTRING_OPS,
    And,
    Compare,
    Node,
    Not,
    Or,
    Present,
    ValuePath,
    resolve,
    with_sub,
)
from scim.filter_eval import operand
from scim.filter_sql import bytewise, substring_match
from scim.index import Leaf
from scim.schemas import ResolvedPath, ResourceType
from webapp.models import Membership, ScimAttr

# Multi-valued attributes kept in Membership: owner column, and sub-attribute → column.
_LINKS: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("Group", "members"): ("group_id", {"value": "member_id", "type": "member_type"}),
    ("User", "groups"): ("member_id", {"value": "group_id"}),
}
_ORDER = {
    "gt": lambda c, v: c > v, "ge": lambda c, v: c >= v,
    "lt": lambda c, v: c < v, "le": lambda c, v: c <= v,
}


def where_clause(node: Node, resource_type: ResourceType, id_column: Any) -> ColumnElement[bool]:
    """The SQL condition selecting the resources (by `id_column`) that `node` matches."""
    return _Sql(resource_type, id_column).clause(node)


class _Sql:
    """Compiles nodes; `elem` (a value path's element) or `member` (a Membership row) narrow
    the context when inside `[...]`."""

    def __init__(self, rt: ResourceType, id_column: Any, elem: Any = None, member: Any = None):
        self.rt, self.id_column, self.elem, self.member = rt, id_column, elem, member

    def clause(self, node: Node) -> ColumnElement[bool]:
        if isinstance(node, And):
            return and_(*(self.clause(item) for item in node.items))
        if isinstance(node, Or):
            return or_(*(self.clause(item) for item in node.items))
        if isinstance(node, Not):
            return not_(self.clause(node.node))
        if isinstance(node, ValuePath):
            return self._value_path(node)
        if isinstance(node, Compare) and node.value is None:  # eq null: unassigned
            present = self.clause(Present(node.path))
            return present if node.op == "ne" else not_(present)
        if isinstance(node, Compare) and node.op == "ne":  # ne: no value equal, absent included
            return not_(self.clause(Compare(node.path, "eq", node.value)))
        link = _LINKS.get((self.rt.name, node.path.attribute.name))
        if link is not None:
            return self._member_leaf(link, node)
        a = aliased(ScimAttr)
        return self._exists(a, _row_filter(a, node))

    def _exists(self, a: Any, conditions: list[Any]) -> ColumnElement[bool]:
        base = [a.resource_type == self.rt.name, a.resource_id == self.id_column]
        if self.elem is not None:
            base.append(a.elem == self.elem)
        return _exists_of(select(literal(1)).select_from(a).where(*base, *conditions), a)

    def _value_path(self, node: ValuePath) -> ColumnElement[bool]:
        link = _LINKS.get((self.rt.name, node.attr.attribute.name))
        if link is not None:  # one Membership row is one element
            m = aliased(Membership)
            condition = _Sql(self.rt, self.id_column, member=m).clause(node.filter)
            return self._member_exists(link, m, condition)
        items = node.filter.items if isinstance(node.filter, And) else (node.filter,)
        anchor = next((i for i in items if _positive(i)), None)
        a = aliased(ScimAttr)
        if anchor is not None:  # its row names the element the other conditions must share
            conditions = _row_filter(a, anchor)
        else:
            conditions = [a.path.in_(_leaf_paths(node.attr))]
        inner = _Sql(self.rt, self.id_column, elem=a.elem)
        conditions += [inner.clause(item) for item in items if item is not anchor]
        return self._exists(a, conditions)

    def _member_leaf(self, link: tuple[str, dict[str, str]], node: Node) -> ColumnElement[bool]:
        if self.member is not None:
            return _member_condition(link, self.member, node)
        m = aliased(Membership)
        return self._member_exists(link, m, _member_condition(link, m, node))

    def _member_exists(self, link: tuple[str, dict[str, str]], m: Any, cond: Any) -> Any:
        stmt = select(literal(1)).select_from(m).where(getattr(m, link[0]) == self.id_column, cond)
        return _exists_of(stmt, m)


def _exists_of(stmt: Select[Any], inner: Any) -> ColumnElement[bool]:
    return stmt.correlate_except(inner).exists()


def _positive(node: Node) -> TypeGuard[Compare | Present]:
    """A leaf that holds only where a row for it exists (so it can anchor an element)."""
    if isinstance(node, Present):
        return True
    return isinstance(node, Compare) and node.op != "ne" and node.value is not None


def _key(path: ResolvedPath) -> str:
    return path.canonical.lower()


def _leaf_paths(path: ResolvedPath) -> list[str]:
    """The index paths holding the values of `path` (every sub-attribute of a complex one)."""
    if path.target.type != "complex":
        return [_key(path)]
    return [_key(with_sub(path, sub)) for sub in path.attribute.sub_attributes]


def _row_filter(a: Any, node: Compare | Present) -> list[Any]:
    """Conditions on one ScimAttr row `a` for a leaf that is not `ne` / null."""
    if isinstance(node, Present):
        return [a.path.in_(_leaf_paths(node.path))]
    leaf = operand(node.path.target, node.op, node.value)
    return [a.path == _key(node.path), _value_condition(a, node.op, leaf)]


def _value_condition(a: Any, op: str, leaf: Leaf) -> ColumnElement[bool]:
    if leaf.value_bool is not None:
        return a.value_bool.is_(true() if leaf.value_bool else false())
    if leaf.value_num is not None:
        if op == "eq":
            return a.value_num == leaf.value_num
        return _ORDER[op](a.value_num, leaf.value_num)
    return _string_condition(a.value_str, op, leaf.value_str or "")


def _string_condition(column: Any, op: str, text: str) -> ColumnElement[bool]:
    if op == "eq":
        return column == text
    if op in SUBSTRING_OPS:
        return substring_match(column, op, text)
    return _ORDER[op](bytewise(column), text)


def _member_condition(link: tuple[str, dict[str, str]], m: Any, node: Node) -> ColumnElement[bool]:
    """A leaf on one Membership row: `value` is the member id (caseExact), `type` its kind."""
    assert isinstance(node, (Compare, Present))
    sub = node.path.sub_attribute
    column_name = link[1].get(sub.name) if sub is not None else link[1]["value"]
    if column_name is None:
        raise InvalidFilter(f"Invalid filter: '{node.path.canonical}' cannot be filtered")
    column = getattr(m, column_name)
    if isinstance(node, Present):
        return column.is_not(None)
    leaf = operand(node.path.target, node.op, node.value)
    if not node.path.target.case_exact:
        column = func.lower(column)
    return _string_condition(column, node.op, leaf.value_str or "")


def order_by(
    resource_type: ResourceType, sort_by: str | None, sort_order: str | None, id_column: Any
) -> list[Any]:
    """ORDER BY terms for RFC 7644 §3.4.2.3: ascending by default, missing values last, and
    `id_column` as the tiebreak. A multi-valued attribute sorts by its primary value, else
    its first one (RFC 7644 §3.4.2.3)."""
    descending = _descending(sort_order)
    if not sort_by:
        return [id_column.asc()]
    path = resolve(resource_type, sort_by)
    if path is not None and path.target.type == "complex":
        value_sub = path.attribute.sub("value")
        path = with_sub(path, value_sub) if value_sub is not None else None
    if path is None or (resource_type.name, path.attribute.name) in _LINKS \
            or path.attribute.returned == "never":
        raise InvalidValue(f"sortBy '{sort_by}' is not a sortable attribute")
    key = _sort_value(resource_type, path, id_column)
    term = key.desc() if descending else key.asc()
    return [term.nulls_last(), id_column.asc()]


def _descending(sort_order: str | None) -> bool:
    order = (sort_order or "ascending").strip().lower()
    if order not in ("ascending", "descending"):
        raise InvalidValue(f"sortOrder must be 'ascending' or 'descending', not {sort_order!r}")
    return order == "descending"


def _sort_value(rt: ResourceType, path: ResolvedPath, id_column: Any) -> Any:
    a = aliased(ScimAttr)
    kind = path.target.type
    column = a.value_bool if kind == "boolean" else (
        a.value_num if kind in ("integer", "decimal") else a.value_str)
    stmt = select(column).where(
        a.resource_type == rt.name, a.resource_id == id_column, a.path == _key(path)
    )
    primary = path.attribute.sub("primary") if path.attribute.multi_valued else None
    if primary is not None:
        p = aliased(ScimAttr)
        is_primary = _exists_of(select(literal(1)).select_from(p).where(
            p.resource_type == rt.name, p.resource_id == a.resource_id, p.elem == a.elem,
            p.path == _key(with_sub(path, primary)), p.value_bool.is_(true()),
        ), p)
        stmt = stmt.order_by(case((is_primary, 0), else_=1))
    value = stmt.order_by(a.elem).limit(1).correlate_except(a).scalar_subquery()
    return bytewise(value) if column is a.value_str else value


@dataclass(frozen=True)
class Page:
    """RFC 7644 §3.4.2.4: the 1-based `start_index` and `count` to report, and the SQL window."""

    start_index: int
    count: int

    @property
    def offset(self) -> int:
        return self.start_index - 1


def page_window(start_index: Any, count: Any, default_count: int, max_count: int) -> Page:
    """startIndex < 1 means 1; a negative count means 0; count is capped at `max_count`."""
    start = _integer(start_index, "startIndex", 1)
    size = _integer(count, "count", default_count)
    return Page(max(start, 1), min(max(size, 0), max_count))


def _integer(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidValue(f"{name} must be an integer, not {value!r}") from None
