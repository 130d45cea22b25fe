"""$expand on directory objects: users expand memberOf; groups expand members, owners,
memberOf. Graph returns at most 20 expanded objects
(https://learn.microsoft.com/en-us/graph/query-parameters#expand).
"""

from __future__ import annotations

import re
from typing import Any

from . import errors
from .routing import Ctx
from .schema import GROUP_DEFAULT, USER_DEFAULT, project

EXPANDABLE = {"user": {"memberOf"}, "group": {"members", "owners", "memberOf"}}
ITEM = re.compile(r"\s*(\w+)(?:\(\$select=([\w,]+)\))?\s*(?:,|$)")
LIMIT = 20


def parse_expand(ctx: Ctx, kind: str) -> list[tuple[str, list[str] | None]]:
    raw = ctx.params.get("$expand")
    if not raw:
        return []
    out: list[tuple[str, list[str] | None]] = []
    pos = 0
    while pos < len(raw):
        match = ITEM.match(raw, pos)
        if not match or match.end() == pos:
            raise errors.bad_request(f"Invalid $expand value '{raw}'.")
        name, select = match.group(1), match.group(2)
        if name not in EXPANDABLE[kind]:
            raise errors.bad_request(
                "Parsing OData Select and Expand failed: Could not find a property named "
                f"'{name}' on type 'microsoft.graph.{kind}'.")
        out.append((name, select.split(",") if select else None))
        pos = match.end()
    return out


def typed_item(obj: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    """A directoryObject in a mixed collection: @odata.type + that type's properties."""
    is_user = "userPrincipalName" in obj
    default = USER_DEFAULT if is_user else GROUP_DEFAULT
    kind = "#microsoft.graph.user" if is_user else "#microsoft.graph.group"
    return {"@odata.type": kind, **project(obj, select or default)}


def apply_expand(ctx: Ctx, obj: dict[str, Any], out: dict[str, Any],
                 expands: list[tuple[str, list[str] | None]]) -> dict[str, Any]:
    state = ctx.core.state
    for name, select in expands:
        if name == "members":
            ids = state.members_of(obj["id"])
        elif name == "owners":
            ids = state.owners_of(obj["id"])
        else:
            ids = state.groups_of(obj["id"])
        found = [state.get(i) for i in ids[:LIMIT]]
        out[name] = [typed_item(o, select) for o in found if o is not None]
    return out
