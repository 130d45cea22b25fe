"""Route table, request context and shared lookups for the Graph side."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from . import errors
from .core import Core

# Application permissions per operation, from the "Permissions" table of each API page
# (user-list, user-post-users, group-list, group-post-groups, group-post-members, ...).
DIR_READ = {"Directory.Read.All", "Directory.ReadWrite.All"}
USER_READ = {"User.Read.All", "User.ReadWrite.All", "User.ReadBasic.All"} | DIR_READ
USER_WRITE = {"User.ReadWrite.All", "Directory.ReadWrite.All"}
GROUP_READ = {"Group.Read.All", "Group.ReadWrite.All", "GroupMember.Read.All",
              "GroupMember.ReadWrite.All"} | DIR_READ
GROUP_CREATE = {"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
GROUP_WRITE = {"Group.ReadWrite.All", "Directory.ReadWrite.All"}
MEMBER_WRITE = {"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
DOMAIN_READ = {"Domain.Read.All", "Domain.ReadWrite.All"} | DIR_READ
ORG_READ = {"Organization.Read.All", "Organization.ReadWrite.All"} | DIR_READ


@dataclass
class Ctx:
    core: Core
    method: str
    path: str  # below /v1.0, percent-decoded
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    app_id: str = ""
    roles: set[str] = field(default_factory=set)
    user_id: str = ""  # signed-in user of a delegated token (auth code flow), else ""
    request_id: str = ""
    client_request_id: str = ""
    in_batch: bool = False

    @property
    def base(self) -> str:
        return f"{self.core.graph_base}/v1.0"

    @property
    def advanced(self) -> bool:
        return self.headers.get("consistencylevel", "").lower() == "eventual"

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"null")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise errors.GraphError(400, "BadRequest", (
                "Unable to read JSON request payload. Please ensure Content-Type header is set "
                "and payload is of valid JSON format."))
        return data

    def context(self, fragment: str) -> str:
        return f"{self.base}/$metadata#{fragment}"


def parse_params(query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params[key.lower() if key.startswith("$") else key] = value
    return params


def encode_params(params: dict[str, str]) -> str:
    return urlencode(params, safe="$,()'")


@dataclass
class Result:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Result]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    kind: str  # "read" | "write" | "batch"
    perms: set[str]


ROUTES: list[Route] = []


def route(method: str, template: str, perms: set[str], kind: str | None = None
          ) -> Callable[[Handler], Handler]:
    """Register a handler; ``{name}`` in the template captures one path segment."""
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{")
                   .replace(r"\}", "}"))

    def wrap(func: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(regex + "/?", re.IGNORECASE), func,
                            kind or ("read" if method == "GET" else "write"), perms))
        return func
    return wrap


def match(method: str, path: str) -> tuple[Route, dict[str, str]]:
    """Route for method+path; raises 400/405 like Graph when nothing fits."""
    found_path = False
    best: tuple[Route, dict[str, str]] | None = None
    for candidate in ROUTES:
        m = candidate.pattern.fullmatch(path)
        if m:
            found_path = True
            # literal segments win over captures: /users/delta before /users/{key}
            if candidate.method == method and (best is None or len(m.groupdict()) < len(best[1])):
                best = candidate, m.groupdict()
    if best is not None:
        return best
    if found_path:
        raise errors.GraphError(405, "Request_BadRequest",
                                f"The request method '{method}' is not supported.")
    segment = next((s for s in path.split("/") if s), "")
    raise errors.segment_not_found(segment)


def strip_cast(key: str) -> str:
    return key.strip("'")


def fresh(ctx: Ctx, object_id: str) -> bool:
    meta = ctx.core.state.meta.get(object_id)
    return meta is not None and ctx.core.knobs.is_fresh(meta.created)


def get_user(ctx: Ctx, key: str) -> dict[str, Any]:
    key = strip_cast(key)
    user = ctx.core.state.find_user(key)
    if user is None or fresh(ctx, user["id"]):
        raise errors.not_found(key)
    return user


def get_group(ctx: Ctx, key: str) -> dict[str, Any]:
    group = ctx.core.state.groups.get(key)
    if group is None or fresh(ctx, key):
        raise errors.not_found(key)
    return group


def get_object(ctx: Ctx, key: str) -> dict[str, Any]:
    obj = ctx.core.state.get(key)
    if obj is None or fresh(ctx, key):
        raise errors.not_found(key)
    return obj


def visible(ctx: Ctx, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lists may miss fresh writes (eventual consistency) when the knob says so."""
    if not ctx.core.knobs.replication_hides_lists:
        return objects
    return [o for o in objects if not fresh(ctx, o["id"])]
