"""Group members and owners: list (paged, type casts, $ref), add ($ref), remove ($ref).

https://learn.microsoft.com/en-us/graph/api/group-list-members,
group-post-members (already a member: 400 "One or more added object references already
exist..."), group-delete-members, group-list-owners, group-post-owners.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlparse

from . import errors, listing
from .graph_users import count
from .routing import GROUP_READ, GROUP_WRITE, MEMBER_WRITE, Ctx, Result, fresh, get_group, route
from .schema import GROUP_ALL, USER_ALL, USER_DEFAULT

REF = re.compile(r"/(?:directoryObjects|users|groups|servicePrincipals|devices)/([^/]+)"
                 r"(?:/Microsoft\.DirectoryServices\.\w+)?/?$", re.IGNORECASE)
CASTS = {"microsoft.graph.user": "user", "graph.user": "user",
         "microsoft.graph.group": "group", "graph.group": "group"}
MEMBER = listing.Resource(
    "DirectoryObject", "microsoft.graph.directoryObject", frozenset(USER_ALL | GROUP_ALL),
    tuple(USER_DEFAULT), frozenset(listing.USER_FILTERABLE | listing.GROUP_FILTERABLE),
    frozenset({"displayName"}))


def exists_error(prop: str) -> errors.GraphError:
    return errors.GraphError(400, "Request_BadRequest", (
        "One or more added object references already exist for the following modified "
        f"properties: '{prop}'."))


def parse_ref(url: Any) -> str:
    match = REF.search(urlparse(url).path) if isinstance(url, str) else None
    if not match:
        raise errors.bad_request(f"Invalid object identifier '{url}'.")
    return match.group(1)


def bind_targets(ctx: Ctx, urls: Any, group_id: str | None, prop: str) -> list[str]:
    """Object ids behind @odata.bind URLs, checked before anything is applied."""
    if not isinstance(urls, list):
        raise errors.invalid_value(f"{prop}@odata.bind", "Group")
    state = ctx.core.state
    current = set(state.members_of(group_id) if prop == "members" else
                  state.owners_of(group_id)) if group_id else set()
    ids: list[str] = []
    for url in urls:
        oid = parse_ref(url)
        if state.get(oid) is None or fresh(ctx, oid):
            raise errors.not_found(oid)
        if oid in current or oid in ids:
            raise exists_error(prop)
        if prop == "owners" and state.kind_of(oid) != "user":
            raise errors.bad_request(f"Invalid object identifier '{url}'.")
        ids.append(oid)
    return ids


def _objects(ctx: Ctx, ids: list[str]) -> list[dict[str, Any]]:
    state = ctx.core.state
    return [obj for obj in (state.get(i) for i in ids) if obj is not None]


def _list(ctx: Ctx, ids: list[str], context: str = "directoryObjects") -> Result:
    if "$filter" in ctx.params and not ctx.advanced:
        raise errors.unsupported_query(
            "Filter on members requires the 'ConsistencyLevel:eventual' header and $count=true."
        )
    return listing.respond(ctx, _objects(ctx, ids), MEMBER, context, typed=True)


@route("GET", "/groups/{gid}/members", GROUP_READ)
def list_members(ctx: Ctx, gid: str) -> Result:
    with ctx.core.state.lock:
        get_group(ctx, gid)
        ids = ctx.core.state.members_of(gid)
    return _list(ctx, ids)


@route("GET", "/groups/{gid}/members/$count", GROUP_READ)
def count_members(ctx: Ctx, gid: str) -> Result:
    get_group(ctx, gid)
    return count(ctx, _objects(ctx, ctx.core.state.members_of(gid)), MEMBER)


@route("GET", "/groups/{gid}/members/$ref", GROUP_READ)
def list_member_refs(ctx: Ctx, gid: str) -> Result:
    result = list_members(ctx, gid)
    body = result.body
    body["value"] = [{"@odata.id": f"{ctx.base}/directoryObjects/{o['id']}"}
                     for o in body["value"] if "id" in o]
    return result


@route("GET", "/groups/{gid}/members/{cast}", GROUP_READ)
def list_members_cast(ctx: Ctx, gid: str, cast: str) -> Result:
    kind = CASTS.get(cast.lower())
    if kind is None:
        raise errors.segment_not_found(cast)
    state = ctx.core.state
    with state.lock:
        get_group(ctx, gid)
        ids = [i for i in state.members_of(gid) if state.kind_of(i) == kind]
    return _list(ctx, ids, "users" if kind == "user" else "groups")


def _add_ref(ctx: Ctx, gid: str, prop: str) -> Result:
    body = ctx.json()
    extra = set(body) - {"@odata.id"}
    if extra or "@odata.id" not in body:
        raise errors.bad_request("Invalid payload: the request body must contain '@odata.id'.")
    state = ctx.core.state
    with state.lock:
        get_group(ctx, gid)
        (oid,) = bind_targets(ctx, [body["@odata.id"]], gid, prop)
        if prop == "members":
            state.add_member(gid, oid)
        else:
            state.add_owner(gid, oid)
    return Result(204)


def _remove_ref(ctx: Ctx, gid: str, oid: str, prop: str) -> Result:
    state = ctx.core.state
    with state.lock:
        get_group(ctx, gid)
        current = state.members_of(gid) if prop == "members" else state.owners_of(gid)
        if oid not in current:
            raise errors.not_found(oid)
        if prop == "members":
            state.remove_member(gid, oid)
        else:
            state.remove_owner(gid, oid)
    return Result(204)


@route("POST", "/groups/{gid}/members/$ref", MEMBER_WRITE)
def add_member(ctx: Ctx, gid: str) -> Result:
    return _add_ref(ctx, gid, "members")


@route("DELETE", "/groups/{gid}/members/{oid}/$ref", MEMBER_WRITE)
def remove_member(ctx: Ctx, gid: str, oid: str) -> Result:
    return _remove_ref(ctx, gid, oid, "members")


@route("GET", "/groups/{gid}/owners", GROUP_READ)
def list_owners(ctx: Ctx, gid: str) -> Result:
    with ctx.core.state.lock:
        get_group(ctx, gid)
        ids = ctx.core.state.owners_of(gid)
    return _list(ctx, ids)


@route("POST", "/groups/{gid}/owners/$ref", GROUP_WRITE)
def add_owner(ctx: Ctx, gid: str) -> Result:
    return _add_ref(ctx, gid, "owners")


@route("DELETE", "/groups/{gid}/owners/{oid}/$ref", GROUP_WRITE)
def remove_owner(ctx: Ctx, gid: str, oid: str) -> Result:
    return _remove_ref(ctx, gid, oid, "owners")
