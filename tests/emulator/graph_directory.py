"""/domains, /organization, /directoryObjects and /directory/deletedItems.

https://learn.microsoft.com/en-us/graph/api/domain-list (Domain.Read.All or Directory.Read.All:
NOT among scim2entra's default permissions, so the default app gets 403 here, as in a real
tenant), organization-get, directoryobject-get, directory-deleteditems-list/-restore/-delete.
"""

from __future__ import annotations

from typing import Any

from . import errors, listing, odata
from .routing import (
    DIR_READ,
    DOMAIN_READ,
    GROUP_READ,
    GROUP_WRITE,
    ORG_READ,
    USER_READ,
    USER_WRITE,
    Ctx,
    Result,
    get_object,
    route,
)
from .schema import GROUP_DEFAULT, USER_DEFAULT, project


@route("GET", "/domains", DOMAIN_READ)
def list_domains(ctx: Ctx) -> Result:
    return Result(200, {"@odata.context": ctx.context("domains"),
                        "value": list(ctx.core.state.domains)})


@route("GET", "/domains/{name}", DOMAIN_READ)
def get_domain(ctx: Ctx, name: str) -> Result:
    for domain in ctx.core.state.domains:
        if domain["id"].lower() == name.strip("'").lower():
            return Result(200, {"@odata.context": ctx.context("domains/$entity"), **domain})
    raise errors.not_found(name)


def organization(ctx: Ctx) -> dict[str, Any]:
    state = ctx.core.state
    verified = [{
        "capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d["isDefault"],
        "isInitial": d["isInitial"], "name": d["id"], "type": "Managed",
    } for d in state.domains if d["isVerified"]]
    return {
        "id": state.tenant_id, "deletedDateTime": None, "displayName": "scim2entra emulator",
        "tenantType": "AAD", "countryLetterCode": "US", "preferredLanguage": "en",
        "createdDateTime": "2024-01-01T00:00:00Z", "verifiedDomains": verified,
        "assignedPlans": [], "businessPhones": [], "technicalNotificationMails": [],
        "onPremisesSyncEnabled": None,
    }


@route("GET", "/organization", ORG_READ)
def list_organization(ctx: Ctx) -> Result:
    return Result(200, {"@odata.context": ctx.context("organization"),
                        "value": [organization(ctx)]})


@route("GET", "/organization/{oid}", ORG_READ)
def get_organization(ctx: Ctx, oid: str) -> Result:
    if oid.lower() != ctx.core.tenant_id:
        raise errors.not_found(oid)
    return Result(200, {"@odata.context": ctx.context("organization/$entity"),
                        **organization(ctx)})


def typed(obj: dict[str, Any]) -> dict[str, Any]:
    if "userPrincipalName" in obj:
        return {"@odata.type": "#microsoft.graph.user", **project(obj, USER_DEFAULT)}
    return {"@odata.type": "#microsoft.graph.group", **project(obj, GROUP_DEFAULT)}


@route("GET", "/directoryObjects/{oid}", DIR_READ)
def get_directory_object(ctx: Ctx, oid: str) -> Result:
    obj = get_object(ctx, oid)
    return Result(200, {"@odata.context": ctx.context("directoryObjects/$entity"),
                        **typed(obj)})


@route("POST", "/directoryObjects/getByIds", DIR_READ, kind="read")
def get_by_ids(ctx: Ctx) -> Result:
    body = ctx.json()
    ids = body.get("ids")
    if not isinstance(ids, list) or len(ids) > 1000:
        raise errors.invalid_value("ids", "DirectoryObject")
    types = {t.lower().removeprefix("microsoft.graph.") for t in body.get("types") or []}
    found = [ctx.core.state.get(i) for i in ids]
    value = [typed(o) for o in found if o is not None]
    if types:
        value = [v for v in value if v["@odata.type"].rsplit(".", 1)[-1] in types]
    return Result(200, {"@odata.context": ctx.context("directoryObjects"), "value": value})


@route("GET", "/directory/deletedItems/{cast}", USER_READ | GROUP_READ)
def list_deleted(ctx: Ctx, cast: str) -> Result:
    kind = {"microsoft.graph.user": "user", "microsoft.graph.group": "group"}.get(cast.lower())
    if kind is None:
        return get_deleted(ctx, cast)
    items = [d.obj for d in ctx.core.state.deleted.values() if d.kind == kind]
    res = listing.USER if kind == "user" else listing.GROUP
    query = listing.parse(ctx, res)
    query.skiptoken = None
    body = {"@odata.context": ctx.context(f"deletedItems/{cast}"),
            "value": odata.shape(items, query.select, [*res.default, "deletedDateTime"])}
    return Result(200, body)


def get_deleted(ctx: Ctx, oid: str) -> Result:
    item = ctx.core.state.deleted.get(oid)
    if item is None:
        raise errors.not_found(oid)
    return Result(200, {"@odata.context": ctx.context("directoryObjects/$entity"),
                        **typed(item.obj), "deletedDateTime": item.obj.get("deletedDateTime")})


def _deleted_write_check(ctx: Ctx, oid: str) -> str:
    item = ctx.core.state.deleted.get(oid)
    if item is None:
        raise errors.not_found(oid)
    if not ctx.roles & (USER_WRITE if item.kind == "user" else GROUP_WRITE):
        raise errors.forbidden()
    return item.kind


@route("POST", "/directory/deletedItems/{oid}/restore", USER_WRITE | GROUP_WRITE)
def restore(ctx: Ctx, oid: str) -> Result:
    state = ctx.core.state
    with state.lock:
        kind = _deleted_write_check(ctx, oid)
        upn = state.deleted[oid].obj.get("userPrincipalName")
        if kind == "user" and state.conflicts("userPrincipalName", upn):
            raise errors.object_conflict("userPrincipalName")
        obj = state.restore(oid)
    return Result(200, {"@odata.context": ctx.context("directoryObjects/$entity"),
                        **typed(obj)})


@route("DELETE", "/directory/deletedItems/{oid}", USER_WRITE | GROUP_WRITE)
def purge(ctx: Ctx, oid: str) -> Result:
    with ctx.core.state.lock:
        _deleted_write_check(ctx, oid)
        ctx.core.state.purge(oid)
    return Result(204)
