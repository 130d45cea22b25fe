"""/users/delta and /groups/delta.

https://learn.microsoft.com/en-us/graph/delta-query-overview, user-delta, group-delta:
pages linked by @odata.nextLink, the last page carries @odata.deltaLink; later rounds return
changed objects, deleted ones as ``{"id", "@removed": {"reason": "changed" | "deleted"}}``;
groups selected with ``members`` carry ``members@delta`` (removed members flagged @removed).
Directory delta tokens live 7 days; a stale or unknown token gives 410 Gone.
"""

from __future__ import annotations

import bisect
from typing import Any

from . import errors, filters, listing, odata
from .routing import GROUP_READ, USER_READ, Ctx, Result, route
from .schema import project

TOKEN_TTL_S = 7 * 24 * 3600
PAGE = 100


def _gone(code: str, message: str) -> errors.GraphError:
    return errors.GraphError(410, code, message)


def _token(ctx: Ctx, raw: str, kind: str) -> dict[str, Any]:
    state = ctx.core.state
    try:
        data = odata.decode_token(raw, state.generation)
    except errors.GraphError:
        raise _gone("resyncRequired", "The delta token is no longer valid, and the app must "
                                      "reset the sync state.") from None
    assert data is not None
    if data.get("k") != kind or data.get("e") != state.delta_epoch:
        raise _gone("syncStateNotFound", "The sync state generation is not found. The delta "
                                         "token is expired and data must be synchronized again.")
    if state.clock.now() - float(data.get("t", 0)) > ctx.core.delta_token_ttl_s:
        raise _gone("syncStateNotFound", "The delta token is expired and data must be "
                                         "synchronized again.")
    return data


def _page_size(ctx: Ctx) -> int:
    prefer = ctx.headers.get("prefer", "")
    for part in prefer.split(","):
        name, _, value = part.strip().partition("=")
        if name.lower() == "odata.maxpagesize" and value.isdigit():
            return max(1, min(int(value), ctx.core.delta_page_max))
    return min(PAGE, ctx.core.delta_page_max)


def _ids_filter(ctx: Ctx) -> set[str] | None:
    raw = ctx.params.get("$filter")
    if not raw:
        return None
    node = filters.parse_filter(raw)
    ids: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if item[0] == "or":
            stack.extend(item[1:])
        elif item[0] == "cmp" and item[1] == "eq" and item[2] == "id":
            ids.add(str(item[3]))
        else:
            raise errors.unsupported_query("Unsupported query: delta only filters on id eq.")
    return ids


def _entries(ctx: Ctx, kind: str, since: int, until: int, members: bool
             ) -> list[tuple[int, str, list[dict[str, Any]] | None]]:
    """(sort key, object id, members@delta or None) in order; initial round when since=0."""
    state = ctx.core.state
    if since == 0:
        table = state.users if kind == "user" else state.groups
        out = []
        for oid in table:
            mem = [_member(state, m) for m in state.members_of(oid)] if members else None
            out.append((state.meta[oid].seq, oid, mem))
        return out
    last: dict[str, int] = {}
    member_ops: dict[str, dict[str, str]] = {}
    start = bisect.bisect_right(state.changes, since, key=lambda c: c.seq)
    for change in state.changes[start:]:
        if change.seq > until:
            break
        if change.kind != kind:
            continue
        if change.op.startswith("member_"):
            if not members:
                continue
            member_ops.setdefault(change.object_id, {})[change.member_id] = change.op
        last[change.object_id] = change.seq
    result = []
    for oid, seq in sorted(last.items(), key=lambda item: item[1]):
        ops = member_ops.get(oid)
        mem = [_member(state, m, op == "member_remove") for m, op in ops.items()] if ops \
            else ([] if members else None)
        result.append((seq, oid, mem))
    return result


def _member(state: Any, member_id: str, removed: bool = False) -> dict[str, Any]:
    kind = state.kind_of(member_id) or "user"
    entry: dict[str, Any] = {"@odata.type": f"#microsoft.graph.{kind}", "id": member_id}
    if removed:
        entry["@removed"] = {"reason": "deleted"}
    return entry


