"""Collection responses shared by /users, /groups, /groups/{id}/members, /users/{id}/memberOf.

Shape (https://learn.microsoft.com/en-us/graph/paging):
``{"@odata.context", ["@odata.count"], "value": [...], ["@odata.nextLink"]}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import errors, filters, odata
from .expand import apply_expand, parse_expand, typed_item
from .routing import Ctx, Result, visible
from .schema import COLLECTIONS, GROUP_ALL, GROUP_DEFAULT, USER_ALL, USER_DEFAULT
from .search import matches, parse_search

# Properties the directory filters on ("Supports $filter" in the resource pages).
USER_FILTERABLE = {
    "id", "userPrincipalName", "mail", "displayName", "mailNickname", "givenName", "surname",
    "onPremisesImmutableId", "accountEnabled", "userType", "jobTitle", "department",
    "companyName", "country", "city", "state", "employeeId", "employeeType", "officeLocation",
    "usageLocation", "preferredLanguage", "externalUserState", "onPremisesSamAccountName",
    "onPremisesSyncEnabled", "creationType", "createdDateTime", "mobilePhone", "postalCode",
    "streetAddress", "otherMails", "proxyAddresses", "identities", "businessPhones",
    "imAddresses", "onPremisesUserPrincipalName", "onPremisesSecurityIdentifier",
}
GROUP_FILTERABLE = {
    "id", "displayName", "mailNickname", "mail", "description", "securityEnabled",
    "mailEnabled", "groupTypes", "proxyAddresses", "onPremisesSyncEnabled",
    "onPremisesSecurityIdentifier", "onPremisesSamAccountName", "createdDateTime",
    "visibility", "classification", "isAssignableToRole", "membershipRuleProcessingState",
    "securityIdentifier", "expirationDateTime", "renewedDateTime",
}
COLLECTION_PROPS = COLLECTIONS | {"identities"}


@dataclass(frozen=True)
class Resource:
    name: str  # "User"
    odata_type: str  # "microsoft.graph.user"
    all_props: frozenset[str]
    default: tuple[str, ...]
    filterable: frozenset[str]
    sortable: frozenset[str]


USER = Resource("User", "microsoft.graph.user", frozenset(USER_ALL), tuple(USER_DEFAULT),
                frozenset(USER_FILTERABLE), frozenset({"displayName", "userPrincipalName"}))
GROUP = Resource("Group", "microsoft.graph.group", frozenset(GROUP_ALL), tuple(GROUP_DEFAULT),
                 frozenset(GROUP_FILTERABLE), frozenset({"displayName"}))


SEARCHABLE = frozenset({"displayName", "mail", "userPrincipalName", "givenName", "surname",
                        "mailNickname", "description", "jobTitle", "department"})


def parse(ctx: Ctx, res: Resource, all_props: set[str] | None = None) -> odata.Query:
    params = ctx.params
    query = odata.Query(advanced=ctx.advanced)
    if "$search" in params:
        if not ctx.advanced:
            raise_search()
        query.search = parse_search(params["$search"], SEARCHABLE)
    query.select = odata.select_list(params, set(all_props or res.all_props), res.odata_type)
    query.top = odata.parse_top(params)
    query.count = odata.parse_count(params, ctx.advanced)
    query.orderby = odata.parse_orderby(params, set(res.sortable))
    query.skiptoken = odata.decode_token(params.get("$skiptoken"), ctx.core.state.generation)
    if params.get("$filter"):
        node = filters.parse_filter(params["$filter"])
        filters.check(node, res.name, set(res.filterable), COLLECTION_PROPS, ctx.advanced,
                      query.count)
        query.filter = node
    if query.orderby and query.filter is not None and not (ctx.advanced and query.count):
        raise errors.unsupported_query("Sorting not supported for current query.")
    return query


def raise_search() -> None:
    raise errors.bad_request(
        "Request with $search query parameter only works through MSGraph with a special "
        "request header: 'ConsistencyLevel: eventual'")


def respond(ctx: Ctx, objects: list[dict[str, Any]], res: Resource, context: str,
            typed: bool = False, query: odata.Query | None = None) -> Result:
    """One page of ``objects`` (already in creation order) as a Graph collection."""
    query = query or parse(ctx, res)
    state = ctx.core.state
    expands = [] if typed else parse_expand(ctx, res.name.lower())
    if query.search:
        objects = [o for o in objects if matches(o, query.search)]
    page = odata.paginate(visible(ctx, objects), query, lambda i: state.meta[i].seq,
                          state.generation)
    select_suffix = f"({','.join(query.select)})" if query.select else ""
    body: dict[str, Any] = {"@odata.context": ctx.context(context + select_suffix)}
    if query.count:
        body["@odata.count"] = page.total
    if typed:
        body["value"] = [typed_item(o, query.select) for o in page.items]
    else:
        shaped = odata.shape(page.items, query.select, list(res.default))
        body["value"] = [apply_expand(ctx, o, s, expands) for o, s in zip(page.items, shaped,
                                                                           strict=True)]
    if page.next_token:
        token = odata.encode_token(page.next_token)
        body["@odata.nextLink"] = odata.build_link(ctx.base, ctx.path, ctx.params,
                                                   {"$skiptoken": token})
    return Result(200, body)

