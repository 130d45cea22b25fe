"""Discovery: every Entra user and group read once per run, as raw JSON pages.

`GET /users` and `GET /groups` with `$select` and `$top=999` (the user-list / group-list
pages; graph "paging": follow `@odata.nextLink`) through the Graph boundary, so no SDK model
is parsed (11–15 ms per user, graph-facts.md). One RQ job reads one page and chains the next,
so a 100k-user tenant is 100 short jobs. What a page holds goes to Redis, where the chunk
jobs look it up: the objects by id, and an index per match key (lower case; Graph compares
these keys case-insensitively) from value to the ids holding it, so two Entra objects on one
value are seen as ambiguous instead of one being guessed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from redis import Redis

from jobs.fullsync import keys
from jobs.graph.groups import GROUP_SELECT
from jobs.graph.users import USER_SELECT
from jobs.sync.context import SyncContext
from mappings import ObjectError

# Updatable properties a custom mapping may set, read too so their drift can be seen
# (a property not read is compared by the payload hash only).
USER_EXTRA = (
    "jobTitle", "department", "companyName", "officeLocation", "mobilePhone", "businessPhones",
    "city", "country", "state", "streetAddress", "postalCode", "usageLocation", "employeeId",
    "employeeType", "preferredLanguage", "otherMails",
)
SELECT = {"user": (*USER_SELECT, *USER_EXTRA), "group": (*GROUP_SELECT, "visibility")}
RUN_TTL = 3 * 24 * 3600  # seconds: a run's data outlives any run; deleted when it ends


def first_url(ctx: SyncContext, kind: str) -> str:
    client = ctx.users if kind == "user" else ctx.groups
    return ctx.graph.url(client.collection, {"$select": ",".join(SELECT[kind]), "$top": 999})


def read_page(ctx: SyncContext, url: str) -> tuple[list[dict[str, Any]], str | None]:
    page = ctx.graph.get_json(url)
    items = [item for item in page.get("value", []) if item.get("id")]
    return items, page.get("@odata.nextLink")


def index_keys(ctx: SyncContext, kind: str) -> tuple[str, ...]:
    return ctx.users.match_keys if kind == "user" else ctx.groups.match_keys


def store(redis: Redis, run_id: str, kind: str, items: list[dict[str, Any]],
          match_keys: Iterable[str]) -> None:
    """Keep the page's objects and index them by each match key (re-reading a page after a
    resume adds nothing twice)."""
    if not items:
        return
    objects = keys.run(run_id, kind, "obj")
    with redis.pipeline() as pipe:
        pipe.hset(objects, mapping={item["id"]: json.dumps(item) for item in items})
        pipe.expire(objects, RUN_TTL)
        pipe.execute()
    for key in match_keys:
        _index(redis, keys.run(run_id, kind, "idx", key), items, key)


def _index(redis: Redis, name: str, items: list[dict[str, Any]], key: str) -> None:
    found: dict[str, list[str]] = {}
    for item in items:
        value = item.get(key)
        if isinstance(value, str) and value:
            found.setdefault(value.lower(), []).append(item["id"])
    if not found:
        return
    values = list(found)
    known = redis.hmget(name, values)
    merged: dict[Any, Any] = {}
    for value, before in zip(values, known, strict=True):
        ids = json.loads(before) if before else []
        merged[value] = json.dumps(list(dict.fromkeys([*ids, *found[value]])))
    redis.hset(name, mapping=merged)
    redis.expire(name, RUN_TTL)


class Ambiguous(ObjectError):
    """A per-object error (the engine's ACTIONS table): the others go on."""

    def __init__(self, key: str, value: str, ids: list[str]) -> None:
        super().__init__(f"{len(ids)} Entra objects have {key} {value!r}: {', '.join(ids)}; "
                         "link one by hand or make the value unique (never guessed)")
        self.ids = ids


class DiscoveredView:
    """A run's discovered objects of one kind, read from Redis as a chunk needs them."""

    def __init__(self, redis: Redis, run_id: str, kind: str) -> None:
        self.redis = redis
        self.run_id = run_id
        self.kind = kind

    def get(self, entra_id: str) -> dict[str, Any] | None:
        raw = self.redis.hget(keys.run(self.run_id, self.kind, "obj"), entra_id)
        return json.loads(raw) if raw else None  # type: ignore[arg-type]

    def ids_for(self, key: str, value: Any) -> list[str]:
        if not isinstance(value, str) or not value:
            return []
        raw = self.redis.hget(keys.run(self.run_id, self.kind, "idx", key), value.lower())
        return list(json.loads(raw)) if raw else []  # type: ignore[arg-type]

    def match(self, match_keys: Iterable[str], values: dict[str, Any]) -> dict[str, Any] | None:
        """The first match key (in order) that names exactly one object; two or more on a
        key is an error (`Ambiguous`), none goes on to the next key."""
        for key in match_keys:
            ids = self.ids_for(key, values.get(key))
            if len(ids) > 1:
                raise Ambiguous(key, str(values.get(key)), ids)
            if ids:
                return self.get(ids[0])
        return None
