"""The one write() template for every object type (authentik's shared write, done better).

- no link -> create; ObjectConflict (400, details ObjectConflict: user-post-users) -> find by
  the configured match keys and link, never a duplicate;
- AmbiguousWrite on create (503/504/timeout after sending) -> look up by the keys we set
  (users: userPrincipalName; groups: displayName + mailNickname) and link what our create
  made, else create once more;
- link -> update (the caller says whether the payload hash changed);
- 404 on update -> the link is stale: create again ("recreated").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jobs.graph.directory import DirectoryClient, Remote
from jobs.graph.errors import AmbiguousWrite, NotFound, ObjectConflict

Action = Literal["created", "updated", "linked", "recreated", "unchanged"]
Payload = Mapping[str, Any]


@dataclass(frozen=True)
class WriteResult:
    action: Action
    entra_id: str
    remote_attributes: dict[str, Any] = field(default_factory=dict)


def write(client: DirectoryClient, payload: Payload, entra_id: str | None = None, *,
          changed: bool = True, lookup_first: bool = False,
          hints: Mapping[str, Any] | None = None, update_on_link: bool = True,
          settle: float = 1.0,
          create_payload: Callable[[], Payload] | None = None) -> WriteResult:
    """Bring one Entra object to ``payload`` (the Graph JSON for a create).

    ``entra_id``: the linked object, if any. ``changed``: False when the payload hash equals
    the last pushed one (no request then). ``lookup_first``: look for the object before
    creating (set it when an earlier create of this object may have gone through unseen).
    ``hints``: match-key values the payload lacks. ``settle``: seconds to wait before a
    second look-up after an ambiguous create (lists lag behind writes).
    ``create_payload``: the body for creating again after a 404 on update, when it differs
    from the update's (a user's first create needs a passwordProfile; updates never send one).
    """
    if entra_id is None:
        return _create_or_link(client, payload, lookup_first, hints, update_on_link, settle)
    if not changed:
        return WriteResult("unchanged", entra_id)
    body = client.update_body(payload)
    try:
        client.update(entra_id, body)
    except NotFound:
        again = create_payload() if create_payload is not None else payload
        result = _create_or_link(client, again, False, hints, update_on_link, settle)
        return result if result.action == "linked" else _as(result, "recreated")
    return WriteResult("updated", entra_id, body)


def _create_or_link(client: DirectoryClient, payload: Payload, lookup_first: bool,
                    hints: Mapping[str, Any] | None, update_on_link: bool,
                    settle: float) -> WriteResult:
    if lookup_first:
        found = client.find_own(payload) or client.find_match(payload, hints)
        if found is not None:
            return _link(client, found, payload, update_on_link)
    try:
        return _create(client, payload, hints, update_on_link, settle)
    except AmbiguousWrite:
        found = _settled(lambda: client.find_own(payload), settle, tries=2)
        if found is not None:
            client.graph.note_created(found.id)  # ours, moments old: a 404 is replication
            return WriteResult("created", found.id, found.attributes)
        # the create did not go through: once more (a second AmbiguousWrite propagates)
        return _create(client, payload, hints, update_on_link, settle, fresh=True)


def _create(client: DirectoryClient, payload: Payload, hints: Mapping[str, Any] | None,
            update_on_link: bool, settle: float, fresh: bool = False) -> WriteResult:
    try:
        remote = client.create(payload)
    except ObjectConflict:
        # the object exists: give lagging lists a few chances to show it
        found = _settled(lambda: client.find_match(payload, hints) or client.find_own(payload),
                         settle, tries=4)
        if found is None:
            raise  # e.g. the UPN is held by a soft-deleted user: a per-object error
        if fresh:  # after an ambiguous create the conflicting object is probably ours
            client.graph.note_created(found.id)
        return _link(client, found, payload, update_on_link)
    return WriteResult("created", remote.id, remote.attributes)


def _link(client: DirectoryClient, found: Remote, payload: Payload,
          update_on_link: bool) -> WriteResult:
    attributes = dict(found.attributes)
    if update_on_link:
        body = client.link_body(payload)
        client.update(found.id, body)
        attributes.update(body)
    return WriteResult("linked", found.id, attributes)


def _settled(look: Callable[[], Remote | None], settle: float, tries: int) -> Remote | None:
    """Look up to ``tries`` times, ``settle`` seconds apart (lists lag behind writes)."""
    found = look()
    for _ in range(tries - 1 if settle > 0 else 0):
        if found is not None:
            break
        time.sleep(settle)
        found = look()
    return found


def _as(result: WriteResult, action: Action) -> WriteResult:
    return WriteResult(action, result.entra_id, result.remote_attributes)
