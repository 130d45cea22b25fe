"""Discovery: every Entra user and group, kept between runs and updated by delta queries.

Users and groups are read with delta queries (delta-query-overview, user-delta, group-delta:
`GET /users/delta` and `/groups/delta` with `$select`, `Prefer: odata.maxpagesize=999`,
following `@odata.nextLink` to the `@odata.deltaLink`) as raw JSON pages through the Graph
boundary, so no SDK model is parsed (11–15 ms per user, graph-facts.md). What the pages hold
goes to a Redis mirror kept from one run to the next (`jobs/graph/delta_mirror.py`): the
objects by id, an index per match key, and each group's member ids (`members@delta`). The
first run reads everything; a later run goes on from the kept deltaLink and reads only what
changed. A 410 (`DeltaExpired`), a lost mirror or a changed `$select` / match keys start a
full round inside the run. One RQ job reads one page and chains the next, so a first run
on a 100k-user tenant is 100 short jobs; the deltaLink is kept only by a round's last page.
The chunk jobs look objects up in the mirror through `DiscoveredView`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from redis import Redis

from jobs.fullsync import keys
from jobs.graph.delta import DeltaExpired, forget_delta_link, save_delta_link
from jobs.graph.delta import read_page as read_delta_page
from jobs.graph.delta_mirror import DeltaMirror, full_round_url
from jobs.graph.groups import GROUP_SELECT
from jobs.graph.users import USER_SELECT
from jobs.sync.context import SyncContext
from mappings import ObjectError

log = logging.getLogger(__name__)

# Updatable properties a custom mapping may set, read too so their drift can be seen
# (a property not read is compared by the payload hash only).
USER_EXTRA = (
    "jobTitle", "department", "companyName", "officeLocation", "mobilePhone", "businessPhones",
    "city", "country", "state", "streetAddress", "postalCode", "usageLocation", "employeeId",
    "employeeType", "preferredLanguage", "otherMails",
)
# "members" gives groups their members@delta (group-delta), so the members phase needs no
# member-list read for a group the mirror knows.
SELECT = {"user": (*USER_SELECT, *USER_EXTRA),
          "group": (*GROUP_SELECT, "visibility", "members")}
RUN_TTL = 3 * 24 * 3600  # seconds: a run's data outlives any run; deleted when it ends


def index_keys(ctx: SyncContext, kind: str) -> tuple[str, ...]:
    return ctx.users.match_keys if kind == "user" else ctx.groups.match_keys


def mirror(redis: Redis, kind: str, ctx: SyncContext | None = None) -> DeltaMirror:
    """The kept objects of ``kind``; ``ctx`` gives the index keys a page must maintain."""
    return DeltaMirror(redis, f"{kind}s", prefix=keys.mirror(),
                       index_keys=index_keys(ctx, kind) if ctx else (),
                       members=kind == "group")


def full_url(ctx: SyncContext, kind: str) -> str:
    """The first page of a full round (every object)."""
    return full_round_url(ctx.graph, f"{kind}s", SELECT[kind])


def first_url(ctx: SyncContext, redis: Redis, kind: str) -> str:
    """Where this run's discovery of ``kind`` starts: the kept deltaLink, or a full round."""
    full = full_url(ctx, kind)
    return mirror(redis, kind, ctx).start_url(full)


def read_page(ctx: SyncContext, url: str) -> dict[str, Any]:
    """One raw delta page; `DeltaExpired` on 410."""
    return read_delta_page(ctx.graph, url)


@dataclass
class PageRead:
    count: int  # objects (changes) on the page
    next_url: str | None  # None: the round ended and its deltaLink is kept
    restarted: bool = False  # next_url begins a full round (410, or the mirror was lost)


def read_into_mirror(ctx: SyncContext, redis: Redis, kind: str, url: str) -> PageRead:
    """Read one page into the mirror. The first page of a full round empties the mirror
    first (again if it is retried: nothing later was applied, the run's cursor saw to it)."""
    kept = mirror(redis, kind, ctx)
    full = full_url(ctx, kind)
    if url == full:
        kept.begin_full(full)
        forget_delta_link(f"{kind}s")
    elif not kept.in_round():
        log.warning("discovery of %ss: the mirror was lost mid-round; a full round", kind)
        return PageRead(0, full, restarted=True)
    try:
        page = read_page(ctx, url)
    except DeltaExpired as exc:  # delta-query-overview "Synchronization reset"
        log.warning("discovery of %ss: %s; a full round", kind, exc)
        return PageRead(0, full, restarted=True)
    next_url = kept.apply_page(page)
    if next_url is None:
        save_delta_link(f"{kind}s", kept.kept_link(full))  # for operators (SyncControl)
    return PageRead(len(page.get("value", [])), next_url)


class Ambiguous(ObjectError):
    """A per-object error (the engine's ACTIONS table): the others go on."""

    def __init__(self, key: str, value: str, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} Entra objects have {key} {value!r}: {', '.join(ids)}; "
                         "link one by hand or make the value unique (never guessed)")
        self.ids = ids


class DiscoveredView:
    """The discovered objects of one kind (the mirror), read from Redis as a chunk needs
    them."""

    def __init__(self, redis: Redis, kind: str) -> None:
        self.kind = kind
        self.mirror = mirror(redis, kind)

    def get(self, entra_id: str) -> dict[str, Any] | None:
        return self.mirror.get(entra_id)

    def ids_for(self, key: str, value: Any) -> list[str]:
        return self.mirror.ids_for(key, value)

    def members_of(self, entra_id: str) -> set[str] | None:
        """A group's member ids as discovery saw them; None: not known, read the list."""
        return self.mirror.members_of(entra_id)

    def match(self, match_keys: Iterable[str], values: dict[str, Any]) -> dict[str, Any] | None:
        """The first match key (in order) that names exactly one object; two or more on a
        key is an error (`Ambiguous`), none goes on to the next key."""
        keys = list(match_keys)
        for key, ids in zip(keys, self.mirror.ids_for_each([(k, values.get(k)) for k in keys]),
                            strict=True):
            if len(ids) > 1:
                raise Ambiguous(key, str(values.get(key)), ids)
            if ids:
                return self.get(ids[0])
        return None
