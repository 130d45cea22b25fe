"""A match-key index of the delta mirror: lower-cased value -> JSON list of object ids.

Kept right as objects change or go (``@removed``) in delta pages: an id leaves the entry of
its old value and joins the entry of its new one. Adding an id already listed changes
nothing, so a page applied twice leaves the index as it was. Two objects on one value stay
two ids, so a caller sees the value as ambiguous instead of one object being guessed.
"""

from __future__ import annotations

import json
from typing import Any

from redis import Redis

Obj = dict[str, Any]


def value_of(obj: Obj | None, key: str) -> str | None:
    """The index value of ``obj`` (lower case: Graph matches these keys case-insensitively)."""
    value = obj.get(key) if obj else None
    return value.lower() if isinstance(value, str) and value else None


def index_updates(redis: Redis, name: str, key: str, before: dict[str, Obj | None],
                  after: dict[str, Obj | None]) -> tuple[dict[str, str], list[str]]:
    """(entries to write, values left without ids) for one page's objects, ``before`` and
    ``after`` the page; reads the entries concerned (one HMGET)."""
    leaving: dict[str, set[str]] = {}
    joining: dict[str, list[str]] = {}
    for object_id, obj in after.items():
        old, new = value_of(before[object_id], key), value_of(obj, key)
        if old is not None and old != new:
            leaving.setdefault(old, set()).add(object_id)
        if new is not None:
            joining.setdefault(new, []).append(object_id)
    values = list(dict.fromkeys([*leaving, *joining]))
    if not values:
        return {}, []
    changed: dict[str, str] = {}
    emptied: list[str] = []
    for value, raw in zip(values, redis.hmget(name, values), strict=True):
        ids = json.loads(raw) if raw else []
        kept = [i for i in ids if i not in leaving.get(value, ())]
        updated = list(dict.fromkeys([*kept, *joining.get(value, [])]))
        if updated == ids:
            continue
        if updated:
            changed[value] = json.dumps(updated)
        else:
            emptied.append(value)
    return changed, emptied
