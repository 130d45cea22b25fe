"""OData $filter for directory objects: parser and evaluator.

Operators as the directory supports them
(https://learn.microsoft.com/en-us/graph/aad-advanced-queries and the "Properties" tables of
the user and group resources): eq, in, startswith, ge, le, and/or, any() on collections
are basic; ne, not, endswith and ``eq null`` need ``ConsistencyLevel: eventual`` + $count=true.
String comparisons ignore case. A ``'`` inside a literal is written ``''``.
"""

from __future__ import annotations

import re
from typing import Any

from . import errors

TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?(?![\w-]))|(?P<punct>[(),:])"
    r"|(?P<word>[A-Za-z_$@][\w./$@-]*))"
)
COMPARISONS = {"eq", "ne", "ge", "le", "gt", "lt"}
ADVANCED_OPS = {"ne", "not", "endswith"}
Node = tuple[Any, ...]


def tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise syntax_error(text)
        pos = match.end()
        if match.group("str") is not None:
            tokens.append(("lit", match.group("str")[1:-1].replace("''", "'")))
        elif match.group("num") is not None:
            tokens.append(("lit", float(match.group("num"))))
        elif match.group("punct"):
            tokens.append((match.group("punct"), None))
        else:
            tokens.append(_word(match.group("word")))
    return tokens


def _word(word: str) -> tuple[str, Any]:
    low = word.lower()
    if low in ("true", "false"):
        return "lit", low == "true"
    if low == "null":
        return "lit", None
    if low in COMPARISONS | {"and", "or", "not", "in"}:
        return low, None
    return "name", word


def syntax_error(text: str) -> errors.GraphError:
    return errors.GraphError(400, "BadRequest", f"Invalid filter clause: syntax error in '{text}'.")


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    def peek(self) -> str:
        return self.tokens[self.pos][0] if self.pos < len(self.tokens) else "end"

    def take(self, kind: str) -> Any:
        if self.peek() != kind:
            raise syntax_error(self.text)
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() != "end":
            raise syntax_error(self.text)
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.peek() == "or":
            self.pos += 1
            node = ("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.peek() == "and":
            self.pos += 1
            node = ("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == "not":
            self.pos += 1
            return ("not", self.unary())
        if self.peek() == "(":
            self.pos += 1
            node = self.or_expr()
            self.take(")")
            return node
        return self.term()

    def term(self) -> Node:
        name = self.take("name")
        if self.peek() == "(":
            return self.call(name)
        op = self.peek()
        if op in COMPARISONS:
            self.pos += 1
            return ("cmp", op, name, self.take("lit"))
        if op == "in":
            self.pos += 1
            self.take("(")
            values = [self.take("lit")]
            while self.peek() == ",":
                self.pos += 1
                values.append(self.take("lit"))
            self.take(")")
            return ("in", "in", name, values)
        raise syntax_error(self.text)

    def call(self, name: str) -> Node:
        self.take("(")
        low = name.lower()
        if low.endswith(("/any", "/all")):
            prop, _, kind = name.rpartition("/")
            var = self.take("name")
            self.take(":")
            inner = self.or_expr()
            self.take(")")
            return ("lambda", kind.lower(), prop, var, inner)
        if low in ("startswith", "endswith"):
            prop = self.take("name")
            self.take(",")
            value = self.take("lit")
            self.take(")")
            return ("func", low, prop, value)
        raise errors.unsupported_query(f"Unsupported function '{name}' in filter.")


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _compare(op: str, left: Any, right: Any) -> bool:
    left, right = _norm(left), _norm(right)
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    return {"ge": left >= right, "le": left <= right, "gt": left > right,
            "lt": left < right}[op]


def evaluate(node: Node, obj: dict[str, Any], scope: dict[str, Any] | None = None) -> bool:
    kind = node[0]
    if kind == "and":
        return evaluate(node[1], obj, scope) and evaluate(node[2], obj, scope)
    if kind == "or":
        return evaluate(node[1], obj, scope) or evaluate(node[2], obj, scope)
    if kind == "not":
        return not evaluate(node[1], obj, scope)
    if kind == "lambda":
        items = obj.get(node[2]) or []
        hits = (evaluate(node[4], obj, {node[3]: item}) for item in items)
        return any(hits) if node[1] == "any" else all(hits)
    value = _lookup(node[2], obj, scope)
    if kind == "cmp":
        return _compare(node[1], value, node[3])
    if kind == "in":
        return any(_compare("eq", value, v) for v in node[3])
    text, prefix = _norm(value), _norm(node[3])
    if not isinstance(text, str) or not isinstance(prefix, str):
        return False
    return text.startswith(prefix) if node[1] == "startswith" else text.endswith(prefix)


def _lookup(path: str, obj: dict[str, Any], scope: dict[str, Any] | None) -> Any:
    head, _, rest = path.partition("/")
    if scope and head in scope:
        value = scope[head]
        return value.get(rest) if rest and isinstance(value, dict) else value
    value = obj.get(head)
    return value.get(rest) if rest and isinstance(value, dict) else value


def check(node: Node, resource: str, filterable: set[str], collections: set[str],
          advanced: bool, counted: bool, scope: set[str] | None = None) -> None:
    """Refuse properties and operators the directory refuses (400, like Graph)."""
    kind = node[0]
    if kind in ("and", "or"):
        for child in node[1:]:
            check(child, resource, filterable, collections, advanced, counted, scope)
        return
    if kind == "not":
        _need_advanced("not", advanced, counted)
        check(node[1], resource, filterable, collections, advanced, counted, scope)
        return
    if kind == "lambda":
        _check_prop(node[2], resource, filterable, collections, True)
        check(node[4], resource, filterable, collections, advanced, counted, {node[3]})
        return
    op = node[1]
    if op in ADVANCED_OPS or (kind == "cmp" and node[3] is None):
        _need_advanced(op, advanced, counted)
    if scope and node[2].partition("/")[0] in scope:
        return
    _check_prop(node[2], resource, filterable, collections, False)


def _check_prop(prop: str, resource: str, filterable: set[str], collections: set[str],
                is_lambda: bool) -> None:
    if prop not in filterable or (prop in collections) != is_lambda:
        raise errors.unsupported_query(
            f"Unsupported or invalid query filter clause specified for property '{prop}' of "
            f"resource '{resource}'.")


def _need_advanced(op: str, advanced: bool, counted: bool) -> None:
    if not advanced:
        raise errors.unsupported_query(
            f"Operator '{op}' is not supported because the 'ConsistencyLevel:eventual' header "
            "is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more "
            "information")
    if not counted:
        raise errors.unsupported_query(
            f"Operator '{op}' is not supported because the required parameters might be "
            "missing. Try adding $count with a value of true and the ConsistencyLevel header "
            "with a value of eventual.")


def parse_filter(text: str) -> Node:
    return Parser(text).parse()
