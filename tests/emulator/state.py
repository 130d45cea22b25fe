"""The directory store: users, groups, memberships, domains, deleted items and the change log
that feeds delta queries. Handlers validate; this module stores, indexes and records changes.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .seeding import group_defaults, user_defaults

UNIQUE_USER_PROPS = ("userPrincipalName", "onPremisesImmutableId")


class Clock:
    """Emulator time; ``offset`` lets tests jump forward (token expiry, delta token age)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def iso(self, ts: float | None = None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now() if ts is None else ts))


@dataclass
class Change:
    """One entry of the change log read by /users/delta and /groups/delta."""

    seq: int
    kind: str  # "user" | "group"
    object_id: str
    op: str  # "upsert" | "delete" | "member_add" | "member_remove"
    member_id: str = ""
    member_kind: str = ""
    reason: str = "changed"  # "@removed" reason: changed (soft delete) or deleted (purged)


@dataclass
class Deleted:
    kind: str
    obj: dict[str, Any]
    groups: list[str]
    password: str


@dataclass
class Meta:
    seq: int
    created: float  # time.monotonic() at create, for the eventual-consistency knob
    kind: str


@dataclass
class Directory:
    tenant_id: str
    tenant_name: str
    verified_domains: list[str] = field(default_factory=lambda: ["example.com"])
    unverified_domains: list[str] = field(default_factory=lambda: ["unverified.example.net"])
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.generation = 0
        self.delta_epoch = 0
        self.reset()

    # -- lifecycle -----------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.users: dict[str, dict[str, Any]] = {}
            self.groups: dict[str, dict[str, Any]] = {}
            self.passwords: dict[str, str] = {}
            # lower-cased unique user keys -> user id (userPrincipalName, onPremisesImmutableId)
            self._unique: dict[str, dict[str, str]] = {p: {} for p in UNIQUE_USER_PROPS}
            self._members: dict[str, dict[str, None]] = {}
            self._owners: dict[str, dict[str, None]] = {}
            self.deleted: dict[str, Deleted] = {}
            self.meta: dict[str, Meta] = {}
            self.changes: list[Change] = []
            self.seq = 0
            self.generation += 1
            self.domains = self._seed_domains()

    def expire_delta_tokens(self) -> None:
        """Make every delta token issued so far stale (the next use gets 410)."""
        with self.lock:
            self.delta_epoch += 1

    @property
    def default_domain(self) -> str:
        return f"{self.tenant_name}.onmicrosoft.com"

    def _seed_domains(self) -> list[dict[str, Any]]:
        # domain resource: https://learn.microsoft.com/en-us/graph/api/resources/domain
        names = [(self.default_domain, True)] + [(d, True) for d in self.verified_domains]
        names += [(d, False) for d in self.unverified_domains]
        return [{
            "id": name, "authenticationType": "Managed", "availabilityStatus": None,
            "isAdminManaged": True, "isDefault": i == 0, "isInitial": i == 0, "isRoot": True,
            "isVerified": verified, "passwordNotificationWindowInDays": 14,
            "passwordValidityPeriodInDays": 2147483647,
            "supportedServices": ["Email", "OfficeCommunicationsOnline"] if verified else [],
            "state": None,
        } for i, (name, verified) in enumerate(names)]

    def verified(self) -> set[str]:
        return {d["id"].lower() for d in self.domains if d["isVerified"]}

    # -- lookups -------------------------------------------------------------------------
    def kind_of(self, object_id: str) -> str | None:
        if object_id in self.users:
            return "user"
        return "group" if object_id in self.groups else None

    def get(self, object_id: str) -> dict[str, Any] | None:
        return self.users.get(object_id) or self.groups.get(object_id)

    def find_user(self, key: str) -> dict[str, Any] | None:
        """By object id or (case-insensitive) userPrincipalName, like GET /users/{id | upn}."""
        if key in self.users:
            return self.users[key]
        user_id = self._unique["userPrincipalName"].get(key.lower())
        return self.users.get(user_id) if user_id else None

    def conflicts(self, prop: str, value: Any, exclude: str = "") -> bool:
        """Another active user holds this (case-insensitive) userPrincipalName or
        onPremisesImmutableId."""
        if value is None:
            return False
        owner = self._unique[prop].get(str(value).lower())
        return owner is not None and owner != exclude

    def _index(self, user: dict[str, Any], add: bool) -> None:
        for prop in UNIQUE_USER_PROPS:
            value = user.get(prop)
            if value is None:
                continue
            if add:
                self._unique[prop][str(value).lower()] = user["id"]
            elif self._unique[prop].get(str(value).lower()) == user["id"]:
                del self._unique[prop][str(value).lower()]

    def members_of(self, group_id: str) -> list[str]:
        return list(self._members.get(group_id, {}))

    def owners_of(self, group_id: str) -> list[str]:
        return list(self._owners.get(group_id, {}))

    def groups_of(self, object_id: str) -> list[str]:
        return [gid for gid, members in self._members.items() if object_id in members]

    # -- change log ----------------------------------------------------------------------
    def _log(self, kind: str, object_id: str, op: str, **extra: str) -> None:
        self.seq += 1
        self.changes.append(Change(self.seq, kind, object_id, op, **extra))

    def _register(self, kind: str, obj: dict[str, Any]) -> None:
        self.seq += 1
        self.meta[obj["id"]] = Meta(self.seq, time.monotonic(), kind)
        self.changes.append(Change(self.seq, kind, obj["id"], "upsert"))

    # -- users ---------------------------------------------------------------------------
    def add_user(self, obj: dict[str, Any], password: str) -> dict[str, Any]:
        with self.lock:
            self.users[obj["id"]] = obj
            self._index(obj, True)
            self.passwords[obj["id"]] = password
            self._register("user", obj)
            return obj

    def update(self, object_id: str, changes: dict[str, Any]) -> None:
        with self.lock:
            obj = self.get(object_id)
            if obj is None:
                raise KeyError(object_id)
            is_user = object_id in self.users
            if is_user:
                self._index(obj, False)
            obj.update(changes)
            if is_user:
                self._index(obj, True)
            self._log(self.meta[object_id].kind, object_id, "upsert")

    def set_password(self, user_id: str, password: str) -> None:
        with self.lock:
            self.passwords[user_id] = password

    def delete(self, object_id: str) -> None:
        """Soft delete (restorable): removed from lists and memberships, kept in deleted."""
        with self.lock:
            kind = self.meta[object_id].kind
            obj = (self.users if kind == "user" else self.groups).pop(object_id)
            if kind == "user":
                self._index(obj, False)
            groups = self.groups_of(object_id)
            for gid in groups:
                self.remove_member(gid, object_id)
            if kind == "group":
                self._members.pop(object_id, None)
                self._owners.pop(object_id, None)
            obj["deletedDateTime"] = self.clock.iso()
            self.deleted[object_id] = Deleted(kind, obj, groups,
                                              self.passwords.pop(object_id, ""))
            self._log(kind, object_id, "delete", reason="changed")

    def restore(self, object_id: str) -> dict[str, Any]:
        with self.lock:
            item = self.deleted.pop(object_id)
            item.obj["deletedDateTime"] = None
            table = self.users if item.kind == "user" else self.groups
            table[object_id] = item.obj
            if item.kind == "user":
                self.passwords[object_id] = item.password
                self._index(item.obj, True)
            self._register(item.kind, item.obj)
            for gid in item.groups:
                if gid in self.groups:
                    self.add_member(gid, object_id)
            return item.obj

    def purge(self, object_id: str) -> None:
        with self.lock:
            item = self.deleted.pop(object_id)
            self._log(item.kind, object_id, "delete", reason="deleted")

    # -- groups --------------------------------------------------------------------------
    def add_group(self, obj: dict[str, Any], members: Iterable[str] = (),
                  owners: Iterable[str] = ()) -> dict[str, Any]:
        with self.lock:
            self.groups[obj["id"]] = obj
            self._members[obj["id"]] = {}
            self._owners[obj["id"]] = dict.fromkeys(owners)
            self._register("group", obj)
            for member in members:
                self.add_member(obj["id"], member)
            return obj

    def add_member(self, group_id: str, member_id: str) -> None:
        with self.lock:
            self._members.setdefault(group_id, {})[member_id] = None
            self._log("group", group_id, "member_add", member_id=member_id,
                      member_kind=self.kind_of(member_id) or "user")

    def remove_member(self, group_id: str, member_id: str) -> None:
        with self.lock:
            self._members.get(group_id, {}).pop(member_id, None)
            self._log("group", group_id, "member_remove", member_id=member_id,
                      member_kind=self.kind_of(member_id) or "user")

    def add_owner(self, group_id: str, owner_id: str) -> None:
        with self.lock:
            self._owners.setdefault(group_id, {})[owner_id] = None

    def remove_owner(self, group_id: str, owner_id: str) -> None:
        with self.lock:
            self._owners.get(group_id, {}).pop(owner_id, None)

    # -- seeding helpers for tests -------------------------------------------------------
    def seed_user(self, upn: str | None = None, password: str = "Passw0rd!seed",
                  **props: Any) -> dict[str, Any]:
        """Create a user directly (no validation, no quota, no audit)."""
        with self.lock:
            n = len(self.users) + len(self.deleted) + 1
            upn = upn or f"seed.user{n}@{self.default_domain}"
            obj = user_defaults(str(uuid.uuid4()), self.clock.iso(), self.default_domain,
                                {"userPrincipalName": upn, **props})
            return self.add_user(obj, password)

    def seed_group(self, display_name: str = "", members: Iterable[str] = (),
                   **props: Any) -> dict[str, Any]:
        with self.lock:
            display_name = display_name or f"Seed group {len(self.groups) + 1}"
            obj = group_defaults(str(uuid.uuid4()), self.clock.iso(), self.default_domain,
                                 {"displayName": display_name, **props})
            return self.add_group(obj, members)

    def new_id(self) -> str:
        return str(uuid.uuid4())
