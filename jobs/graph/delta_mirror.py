"""Entra's users or groups kept in Redis between full syncs, brought up to date by delta.

A full sync needs every Entra object of a kind (to link, match and see drift), but a delta
round returns only what changed (delta-query-overview), so the objects are kept from one run
to the next: one Redis hash per kind (id -> JSON), updated page by page from delta rounds.
The deltaLink is kept beside the hash in Redis (and in SyncControl for operators, see
``delta.save_delta_link``): a mirror without its link, or a link whose mirror is gone (Redis
flushed), starts again from a full round; so does a 410 (``DeltaExpired``).

Page by page, so discovery can stay one short job per page (jobs/fullsync)::

    mirror = DeltaMirror(redis, "users")
    url = mirror.start_url(boundary, select)        # deltaLink, or a full round (cleared)
    while url:                                      # (one job per page in a full sync)
        try:
            url = mirror.apply_page(read_page(boundary, url))
        except DeltaExpired:
            url = mirror.start_url(boundary, select, reset=True)
    for item in mirror.objects(): ...               # every object, as the run's discovery

``refresh()`` does that loop in one call.

Changed objects may carry only their changed properties ("at least their updated
properties", user-delta), so a change is merged into the kept object.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from redis import Redis

from jobs.graph.boundary import GraphBoundary
from jobs.graph.delta import KINDS, PAGE_PREFER, DeltaExpired, change_of, read_page

PREFIX = "scim2entra:mirror"


class DeltaMirror:
    headers = {"Prefer": PAGE_PREFER}  # for callers reading pages themselves

    def __init__(self, redis: Redis, kind: str, prefix: str = PREFIX) -> None:
        if kind not in KINDS:
            raise ValueError(f"mirrors exist for {KINDS}, not {kind!r}")
        self.redis = redis
        self.kind = kind
        self.objects_key = f"{prefix}:{kind}:obj"
        self.link_key = f"{prefix}:{kind}:link"

    def start_url(self, boundary: GraphBoundary, select: Iterable[str],
                  reset: bool = False) -> str:
        """Where this round starts: the kept deltaLink, or (no link, ``reset``) a full round
        into an emptied mirror."""
        link = None if reset else self.redis.get(self.link_key)
        if link:
            return link.decode() if isinstance(link, bytes) else str(link)
        self.redis.delete(self.objects_key, self.link_key)
        return boundary.url(f"/{self.kind}/delta", {"$select": ",".join(select)})

    def apply_page(self, page: dict[str, Any]) -> str | None:
        """Merge one delta page into the mirror; the next page's URL, or None at the end of
        the round (the deltaLink is then kept for the next round)."""
        changes = [change_of(item) for item in page.get("value", []) if item.get("id")]
        removed = [c.id for c in changes if c.removed]
        kept = [c for c in changes if not c.removed]
        before = self.redis.hmget(self.objects_key, [c.id for c in kept]) if kept else []
        merged: dict[Any, Any] = {}  # redis-py types Mapping as invariant
        for change, old in zip(kept, before, strict=True):
            base = json.loads(old) if old else {}
            merged[change.id] = json.dumps({**base, **change.attributes})
        with self.redis.pipeline() as pipe:
            if removed:
                pipe.hdel(self.objects_key, *removed)
            if merged:
                pipe.hset(self.objects_key, mapping=merged)
            next_url = page.get("@odata.nextLink")
            if next_url is None and page.get("@odata.deltaLink"):
                pipe.set(self.link_key, str(page["@odata.deltaLink"]))
            pipe.execute()
        return str(next_url) if next_url else None

    def refresh(self, boundary: GraphBoundary, select: Iterable[str]) -> int:
        """Bring the mirror up to date in one call; returns the pages read."""
        url: str | None = self.start_url(boundary, select)
        pages = 0
        while url:
            pages += 1
            try:
                url = self.apply_page(read_page(boundary, url))
            except DeltaExpired:
                url = self.start_url(boundary, select, reset=True)
        return pages

    def objects(self, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every kept object (HSCAN: memory stays flat for a large tenant)."""
        for _, raw in self.redis.hscan_iter(self.objects_key, count=batch):
            yield json.loads(raw)

    def __len__(self) -> int:
        return int(self.redis.hlen(self.objects_key))
