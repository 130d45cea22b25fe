"""/users: list, get, create, update, delete, memberOf.

https://learn.microsoft.com/en-us/graph/api/user-list, user-get, user-post-users, user-update,
user-delete, user-list-memberof (v1.0).
"""

from __future__ import annotations

from typing import Any

from . import errors, filters, listing, odata
from .expand import apply_expand, parse_expand
from .routing import GROUP_READ, USER_READ, USER_WRITE, Ctx, Result, get_user, route
from .schema import (
    USER_DEFAULT,
    USER_READONLY,
    USER_REQUIRED,
    USER_WRITABLE,
    check_nickname,
    check_password,
    check_required,
    check_upn,
    project,
    reject_unknown,
)
from .seeding import user_defaults
from .state import UNIQUE_USER_PROPS

# Setting passwordProfile with application permissions needs this permission (user-update page).
PASSWORD_PERMS = {"User-PasswordProfile.ReadWrite.All"}


@route("GET", "/users", USER_READ)
def list_users(ctx: Ctx) -> Result:
    with ctx.core.state.lock:
        users = list(ctx.core.state.users.values())
    return listing.respond(ctx, users, listing.USER, "users")


@route("GET", "/users/$count", USER_READ)
def count_users(ctx: Ctx) -> Result:
    return count(ctx, list(ctx.core.state.users.values()), listing.USER)


def count(ctx: Ctx, objects: list[dict[str, Any]], res: listing.Resource) -> Result:
    """GET …/$count: text/plain number; needs ConsistencyLevel: eventual (advanced query)."""
    if not ctx.advanced:
        raise errors.bad_request("Count is not currently supported.")
    query = listing.parse(ctx, res)
    if query.filter is not None:
        objects = [o for o in objects if filters.evaluate(query.filter, o)]
    return Result(200, str(len(listing.visible(ctx, objects))))


def entity(ctx: Ctx, obj: dict[str, Any], res: listing.Resource, collection: str) -> Result:
    select = odata.select_list(ctx.params, set(res.all_props), res.odata_type)
    expands = parse_expand(ctx, res.name.lower())
    suffix = f"({','.join(select)})" if select else ""
    body = {"@odata.context": ctx.context(f"{collection}{suffix}/$entity"),
            **project(obj, select or list(res.default))}
    return Result(200, apply_expand(ctx, obj, body, expands))


@route("GET", "/users/{key}", USER_READ)
def get_one(ctx: Ctx, key: str) -> Result:
    return entity(ctx, get_user(ctx, key), listing.USER, "users")


def _check_unique(ctx: Ctx, body: dict[str, Any], exclude: str = "") -> None:
    state = ctx.core.state
    for prop in UNIQUE_USER_PROPS:
        if prop not in body or body[prop] is None:
            continue
        low = str(body[prop]).lower()
        # Soft-deleted users keep their UPN and immutable id until purged.
        parked = any(str(d.obj.get(prop) or "").lower() == low and oid != exclude
                     for oid, d in state.deleted.items() if d.kind == "user")
        if state.conflicts(prop, body[prop], exclude) or parked:
            raise errors.object_conflict(prop)


def _validate_common(ctx: Ctx, body: dict[str, Any]) -> None:
    if "userPrincipalName" in body:
        check_upn(str(body["userPrincipalName"] or ""), ctx.core.state.verified())
    if "mailNickname" in body:
        check_nickname(body["mailNickname"], "User")
    if "displayName" in body and not 1 <= len(body["displayName"] or "") <= 256:
        raise errors.invalid_value("displayName", "User")
    if "passwordProfile" in body:
        profile = body["passwordProfile"] or {}
        if not profile.get("password"):
            raise errors.required("passwordProfile.password")
        check_password(profile["password"])


@route("POST", "/users", USER_WRITE)
def create_user(ctx: Ctx) -> Result:
    body = ctx.json()
    reject_unknown(body, USER_WRITABLE, USER_READONLY, "microsoft.graph.user")
    check_required(body, required_for(body))
    _validate_common(ctx, body)
    state = ctx.core.state
    with state.lock:
        _check_unique(ctx, body)
        props = {k: v for k, v in body.items() if k != "@odata.type"}
        obj = user_defaults(state.new_id(), state.clock.iso(), state.default_domain, props)
        state.add_user(obj, body["passwordProfile"]["password"])
    location = f"{ctx.base}/directoryObjects/{obj['id']}/Microsoft.DirectoryServices.User"
    body_out = {"@odata.context": ctx.context("users/$entity"), **project(obj, USER_DEFAULT)}
    return Result(201, body_out, {"Location": location})


def required_for(body: dict[str, Any]) -> list[str]:
    """user-post-users, example 2 ("Create a user with social and local account
    identities"): a user signing in with an identity other than its UPN needs no UPN,
    mailNickname or accountEnabled; Graph generates the UPN in the default domain."""
    identities = body.get("identities") or []
    if any(isinstance(i, dict) and i.get("signInType") != "userPrincipalName"
           for i in identities):
        return ["displayName", "passwordProfile"]
    return USER_REQUIRED


@route("PATCH", "/users/{key}", USER_WRITE)
def update_user(ctx: Ctx, key: str) -> Result:
    body = ctx.json()
    reject_unknown(body, USER_WRITABLE, USER_READONLY, "microsoft.graph.user")
    if "passwordProfile" in body and not ctx.roles & PASSWORD_PERMS:
        raise errors.forbidden()
    for prop in ("accountEnabled", "userPrincipalName", "mailNickname", "displayName"):
        if prop in body and body[prop] is None:
            raise errors.invalid_value(prop, "User")
    _validate_common(ctx, body)
    state = ctx.core.state
    with state.lock:
        user = get_user(ctx, key)
        _check_unique(ctx, body, exclude=user["id"])
        changes = {k: v for k, v in body.items() if k not in ("@odata.type", "passwordProfile")}
        if "passwordProfile" in body:
            state.set_password(user["id"], body["passwordProfile"]["password"])
            changes["lastPasswordChangeDateTime"] = state.clock.iso()
        if "userPrincipalName" in changes:
            changes["identities"] = [{**i, "issuerAssignedId": changes["userPrincipalName"]}
                                     if i.get("signInType") == "userPrincipalName" else i
                                     for i in user.get("identities", [])]
        state.update(user["id"], changes)
    return Result(204)


@route("DELETE", "/users/{key}", USER_WRITE)
def delete_user(ctx: Ctx, key: str) -> Result:
    with ctx.core.state.lock:
        user = get_user(ctx, key)
        ctx.core.state.delete(user["id"])
    return Result(204)


@route("GET", "/users/{key}/memberOf", USER_READ | GROUP_READ)
def member_of(ctx: Ctx, key: str) -> Result:
    state = ctx.core.state
    with state.lock:
        user = get_user(ctx, key)
        groups = [state.groups[g] for g in state.groups_of(user["id"]) if g in state.groups]
    return listing.respond(ctx, groups, listing.GROUP, "directoryObjects", typed=True)
