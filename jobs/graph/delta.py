"""Delta queries for users and groups: a steady-state full sync reads only what changed.

Graph pages: https://learn.microsoft.com/en-us/graph/delta-query-overview, user-delta,
group-delta. The first round (no deltaLink) returns every object; each round ends with an
``@odata.deltaLink`` that the next round starts from. Removed objects come as
``{"id", "@removed": {"reason": "changed" | "deleted"}}`` ("changed": soft-deleted, can come
back; "deleted": gone for good). Groups selected with ``members`` carry ``members@delta``
(removed members flagged ``@removed``); "the same group may appear more than once" across
pages when it has many members, so callers merge by id. A stale token answers 410 Gone
(error code ``syncStateNotFound`` or ``resyncRequired``, delta-query-overview "Synchronization
reset"): ``DeltaExpired``; the caller forgets the link and runs a full round.

A round in one call::

    rnd = users_delta(boundary, link, select)  # link None: every user
    for change in rnd:                         # DeltaChange: id, attributes, removed, members
        ...
    link = rnd.delta_link                      # only after every change is handled

Full-sync discovery reads page by page into a Redis mirror that keeps its own link
(``jobs/graph/delta_mirror.py``); it records the link of each finished round in SyncControl
for operators too (``save/forget_delta_link``, rows ``delta_users`` and ``delta_groups``;
an app context is needed).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jobs.graph.boundary import GraphBoundary
from jobs.graph.errors import GraphSyncError

KINDS = ("users", "groups")
EXPIRED_CODES = frozenset({"syncStateNotFound", "resyncRequired"})
# delta-query-overview: page size via Prefer odata.maxpagesize (no $top on delta)
PAGE_PREFER = "odata.maxpagesize=999"


class DeltaExpired(Exception):
    """The deltaLink is no longer valid (410): forget it and discover everything."""


@dataclass
class DeltaChange:
    id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    removed: str | None = None  # "changed" (soft-deleted) | "deleted" | None
    members_added: list[str] = field(default_factory=list)
    members_removed: list[str] = field(default_factory=list)


class DeltaRound:
    """The changes of one round, read page by page as they are iterated (once).
    ``delta_link`` is set when the last page has been read; ``pages`` counts the reads."""

    def __init__(self, boundary: GraphBoundary, url: str) -> None:
        self.boundary = boundary
        self.first_url = url
        self.delta_link: str | None = None
        self.pages = 0

    def __iter__(self) -> Iterator[DeltaChange]:
        url: str | None = self.first_url
        while url:
            page = self._page(url)
            self.pages += 1
            for item in page.get("value", []):
                yield change_of(item)
            url = page.get("@odata.nextLink")
            if url is None:
                self.delta_link = page.get("@odata.deltaLink")

    def _page(self, url: str) -> dict[str, Any]:
        return read_page(self.boundary, url)


def read_page(boundary: GraphBoundary, url: str) -> dict[str, Any]:
    """One delta page; ``DeltaExpired`` when Graph says the token is no longer valid."""
    try:
        return boundary.get_json(url, headers={"Prefer": PAGE_PREFER})
    except GraphSyncError as err:
        if err.status == 410 or err.code in EXPIRED_CODES:
            raise DeltaExpired(str(err)) from err
        raise


def change_of(item: dict[str, Any]) -> DeltaChange:
    removed = item.get("@removed")
    attributes = {k: v for k, v in item.items() if k not in ("@removed", "members@delta")}
    change = DeltaChange(str(item.get("id", "")), attributes,
                         str(removed.get("reason", "deleted")) if removed else None)
    for member in item.get("members@delta") or []:
        target = change.members_removed if member.get("@removed") else change.members_added
        target.append(str(member.get("id")))
    return change


def _start(boundary: GraphBoundary, path: str, delta_link: str | None,
           select: Iterable[str]) -> DeltaRound:
    if delta_link:
        return DeltaRound(boundary, delta_link)
    return DeltaRound(boundary, boundary.url(path, {"$select": ",".join(select)}))


def users_delta(boundary: GraphBoundary, delta_link: str | None,
                select: Iterable[str]) -> DeltaRound:
    """Users changed since ``delta_link`` (every user when None); ``select`` applies to the
    first round only: the deltaLink keeps it (user-delta)."""
    return _start(boundary, "/users/delta", delta_link, select)


def groups_delta(boundary: GraphBoundary, delta_link: str | None,
                 select: Iterable[str]) -> DeltaRound:
    """Groups changed since ``delta_link``; include "members" in ``select`` for
    ``members@delta`` (group-delta)."""
    return _start(boundary, "/groups/delta", delta_link, select)


# -- where the links live (SyncControl rows; an app context is needed) --------------------

def _key(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"delta links exist for {KINDS}, not {kind!r}")
    return f"delta_{kind}"


def load_delta_link(kind: str) -> str | None:
    from webapp.extensions import db
    from webapp.models import SyncControl

    row = db.session.get(SyncControl, _key(kind))
    link = row.value.get("link") if row is not None else None
    return str(link) if link else None


def save_delta_link(kind: str, link: str | None) -> None:
    """Keep ``link`` for the next round (None forgets it); commits."""
    from webapp.extensions import db
    from webapp.models import SyncControl, utcnow

    key = _key(kind)
    row = db.session.get(SyncControl, key)
    if link is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(SyncControl(key=key, value={"link": link, "at": utcnow().isoformat()}))
    else:
        row.value = {"link": link, "at": utcnow().isoformat()}
    db.session.commit()


def forget_delta_link(kind: str) -> None:
    save_delta_link(kind, None)
