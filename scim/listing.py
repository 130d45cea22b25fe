"""Query and search (RFC 7644 §3.4.2–3.4.3): filter, sort and page in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scim import store
from scim.errors import InvalidFilter, InvalidValue, ScimError
from scim.filter import parse_filter
from scim.query import order_by, page_window, where_clause
from scim.render import render
from scim.schemas import LIST_RESPONSE_URN, ResourceType


def _csv(value: Any) -> list[str] | None:
    if value is None:
        return None
    parts = value if isinstance(value, list) else str(value).split(",")
    return [str(p).strip() for p in parts if str(p).strip()] or None


@dataclass(frozen=True)
class ListQuery:
    filter: str | None
    start_index: int
    count: int
    sort_by: str | None
    sort_order: str
    attributes: list[str] | None
    excluded: list[str] | None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], settings: Mapping[str, Any]) -> ListQuery:
        limit = int(settings["FILTER_MAX_RESULTS"])
        # RFC 7644 §3.4.2.4: startIndex < 1 is read as 1; count < 0 as 0; past the
        # advertised maximum the provider may return fewer (it says so in itemsPerPage).
        window = page_window(values.get("startIndex"), values.get("count"), limit, limit)
        order = str(values.get("sortOrder") or "ascending").lower()
        if order not in {"ascending", "descending"}:
            raise InvalidValue("sortOrder must be ascending or descending")
        return cls(
            filter=values.get("filter") or None,
            start_index=window.start_index,
            count=window.count,
            sort_by=values.get("sortBy") or None,
            sort_order=order,
            attributes=_csv(values.get("attributes")),
            excluded=_csv(values.get("excludedAttributes")),
        )

    @classmethod
    def from_args(cls, args: Mapping[str, Any], settings: Mapping[str, Any]) -> ListQuery:
        return cls.from_mapping(args, settings)

    @classmethod
    def from_body(cls, body: dict[str, Any], settings: Mapping[str, Any]) -> ListQuery:
        # RFC 7644 §3.4.3: the SearchRequest carries the same parameters in JSON.
        return cls.from_mapping(body, settings)


def _list_response(total: int, start: int, resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "startIndex": start,
        "itemsPerPage": len(resources),
        "Resources": resources,
    }


def _where(rt: ResourceType, text: str | None) -> Any:
    if not text:
        return None
    model = store.model_for(rt)
    return where_clause(parse_filter(text, rt), rt, model.id)


def _page(rt: ResourceType, query: ListQuery, where: Any, start: int, count: int,
          base_url: str) -> tuple[int, list[dict[str, Any]]]:
    model = store.model_for(rt)
    order = order_by(rt, query.sort_by, query.sort_order, model.id)
    total, rows = store.page(rt, where, order, start, count)
    related = store.related_of(rt, [r.id for r in rows])
    docs = [
        render(rt, store.document(rt, r, related.get(r.id, [])), base_url, query.attributes,
               query.excluded)
        for r in rows
    ]
    return total, docs


def list_resources(rt: ResourceType, query: ListQuery, base_url: str) -> dict[str, Any]:
    total, docs = _page(rt, query, _where(rt, query.filter), query.start_index, query.count,
                        base_url)
    return _list_response(total, query.start_index, docs)


def search_all(types: list[ResourceType], query: ListQuery, base_url: str) -> dict[str, Any]:
    """A root search: each type the filter applies to, one after the other, paged as one."""
    wheres: list[tuple[ResourceType, Any]] = []
    for rt in types:
        try:
            wheres.append((rt, _where(rt, query.filter)))
        except InvalidFilter:
            continue  # the filter names attributes this type does not have
    if not wheres and query.filter:
        raise InvalidFilter(f"no resource type has the attributes of {query.filter!r}")
    total, docs, skip, room = 0, [], query.start_index - 1, query.count
    for rt, where in wheres:
        count, page = _page(rt, query, where, max(skip, 0) + 1, room, base_url)
        total += count
        skip -= count
        docs.extend(page)
        room -= len(page)
    return _list_response(total, query.start_index, docs)


__all__ = ["ListQuery", "ScimError", "list_resources", "search_all"]
