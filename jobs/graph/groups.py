"""Groups and their members: https://learn.microsoft.com/en-us/graph/api/resources/group.

Graph enforces no uniqueness on a security group's displayName or mailNickname, so a
replayed create makes a twin; ``find_own`` looks a create up by both keys (graph-facts.md).
Members: group-update with ``members@odata.bind`` (at most 20 per request, all or nothing),
group-post-members ($ref, one at a time; already there: 400 "...already exist"),
group-delete-members ($ref), group-list-members.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jobs.graph.batch import MAX_BATCH, BatchRequest
from jobs.graph.boundary import GraphBoundary
from jobs.graph.directory import DirectoryClient, Remote, eq
from jobs.graph.errors import (
    AlreadyMember,
    AuthFailed,
    BadRequest,
    GraphSyncError,
    NotFound,
    Transient,
)

GROUP_SELECT = (
    "id", "displayName", "mailNickname", "description", "mailEnabled", "securityEnabled",
    "groupTypes", "createdDateTime",
)
BIND_CHUNK = 20  # group-update: "up to 20 members in a single request"


@dataclass
class MemberChanges:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # already (not) a member: done
    failed: dict[str, GraphSyncError] = field(default_factory=dict)  # per member
    requests: int = 0


class GroupsClient(DirectoryClient):
    collection = "/groups"
    kind = "group"
    select = GROUP_SELECT
    lookup_keys = frozenset({"displayName", "mailNickname"})
    # a group found by name keeps its kind: security vs Microsoft 365 is not ours to flip
    # (group-update: securityEnabled is updatable for Microsoft 365 groups only)
    kept_on_link = frozenset({"mailEnabled", "securityEnabled", "groupTypes"})

    def __init__(self, boundary: GraphBoundary,
                 match_keys: Iterable[str] | None = None) -> None:
        keys = boundary.settings.group_match if match_keys is None else match_keys
        super().__init__(boundary, keys)

    def find_own(self, payload: Mapping[str, Any]) -> Remote | None:
        """Our group: same displayName and mailNickname; of twins, the oldest."""
        name, nick = payload.get("displayName"), payload.get("mailNickname")
        if not name or not nick:
            return None
        found = self.find_all(f"{eq('displayName', name)} and {eq('mailNickname', nick)}")
        found.sort(key=lambda r: str(r.attributes.get("createdDateTime") or ""))
        return found[0] if found else None

    # -- members ---------------------------------------------------------------------------
    def list_members(self, group_id: str) -> Iterator[str]:
        """Ids of the direct members (raw pages, $select=id)."""
        items = self.graph.get_pages(f"/groups/{group_id}/members",
                                     {"$select": "id", "$top": 999})
        return (str(item["id"]) for item in items if item.get("id"))

    def add_members(self, group_id: str, member_ids: Iterable[str]) -> MemberChanges:
        """Add members 20 per PATCH; a chunk Graph refuses as a whole is added one by one."""
        ids = list(dict.fromkeys(member_ids))
        changes = MemberChanges()
        for start in range(0, len(ids), BIND_CHUNK):
            chunk = ids[start:start + BIND_CHUNK]
            body = {"members@odata.bind": [self.graph.directory_object_url(m) for m in chunk]}
            changes.requests += 1
            try:
                self.graph.patch_json(f"/groups/{group_id}", body)
            except (AlreadyMember, NotFound, BadRequest) as err:
                # all or nothing: one present, missing or bad member fails the whole chunk
                if isinstance(err, NotFound) and group_id in err.message:
                    raise
                self._add_one_by_one(group_id, chunk, changes)
                continue
            changes.added += chunk
        return changes

    def _add_one_by_one(self, group_id: str, chunk: list[str], changes: MemberChanges) -> None:
        for member_id in chunk:
            changes.requests += 1
            try:
                self.add_member(group_id, member_id)
            except AlreadyMember:
                changes.already.append(member_id)
                continue
            except (AuthFailed, Transient):
                raise
            except GraphSyncError as err:
                if isinstance(err, NotFound) and group_id in err.message:
                    raise
                changes.failed[member_id] = err
                continue
            changes.added.append(member_id)

    def add_member(self, group_id: str, member_id: str) -> None:
        """POST .../members/$ref; raises AlreadyMember when it is one (callers: done)."""
        body = {"@odata.id": self.graph.directory_object_url(member_id)}
        # replaying an add is harmless (it meets "already exist"), so retries are allowed
        self.graph.post_json(f"/groups/{group_id}/members/$ref", body, replay_safe=True)

    def remove_member(self, group_id: str, member_id: str) -> bool:
        """DELETE .../members/{id}/$ref; False when it was not a member (404: done)."""
        try:
            self.graph.delete(f"/groups/{group_id}/members/{member_id}/$ref")
        except NotFound:
            return False
        return True

    def remove_members(self, group_id: str, member_ids: Iterable[str]) -> MemberChanges:
        """Remove members 20 per JSON $batch round trip; 404 items count as done."""
        ids = list(dict.fromkeys(member_ids))
        changes = MemberChanges()
        for start in range(0, len(ids), MAX_BATCH):
            chunk = ids[start:start + MAX_BATCH]
            requests = [BatchRequest("DELETE", f"/groups/{group_id}/members/{m}/$ref")
                        for m in chunk]
            changes.requests += 1
            for member_id, answer in zip(chunk, self.graph.batch(requests), strict=True):
                if answer.error is None:
                    changes.removed.append(member_id)
                elif isinstance(answer.error, NotFound):
                    changes.already.append(member_id)
                else:
                    changes.failed[member_id] = answer.error
        return changes
