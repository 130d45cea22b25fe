"""scim2-filter-parser's lexer and parser with the gaps RFC 7644 §3.4.2.2 filters hit fixed.

The grammar stays the library's; subclasses only correct what it gets wrong:

1. compValue strings had no escapes (`"a\\"b"` failed) and were not decoded: now an RFC 7159 §7
   JSON string, decoded with `json.loads`.
2. NUMBER was one digit (`42` failed, `4.5` and `-3` too): now an RFC 7159 §6 number.
3. `true`, `false` and `null` matched as prefixes of attribute names (`trueish`): now whole words.
4. A literal lost its JSON type (`eq true` and `eq "true"` gave the same value): every literal
   token now carries a `Literal` holding the decoded JSON value.
5. `and` and `or` had the same precedence, so `a or b and c` parsed as `(a or b) and c`;
   RFC 7644 §3.4.2.2 ranks "not" over "and" over "or".
6. Errors were `ValueError("Illegal character…")` or `SCIMParserError("Parsing error at: None")`;
   both become `FilterSyntaxError` with the position and what was found.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from scim2_filter_parser import ast as sfp
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser, SCIMParserError

# A word ends where no attribute-name character follows (RFC 7644 §3.4.2.2 ATTRNAME / nameChar).
_WORD_END = r"(?![A-Za-z0-9_$-])"
_NUMBER = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"


class FilterSyntaxError(ValueError):
    """The text is not a filter (or path) by the RFC 7644 §3.4.2.2 grammar."""


@dataclass(frozen=True)
class Literal:
    """A decoded compValue: JSON false / null / true / number / string (RFC 7644 §3.4.2.2)."""

    value: str | int | float | bool | None


class _Lexer(SCIMLexer):
    tokens = SCIMLexer.tokens

    @_(r"false" + _WORD_END)  # type: ignore[name-defined]  # noqa: F821
    def FALSE(self, t: Any) -> Any:
        t.value = Literal(False)
        return t

    @_(r"true" + _WORD_END)  # type: ignore[name-defined]  # noqa: F821
    def TRUE(self, t: Any) -> Any:
        t.value = Literal(True)
        return t

    @_(r"null" + _WORD_END)  # type: ignore[name-defined]  # noqa: F821
    def NULL(self, t: Any) -> Any:
        t.value = Literal(None)
        return t

    # RFC 7159 §6: number = [ minus ] int [ frac ] [ exp ]
    @_(_NUMBER + _WORD_END)  # type: ignore[name-defined]  # noqa: F821
    def NUMBER(self, t: Any) -> Any:
        t.value = Literal(json.loads(t.value))
        return t

    # RFC 7159 §7: string = quotation-mark *char quotation-mark, with backslash escapes.
    @_(r'"(?:[^"\\]|\\.)*"')  # type: ignore[name-defined]  # noqa: F821
    def COMP_VALUE(self, t: Any) -> Any:
        try:
            t.value = Literal(json.loads(t.value, strict=False))
        except ValueError as exc:
            raise FilterSyntaxError(f"bad string {t.value} at position {t.index}") from exc
        return t

    def error(self, t: Any) -> None:
        raise FilterSyntaxError(f"unexpected character {t.value[0]!r} at position {t.index}")


class _Parser(SCIMParser):
    # RFC 7644 §3.4.2.2: "not" takes precedence over "and", which takes precedence over "or".
    precedence = (("left", "OR"), ("left", "AND"), ("right", "NOT"))

    # sly builds a grammar from the class body only, so the library's rules are restated.
    filter = SCIMParser.filter
    value_path = SCIMParser.value_path
    attr_exp = SCIMParser.attr_exp
    log_exp = SCIMParser.log_exp
    comp_value = SCIMParser.comp_value
    attr_path = SCIMParser.attr_path
    sub_attr = SCIMParser.sub_attr

    def error(self, token: Any) -> None:
        if token is None:
            raise FilterSyntaxError("unexpected end of filter")
        found = token.value.value if isinstance(token.value, Literal) else token.value
        raise FilterSyntaxError(f"unexpected {found!r} at position {token.index}")


def syntax_tree(text: str) -> sfp.Filter:
    """Parse `text` with the library grammar (fixed as above) into its AST."""
    if not isinstance(text, str) or not text.strip():
        raise FilterSyntaxError("empty filter")
    try:
        tree = _Parser().parse(_Lexer().tokenize(text))
    except FilterSyntaxError:
        raise
    except (SCIMParserError, ValueError, TypeError, AttributeError) as exc:  # library checks
        raise FilterSyntaxError(str(exc)) from exc
    if not isinstance(tree, sfp.Filter):
        raise FilterSyntaxError("unexpected end of filter")
    return tree
