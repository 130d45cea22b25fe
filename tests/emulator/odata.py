"""OData query options for collections: $select, $filter, $top, $count, $orderby, paging.

https://learn.microsoft.com/en-us/graph/query-parameters and
https://learn.microsoft.com/en-us/graph/paging (opaque $skiptoken in @odata.nextLink; page size
default 100 for users and groups, $top 1-999).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from . import errors, filters
from .schema import project

SUPPORTED = {"$select", "$filter", "$top", "$count", "$orderby", "$skiptoken", "$search",
             "$expand", "$deltatoken", "$skip", "$format"}


@dataclass
class Query:
    select: list[str] | None = None
    filter: filters.Node | None = None
    top: int | None = None
    count: bool = False
    orderby: list[tuple[str, bool]] = field(default_factory=list)  # (property, descending)
    skiptoken: dict[str, Any] | None = None
    advanced: bool = False
    search: list[list[tuple[str, str]]] | None = None


def select_list(params: dict[str, str], all_props: set[str], odata_type: str
                ) -> list[str] | None:
    raw = params.get("$select")
    if raw is None:
        return None
    names = [n.strip() for n in raw.split(",") if n.strip()]
    for name in names:
        if name not in all_props and name != "*":
            raise errors.bad_request(
                "Parsing OData Select and Expand failed: Could not find a property named "
                f"'{name}' on type '{odata_type}'.")
    return sorted(all_props) if "*" in names else names


def parse_top(params: dict[str, str]) -> int | None:
    raw = params.get("$top")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 999:
        raise errors.bad_request(
            f"Invalid page size specified: '{raw}'. Must be between 1 and 999 inclusive.")
    return int(raw)


def parse_count(params: dict[str, str], advanced: bool) -> bool:
    raw = params.get("$count")
    if raw is None or raw.lower() == "false":
        return False
    if raw.lower() != "true":
        raise errors.GraphError(400, "BadRequest", f"Invalid value '{raw}' for $count.")
    if not advanced:
        raise errors.bad_request("$count is not currently supported.")
    return True


def decode_token(raw: str | None, generation: int) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except ValueError as exc:
        raise errors.bad_request("Invalid $skiptoken value.") from exc
    if not isinstance(data, dict) or data.get("g") != generation:
        raise errors.bad_request("Invalid $skiptoken value.")
    return data


def encode_token(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_orderby(params: dict[str, str], sortable: set[str]) -> list[tuple[str, bool]]:
    raw = params.get("$orderby")
    if not raw:
        return []
    out = []
    for part in raw.split(","):
        name, _, direction = part.strip().partition(" ")
        if name not in sortable:
            raise errors.unsupported_query("Sorting not supported for current query.")
        out.append((name, direction.strip().lower() == "desc"))
    return out


def build_link(base: str, path: str, params: dict[str, str], extra: dict[str, str]) -> str:
    items = {k: v for k, v in params.items() if k not in ("$skiptoken", "$deltatoken")}
    items.update(extra)
    query = "&".join(f"{quote(k, safe='$')}={quote(v, safe=',$()')}" for k, v in items.items())
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def _sort_key(prop: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    def key(obj: dict[str, Any]) -> tuple[bool, str]:
        return obj.get(prop) is None, str(obj.get(prop) or "").lower()
    return key


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_token: dict[str, Any] | None
    total: int


def paginate(objects: list[dict[str, Any]], query: Query, seq_of: Callable[[str], int],
             generation: int, default_top: int = 100) -> Page:
    """Filter, sort and cut one page; the skiptoken remembers where the page ended."""
    if query.filter is not None:
        objects = [o for o in objects if filters.evaluate(query.filter, o)]
    total = len(objects)
    for prop, desc in reversed(query.orderby):
        objects.sort(key=_sort_key(prop), reverse=desc)
    top = query.top or default_top
    token = query.skiptoken or {}
    if query.orderby:
        start = int(token.get("o", 0))
        page = objects[start:start + top]
        more = start + top < len(objects)
        nxt = {"g": generation, "o": start + top} if more else None
        return Page(page, nxt, total)
    after = int(token.get("s", 0))
    remaining = [o for o in objects if seq_of(o["id"]) > after] if after else objects
    page = remaining[:top]
    nxt = {"g": generation, "s": seq_of(page[-1]["id"])} if len(remaining) > top else None
    return Page(page, nxt, total)


def shape(objects: list[dict[str, Any]], select: list[str] | None, default: list[str],
          odata_type: str | None = None) -> list[dict[str, Any]]:
    names = select or default
    out = []
    for obj in objects:
        item = project(obj, names)
        if odata_type:
            item = {"@odata.type": odata_type, **item}
        out.append(item)
    return out
