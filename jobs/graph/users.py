"""Users: https://learn.microsoft.com/en-us/graph/api/resources/user (v1.0).

userPrincipalName and onPremisesImmutableId are unique in a tenant (user-post-users: a
duplicate is 400 with details[].code ObjectConflict), so a replayed create cannot duplicate
a user; lookups by userPrincipalName, mail, onPremisesImmutableId (user-list, $filter eq).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jobs.graph.boundary import GraphBoundary
from jobs.graph.directory import DirectoryClient, Remote

USER_SELECT = (
    "id", "userPrincipalName", "mail", "mailNickname", "displayName", "givenName", "surname",
    "accountEnabled", "onPremisesImmutableId", "userType", "createdDateTime",
)


class UsersClient(DirectoryClient):
    collection = "/users"
    kind = "user"
    select = USER_SELECT
    lookup_keys = frozenset({"userPrincipalName", "mail", "onPremisesImmutableId"})
    # passwordProfile: create only (updating it needs another permission and resets the
    # password); onPremisesImmutableId: a found user keeps its own (authentik-lessons.md).
    write_once = frozenset({"passwordProfile"})
    kept_on_link = frozenset({"onPremisesImmutableId"})

    def __init__(self, boundary: GraphBoundary,
                 match_keys: Iterable[str] | None = None) -> None:
        keys = boundary.settings.user_match if match_keys is None else match_keys
        super().__init__(boundary, keys)

    def find_own(self, payload: Mapping[str, Any]) -> Remote | None:
        upn = payload.get("userPrincipalName")
        return self.find_by("userPrincipalName", upn) if upn else None
