"""What the user and group clients share: the verbs over one collection, raw JSON only.

Pages: https://learn.microsoft.com/en-us/graph/api/user-list (and group-list), user-post-users,
user-update, user-delete; query options and $filter string literals:
https://learn.microsoft.com/en-us/graph/query-parameters ("'" inside a value is doubled).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from jobs.graph import batch_writes
from jobs.graph.batch import BatchResponse
from jobs.graph.boundary import GraphBoundary

PAGE_SIZE = 999  # $top accepts 1-999 for users and groups (paging page)


@dataclass(frozen=True)
class Remote:
    """An Entra object as Graph answered it."""

    id: str
    attributes: dict[str, Any] = field(default_factory=dict)


def quote_literal(value: Any) -> str:
    """An OData string literal: single quotes around, quotes inside doubled."""
    return "'" + str(value).replace("'", "''") + "'"


def eq(key: str, value: Any) -> str:
    return f"{key} eq {quote_literal(value)}"


class DirectoryClient(ABC):
    collection: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    select: ClassVar[tuple[str, ...]] = ("id",)
    lookup_keys: ClassVar[frozenset[str]] = frozenset()
    write_once: ClassVar[frozenset[str]] = frozenset()  # sent on create only
    kept_on_link: ClassVar[frozenset[str]] = frozenset()  # never pushed onto a found object

    def __init__(self, boundary: GraphBoundary, match_keys: Iterable[str] = ()) -> None:
        self.graph = boundary
        self.match_keys = tuple(match_keys)
        unknown = set(self.match_keys) - self.lookup_keys
        if unknown:
            raise ValueError(f"cannot match {self.kind}s on {sorted(unknown)}")

    # -- writes ----------------------------------------------------------------------------
    def create(self, payload: Mapping[str, Any]) -> Remote:
        answer = self.graph.post_json(self.collection, dict(payload)) or {}
        return Remote(str(answer.get("id", "")), answer)

    def update(self, entra_id: str, payload: Mapping[str, Any]) -> None:
        self.graph.patch_json(f"{self.collection}/{entra_id}", dict(payload))

    def delete(self, entra_id: str) -> None:
        self.graph.delete(f"{self.collection}/{entra_id}")

    # bulk: JSON $batch, 20 per round trip, items paced and retried one by one
    def create_many(self, payloads: Sequence[Mapping[str, Any]]) -> list[BatchResponse]:
        return batch_writes.create_many(self.graph, self.collection, payloads)

    def update_many(self, bodies: Mapping[str, Mapping[str, Any]]
                    ) -> dict[str, BatchResponse]:
        return batch_writes.update_many(self.graph, self.collection, bodies)

    def delete_many(self, entra_ids: Sequence[str]) -> dict[str, BatchResponse]:
        return batch_writes.delete_many(self.graph, self.collection, entra_ids)

    def update_body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in payload.items() if k not in self.write_once}

    def link_body(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        skip = self.write_once | self.kept_on_link
        return {k: v for k, v in payload.items() if k not in skip}

    # -- reads -----------------------------------------------------------------------------
    def get(self, entra_id: str, select: Iterable[str] | None = None) -> Remote:
        params = {"$select": ",".join(select or self.select)}
        answer = self.graph.get_json(f"{self.collection}/{entra_id}", params)
        return Remote(str(answer.get("id", entra_id)), answer)

    def discover(self, select: Iterable[str] | None = None, page_size: int = PAGE_SIZE,
                 filter: str | None = None) -> Iterator[dict[str, Any]]:
        """Every object of the collection as raw dicts, paged, no model parsing."""
        params: dict[str, Any] = {"$select": ",".join(select or self.select),
                                  "$top": page_size}
        if filter:
            params["$filter"] = filter
        return self.graph.get_pages(self.collection, params)

    def find_all(self, filter: str, top: int = 10) -> list[Remote]:
        params = {"$filter": filter, "$select": ",".join(self.select), "$top": top}
        items = self.graph.get_json(self.collection, params).get("value", [])
        return [Remote(str(item["id"]), item) for item in items if item.get("id")]

    def find_by(self, key: str, value: Any) -> Remote | None:
        """The one object whose ``key`` equals ``value``; None when none or several match."""
        if key not in self.lookup_keys:
            raise ValueError(f"{self.kind}s are not looked up by {key}")
        found = self.find_all(eq(key, value), top=2)
        return found[0] if len(found) == 1 else None

    def find_match(self, payload: Mapping[str, Any],
                   hints: Mapping[str, Any] | None = None) -> Remote | None:
        """Discovery: the first configured match key (in order) that finds exactly one object.
        ``hints`` supplies values the payload lacks (e.g. the SCIM primary email for mail)."""
        values = {**payload, **(hints or {})}
        for key in self.match_keys:
            if values.get(key):
                found = self.find_by(key, values[key])
                if found is not None:
                    return found
        return None

    @abstractmethod
    def find_own(self, payload: Mapping[str, Any]) -> Remote | None:
        """The object a create of ``payload`` would have made (after an ambiguous create):
        users by their unique UPN, groups by displayName and mailNickname together."""
