"""Entra's users or groups kept in Redis between full syncs, brought up to date by delta.

A full sync needs every Entra object of a kind (to link, match and see drift), but a delta
round returns only what changed (delta-query-overview), so the objects are kept from one run
to the next: one Redis hash per kind (id -> JSON), updated page by page from delta rounds,
with an index per match key (lower-cased value -> ids; Graph compares these keys
case-insensitively) and, for groups read with ``members``, one set of member ids per group
(from ``members@delta``, group-delta). Changed objects may carry only their changed
properties ("at least their updated properties", user-delta), so a change is merged into
the kept object.

The deltaLink is kept beside the hash, and set only by the last page of a round, so a round
cut short starts again from the previous link (a page applied twice is harmless: merges,
set adds and removes). The mirror is trusted only with its link and the same signature
(delta URL with its ``$select``, index keys; Redis loses keys all at once, with FLUSHALL or
a restart without persistence, never one by one: RQ needs ``noeviction`` too); anything
else is a full round,
which empties the mirror when its first page is applied. A 410 (``DeltaExpired``) also
means a full round. Page by page, so discovery can stay one short job per page::

    mirror = DeltaMirror(redis, "users", index_keys=("mail",))
    full = mirror.full_url(boundary, select)
    url = mirror.start_url(full)
    while url:                                      # (one job per page in a full sync)
        if url == full:
            mirror.begin_full(full)                 # emptied; marked as filling
        try:
            url = mirror.apply_page(read_page(boundary, url))
        except DeltaExpired:
            url = full

``refresh()`` does that loop in one call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from redis import Redis

from jobs.graph.boundary import GraphBoundary
from jobs.graph.delta import KINDS, PAGE_PREFER, DeltaChange, DeltaExpired, change_of, read_page
from jobs.graph.delta_index import index_updates

PREFIX = "scim2entra:mirror"
Obj = dict[str, Any]


class DeltaMirror:
    headers = {"Prefer": PAGE_PREFER}  # for callers reading pages themselves

    def __init__(self, redis: Redis, kind: str, prefix: str = PREFIX,
                 index_keys: Iterable[str] = (), members: bool = False) -> None:
        if kind not in KINDS:
            raise ValueError(f"mirrors exist for {KINDS}, not {kind!r}")
        self.redis = redis
        self.kind = kind
        self.index_keys = tuple(index_keys)
        self.members = members  # the rounds select members: member sets are complete
        self.base = f"{prefix}:{kind}"
        self.objects_key = f"{self.base}:obj"
        self.link_key = f"{self.base}:link"
        self.sig_key = f"{self.base}:sig"
        self.filling_key = f"{self.base}:filling"  # set while a full round fills the mirror
        self.keys_key = f"{self.base}:keys"  # the index and member-set keys written so far

    def index_key(self, key: str) -> str:
        return f"{self.base}:idx:{key}"

    def members_key(self, object_id: str) -> str:
        return f"{self.base}:members:{object_id}"

    # -- where a round starts ------------------------------------------------------------

    def full_url(self, boundary: GraphBoundary, select: Iterable[str]) -> str:
        return full_round_url(boundary, self.kind, select)

    def signature(self, full_url: str) -> str:
        return json.dumps([full_url, self.index_keys, self.members])

    def kept_link(self, full_url: str) -> str | None:
        """The deltaLink to go on from, if the mirror is whole and was built the same way."""
        link, sig = self.redis.mget(self.link_key, self.sig_key)
        if not link or not sig or _text(sig) != self.signature(full_url):
            return None
        return _text(link)

    def start_url(self, full_url: str) -> str:
        """Where the next round starts: the kept deltaLink, or ``full_url`` (a full round)."""
        return self.kept_link(full_url) or full_url

    def begin_full(self, full_url: str) -> None:
        """Empty the mirror for a full round (its first page; again if that page is retried)."""
        self.clear()
        with self.redis.pipeline() as pipe:
            pipe.set(self.sig_key, self.signature(full_url))
            pipe.set(self.filling_key, 1)
            pipe.execute()

    def in_round(self) -> bool:
        """Can a page after the first be applied: a whole mirror (going on from its link)
        or one a full round is filling. False once it was lost (Redis flushed)."""
        return bool(self.redis.exists(self.link_key, self.filling_key))

    def clear(self) -> None:
        """Forget everything, the indexes of other match keys too (UNLINK: a 100k-field hash
        is freed off Redis's main thread). The keys come from the mirror's own list, not a
        SCAN, which reads the whole keyspace (half a second at 270,000 keys of RQ jobs)."""
        names = (_text(n) for n in self.redis.sscan_iter(self.keys_key, count=1000))
        for batch in _batches(names, 1000):
            self.redis.unlink(*batch)
        self.redis.unlink(self.objects_key, self.link_key, self.sig_key, self.filling_key,
                          self.keys_key)

    # -- one page ------------------------------------------------------------------------

    def apply_page(self, page: dict[str, Any]) -> str | None:
        """Merge one delta page into the mirror; the next page's URL, or None at the end of
        the round (the deltaLink is then kept for the next round)."""
        changes = [change_of(item) for item in page.get("value", []) if item.get("id")]
        ids = list(dict.fromkeys(c.id for c in changes))
        raw = self.redis.hmget(self.objects_key, ids) if ids else []
        before: dict[str, Obj | None] = {
            i: json.loads(r) if r else None for i, r in zip(ids, raw, strict=True)}
        after = _merged(before, changes)
        index = {key: index_updates(self.redis, self.index_key(key), key, before, after)
                 for key in self.index_keys}
        next_url = page.get("@odata.nextLink")
        with self.redis.pipeline() as pipe:
            gone = [i for i, obj in after.items() if obj is None]
            kept = {i: json.dumps(obj) for i, obj in after.items() if obj is not None}
            if gone:
                pipe.hdel(self.objects_key, *gone)
            if kept:
                pipe.hset(self.objects_key, mapping=kept)  # type: ignore[arg-type]
            if any(changed for changed, _ in index.values()):
                pipe.sadd(self.keys_key, *(self.index_key(k) for k in index))
            for key, (changed, emptied) in index.items():
                if emptied:
                    pipe.hdel(self.index_key(key), *emptied)
                if changed:
                    pipe.hset(self.index_key(key), mapping=changed)  # type: ignore[arg-type]
            if self.members:
                self._members(pipe, changes)
            if next_url is None and page.get("@odata.deltaLink"):
                pipe.set(self.link_key, str(page["@odata.deltaLink"]))
                pipe.delete(self.filling_key)
            pipe.execute()
        return str(next_url) if next_url else None

    def _members(self, pipe: Any, changes: list[DeltaChange]) -> None:
        # in page order: one group may come more than once (group-delta), each time with
        # a part of its members@delta
        for change in changes:
            key = self.members_key(change.id)
            if change.removed:
                pipe.delete(key)
                continue
            if change.members_added:
                pipe.sadd(self.keys_key, key)
                pipe.sadd(key, *change.members_added)
            if change.members_removed:
                pipe.srem(key, *change.members_removed)

    def refresh(self, boundary: GraphBoundary, select: Iterable[str]) -> int:
        """Bring the mirror up to date in one call; returns the pages read."""
        full = self.full_url(boundary, select)
        url: str | None = self.start_url(full)
        pages = 0
        while url:
            pages += 1
            if url == full:
                self.begin_full(full)
            try:
                url = self.apply_page(read_page(boundary, url))
            except DeltaExpired:
                url = full
        return pages

    # -- reading -------------------------------------------------------------------------

    def get(self, object_id: str) -> Obj | None:
        raw = self.redis.hget(self.objects_key, object_id)
        return json.loads(raw) if raw else None  # type: ignore[arg-type]

    def ids_for(self, key: str, value: Any) -> list[str]:
        """Ids of the objects whose ``key`` is ``value`` (case-insensitive)."""
        return self.ids_for_each([(key, value)])[0]

    def ids_for_each(self, values: list[tuple[str, Any]]) -> list[list[str]]:
        """`ids_for` of each (key, value), in one round trip to Redis."""
        asked = [(k, v.lower()) for k, v in values if isinstance(v, str) and v]
        with self.redis.pipeline(transaction=False) as pipe:
            for key, value in asked:
                pipe.hget(self.index_key(key), value)
            found = iter(pipe.execute())
        out: list[list[str]] = []
        for _, value in values:
            raw = next(found) if isinstance(value, str) and value else None
            out.append(list(json.loads(raw)) if raw else [])
        return out

    def members_of(self, object_id: str) -> set[str] | None:
        """A kept group's member ids; None when the mirror does not know them (members not
        read, or a group the last round did not see)."""
        if not self.members or not self.redis.hexists(self.objects_key, object_id):
            return None
        return {_text(m) for m in self.redis.smembers(self.members_key(object_id))}  # type: ignore[union-attr]

    def objects(self, batch: int = 1000) -> Iterator[Obj]:
        """Every kept object (HSCAN: memory stays flat for a large tenant)."""
        for _, raw in self.redis.hscan_iter(self.objects_key, count=batch):
            yield json.loads(raw)

    def __len__(self) -> int:
        return int(self.redis.hlen(self.objects_key))


def full_round_url(boundary: GraphBoundary, kind: str, select: Iterable[str]) -> str:
    """The first page of a round that returns every object (no deltaLink yet)."""
    return boundary.url(f"/{kind}/delta", {"$select": ",".join(select)})


def _merged(before: dict[str, Obj | None], changes: list[DeltaChange]) -> dict[str, Obj | None]:
    """Each object after the page's changes, in order (``@removed``: gone)."""
    after = dict(before)
    for change in changes:
        previous = after[change.id]
        after[change.id] = None if change.removed else {**(previous or {}),
                                                        **change.attributes}
    return after


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
