"""Two SQL constructs that make filters behave the same on PostgreSQL and SQLite.

- `substring_match(column, op, text)`: RFC 7644 §3.4.2.2 co / sw / ew, always case-sensitive
  (the case rule is applied before, by storing and comparing non-caseExact values in lower
  case). PostgreSQL: `LIKE … ESCAPE '/'` with `%`, `_` and `/` escaped. SQLite's LIKE ignores
  ASCII case, so there it is `GLOB`, with `*`, `?` and `[` escaped as one-character classes.
- `bytewise(expr)`: string order by code point on both (RFC 7644 §3.4.2.2 "lexicographical"):
  `COLLATE "C"` on PostgreSQL, whose database collation may be linguistic; SQLite's default
  BINARY collation already is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

LIKE_ESCAPE = "/"


class _substring_match(FunctionElement[bool]):
    """(column, LIKE pattern, GLOB pattern); each dialect renders the one it uses."""

    name = "scim_substring_match"
    type = Boolean()
    inherit_cache = True


class _bytewise(FunctionElement[str]):
    name = "scim_bytewise"
    type = String()
    inherit_cache = True


def substring_match(column: ColumnElement[Any], op: str, text: str) -> ColumnElement[bool]:
    """`column co|sw|ew text`, case-sensitive, wildcards in `text` taken literally."""
    like = "".join(LIKE_ESCAPE + c if c in "%_" + LIKE_ESCAPE else c for c in text)
    glob = "".join(f"[{c}]" if c in "*?[" else c for c in text)
    lead, trail = op in ("co", "ew"), op in ("co", "sw")
    like = ("%" if lead else "") + like + ("%" if trail else "")
    glob = ("*" if lead else "") + glob + ("*" if trail else "")
    return _substring_match(column, literal(like, String()), literal(glob, String()))


def bytewise(expr: ColumnElement[Any]) -> ColumnElement[str]:
    """`expr` compared and sorted by code point."""
    return _bytewise(expr)


@compiles(_substring_match)
def _like(element: _substring_match, compiler: SQLCompiler, **kw: Any) -> str:
    column, pattern, _glob = list(element.clauses)
    return (
        f"{compiler.process(column, **kw)} LIKE {compiler.process(pattern, **kw)} "
        f"ESCAPE '{LIKE_ESCAPE}'"
    )


@compiles(_substring_match, "sqlite")
def _glob(element: _substring_match, compiler: SQLCompiler, **kw: Any) -> str:
    column, _pattern, glob = list(element.clauses)
    return f"{compiler.process(column, **kw)} GLOB {compiler.process(glob, **kw)}"


@compiles(_bytewise)
def _collate_c(element: _bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    (expr,) = list(element.clauses)
    return f'({compiler.process(expr, **kw)}) COLLATE "C"'


@compiles(_bytewise, "sqlite")
def _binary(element: _bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    (expr,) = list(element.clauses)
    return f"({compiler.process(expr, **kw)})"