def _render(ctx: Ctx, kind: str, oid: str, mem: list[dict[str, Any]] | None,
            select: list[str] | None, default: list[str]) -> dict[str, Any]:
    state = ctx.core.state
    obj = state.get(oid)
    if obj is None:
        # soft-deleted objects can come back ("changed"); purged ones cannot ("deleted")
        reason = "changed" if oid in state.deleted else "deleted"
        return {"id": oid, "@removed": {"reason": reason}}
    names = [n for n in (select or default) if n != "members"]
    item = {**project(obj, names), "id": oid}
    if mem is not None and mem:
        item["members@delta"] = mem
    return item


def delta(ctx: Ctx, kind: str) -> Result:
    state = ctx.core.state
    res = listing.USER if kind == "user" else listing.GROUP
    props = set(res.all_props) | ({"members"} if kind == "group" else set())
    with state.lock:
        data = _round(ctx, kind, props, res.odata_type)
        if data.get("latest"):
            return _finish(ctx, kind, [], data, state.seq)
        sel = data.get("sel")
        members = kind == "group" and "members" in (sel or [])
        entries = _entries(ctx, kind, data["from"], data["to"], members)
        entries = [e for e in entries if e[0] > data.get("after", 0)]
        only = _ids_filter(ctx)
        if only is not None:
            entries = [e for e in entries if e[1] in only]
        size = _page_size(ctx)
        page = entries[:size]
        items = [_render(ctx, kind, oid, mem, sel, list(res.default)) for _, oid, mem in page]
        if len(entries) > size:
            data = {**data, "after": page[-1][0]}
            return _finish(ctx, kind, items, data, None)
        return _finish(ctx, kind, items, data, data["to"])


def _round(ctx: Ctx, kind: str, props: set[str], odata_type: str) -> dict[str, Any]:
    state = ctx.core.state
    params = ctx.params
    if "$deltatoken" in params:
        if params["$deltatoken"].lower() == "latest":
            return {"latest": True, "sel": odata.select_list(params, props, odata_type)}
        token = _token(ctx, params["$deltatoken"], kind)
        return {"from": token["s"], "to": state.seq, "sel": token.get("sel")}
    if "$skiptoken" in params:
        return _token(ctx, params["$skiptoken"], kind)
    return {"from": 0, "to": state.seq, "sel": odata.select_list(params, props, odata_type)}


def _finish(ctx: Ctx, kind: str, items: list[dict[str, Any]], data: dict[str, Any],
            delta_seq: int | None) -> Result:
    state = ctx.core.state
    common = {"g": state.generation, "e": state.delta_epoch, "k": kind, "t": state.clock.now(),
              "sel": data.get("sel")}
    sel = data.get("sel")
    context = ctx.context(f"{kind}s" + (f"({','.join(sel)})" if sel else ""))
    body: dict[str, Any] = {"@odata.context": context, "value": items}
    keep = {k: v for k, v in ctx.params.items() if k == "$filter"}
    path = ctx.path
    if delta_seq is None:
        token = odata.encode_token({**common, "from": data["from"], "to": data["to"],
                                    "after": data["after"]})
        body["@odata.nextLink"] = odata.build_link(ctx.base, path, keep, {"$skiptoken": token})
    else:
        token = odata.encode_token({**common, "s": delta_seq})
        body["@odata.deltaLink"] = odata.build_link(ctx.base, path, keep,
                                                    {"$deltatoken": token})
    return Result(200, body)


@route("GET", "/users/delta", USER_READ)
def users_delta(ctx: Ctx) -> Result:
    return delta(ctx, "user")


@route("GET", "/users/delta()", USER_READ)
def users_delta_fn(ctx: Ctx) -> Result:
    return delta(ctx, "user")


@route("GET", "/groups/delta", GROUP_READ)
def groups_delta(ctx: Ctx) -> Result:
    return delta(ctx, "group")


@route("GET", "/groups/delta()", GROUP_READ)
def groups_delta_fn(ctx: Ctx) -> Result:
    return delta(ctx, "group")
