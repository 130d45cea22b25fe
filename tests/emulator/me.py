"""/me, /me/memberOf and the OIDC userinfo endpoint, for delegated (auth-code) tokens.

https://learn.microsoft.com/en-us/graph/api/user-get ("/me" needs a signed-in user: with an
app-only token Graph answers 400 "/me request is only valid with delegated authentication
flow.") and https://learn.microsoft.com/en-us/entra/identity-platform/userinfo.
"""

from __future__ import annotations

from typing import Any

from . import errors, listing
from .graph_users import entity
from .routing import Ctx, Result, route

ANY_USER = {"User.Read", "User.Read.All", "User.ReadWrite.All", "Directory.Read.All"}


def _me(ctx: Ctx) -> dict[str, Any]:
    if not ctx.user_id:
        raise errors.GraphError(400, "BadRequest",
                                "/me request is only valid with delegated authentication flow.")
    user = ctx.core.state.users.get(ctx.user_id)
    if user is None:
        raise errors.not_found(ctx.user_id)
    return user


@route("GET", "/me", ANY_USER)
def get_me(ctx: Ctx) -> Result:
    return entity(ctx, _me(ctx), listing.USER, "users")


@route("GET", "/me/memberOf", ANY_USER)
def my_groups(ctx: Ctx) -> Result:
    state = ctx.core.state
    with state.lock:
        user = _me(ctx)
        groups = [state.groups[g] for g in state.groups_of(user["id"]) if g in state.groups]
    return listing.respond(ctx, groups, listing.GROUP, "directoryObjects", typed=True)


@route("GET", "/oidc/userinfo", set())
def userinfo(ctx: Ctx) -> Result:
    user = _me(ctx)
    return Result(200, {
        "sub": user["id"], "name": user.get("displayName"), "family_name": user.get("surname"),
        "given_name": user.get("givenName"), "email": user.get("mail"),
    })
