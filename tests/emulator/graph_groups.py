"""/groups: list, get, create, update (members@odata.bind), delete.

https://learn.microsoft.com/en-us/graph/api/group-list, group-get, group-post-groups,
group-update, group-delete (v1.0). Graph enforces no uniqueness on a group's displayName or
mailNickname: a replayed create makes a second group.
"""

from __future__ import annotations

from typing import Any

from . import errors, listing
from .graph_users import count, entity
from .members import bind_targets
from .routing import GROUP_CREATE, GROUP_READ, GROUP_WRITE, Ctx, Result, get_group, route
from .schema import (
    GROUP_DEFAULT,
    GROUP_READONLY,
    GROUP_REQUIRED,
    GROUP_WRITABLE,
    check_nickname,
    check_required,
    project,
    reject_unknown,
)
from .seeding import group_defaults

BINDS = ("members@odata.bind", "owners@odata.bind")
GROUP_TYPES = {"Unified", "DynamicMembership"}


@route("GET", "/groups", GROUP_READ)
def list_groups(ctx: Ctx) -> Result:
    with ctx.core.state.lock:
        groups = list(ctx.core.state.groups.values())
    return listing.respond(ctx, groups, listing.GROUP, "groups")


@route("GET", "/groups/$count", GROUP_READ)
def count_groups(ctx: Ctx) -> Result:
    return count(ctx, list(ctx.core.state.groups.values()), listing.GROUP)


@route("GET", "/groups/{gid}", GROUP_READ)
def get_one(ctx: Ctx, gid: str) -> Result:
    return entity(ctx, get_group(ctx, gid), listing.GROUP, "groups")


def _validate(body: dict[str, Any], merged: dict[str, Any]) -> None:
    if "displayName" in body and not 1 <= len(body["displayName"] or "") <= 256:
        raise errors.invalid_value("displayName", "Group")
    if "mailNickname" in body:
        check_nickname(body["mailNickname"], "Group")
    types = merged.get("groupTypes") or []
    if any(t not in GROUP_TYPES for t in types):
        raise errors.invalid_value("groupTypes", "Group")
    if merged.get("mailEnabled") and "Unified" not in types:
        # Mail-enabled security and distribution groups can't be created through Graph.
        raise errors.invalid_value("mailEnabled", "Group")
    if "Unified" in types and not merged.get("mailEnabled"):
        raise errors.invalid_value("mailEnabled", "Group")
    if "DynamicMembership" in types and not merged.get("membershipRule"):
        raise errors.required("membershipRule")


def _binds(ctx: Ctx, body: dict[str, Any], group_id: str | None) -> tuple[list[str], list[str]]:
    """Resolve members@odata.bind / owners@odata.bind: at most 20 in all, all or nothing."""
    members = bind_targets(ctx, body.get("members@odata.bind", []), group_id, "members")
    owners = bind_targets(ctx, body.get("owners@odata.bind", []), group_id, "owners")
    if len(members) + len(owners) > 20:
        raise errors.bad_request(
            "The maximum number of references that can be added in a single request is 20.")
    return members, owners


@route("POST", "/groups", GROUP_CREATE)
def create_group(ctx: Ctx) -> Result:
    body = ctx.json()
    reject_unknown(body, GROUP_WRITABLE, GROUP_READONLY, "microsoft.graph.group", BINDS)
    check_required(body, GROUP_REQUIRED)
    _validate(body, body)
    state = ctx.core.state
    with state.lock:
        members, owners = _binds(ctx, body, None)
        props = {k: v for k, v in body.items() if k not in BINDS and k != "@odata.type"}
        obj = group_defaults(state.new_id(), state.clock.iso(), state.default_domain, props)
        state.add_group(obj, members, owners)
    location = f"{ctx.base}/directoryObjects/{obj['id']}/Microsoft.DirectoryServices.Group"
    body_out = {"@odata.context": ctx.context("groups/$entity"), **project(obj, GROUP_DEFAULT)}
    return Result(201, body_out, {"Location": location})


@route("PATCH", "/groups/{gid}", GROUP_WRITE)
def update_group(ctx: Ctx, gid: str) -> Result:
    body = ctx.json()
    reject_unknown(body, GROUP_WRITABLE, GROUP_READONLY, "microsoft.graph.group", BINDS)
    for prop in ("displayName", "mailNickname", "mailEnabled", "securityEnabled"):
        if prop in body and body[prop] is None:
            raise errors.invalid_value(prop, "Group")
    state = ctx.core.state
    with state.lock:
        group = get_group(ctx, gid)
        _validate(body, {**group, **body})
        members, owners = _binds(ctx, body, gid)
        changes = {k: v for k, v in body.items() if k not in BINDS and k != "@odata.type"}
        if changes:
            state.update(gid, changes)
        for member in members:
            state.add_member(gid, member)
        for owner in owners:
            state.add_owner(gid, owner)
    return Result(204)


@route("DELETE", "/groups/{gid}", GROUP_WRITE)
def delete_group(ctx: Ctx, gid: str) -> Result:
    with ctx.core.state.lock:
        get_group(ctx, gid)
        ctx.core.state.delete(gid)
    return Result(204)
