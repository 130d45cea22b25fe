"""$search on directory objects (needs ``ConsistencyLevel: eventual``).

https://learn.microsoft.com/en-us/graph/search-query-parameter#using-search-on-directory-object-collections
— ``$search="property:term"`` clauses joined by AND / OR; a term matches the start of any
word of the property value, ignoring case.
"""

from __future__ import annotations

import re
from typing import Any

from . import errors

CLAUSE = re.compile(r'\s*"(\w+):([^"]*)"\s*')
WORD = re.compile(r"[^\W_]+")

Search = list[list[tuple[str, str]]]  # OR of ANDs of (property, term)


def parse_search(raw: str, searchable: frozenset[str]) -> Search:
    groups: Search = [[]]
    pos = 0
    while True:
        match = CLAUSE.match(raw, pos)
        if not match:
            raise errors.bad_request(f"Syntax error: invalid $search value '{raw}'.")
        prop, term = match.group(1), match.group(2).lower()
        if prop not in searchable:
            raise errors.bad_request(f"Property '{prop}' is not searchable.")
        groups[-1].append((prop, term))
        pos = match.end()
        if pos >= len(raw):
            return groups
        word = raw[pos:].split(None, 1)[0]
        if word not in ("AND", "OR"):
            raise errors.bad_request(f"Syntax error: invalid $search value '{raw}'.")
        if word == "OR":
            groups.append([])
        pos += len(word)


def _hit(value: Any, term: str) -> bool:
    text = str(value or "").lower()
    return text.startswith(term) or any(w.startswith(term) for w in WORD.findall(text))


def matches(obj: dict[str, Any], search: Search) -> bool:
    return any(all(_hit(obj.get(p), t) for p, t in clauses) for clauses in search)
