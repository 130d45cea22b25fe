"""Sync errors: every Graph failure becomes one of a few classes, each with one action.

Classification looks at the HTTP status and the Graph error code (``error.code``,
``error.details[].code``, the message), never at the exception type alone
(https://learn.microsoft.com/en-us/graph/errors). ``RULES`` is the one table: the first
row whose test matches a ``Failure`` decides; ``render_table()`` prints it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

SERVER_ERRORS = frozenset({500, 502, 503, 504})
# user-post-users / group-post-members: duplicate member answer (400, not 409).
ALREADY_EXISTS = "added object references already exist"
AUTH_CODES = frozenset({"Authorization_RequestDenied", "InvalidAuthenticationToken",
                        "Authentication_MissingOrMalformed", "Authorization_IdentityNotFound"})


class GraphSyncError(Exception):
    """Base class. ``action`` says what the caller does; every instance carries the facts."""

    action: ClassVar[str] = "record on the object"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None,
                 detail_codes: tuple[str, ...] = (), request_id: str | None = None,
                 retry_after: float | None = None, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.detail_codes = detail_codes
        self.request_id = request_id
        self.retry_after = retry_after
        self.method = method
        self.path = path

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        head = f"{type(self).__name__} {self.status or '-'} {self.code or ''}".rstrip()
        rid = f" (request-id {self.request_id})" if self.request_id else ""
        return f"{head} on {where or '?'}: {self.message}{rid}"

    def to_dict(self) -> dict[str, object]:
        return {"error": type(self).__name__, "status": self.status, "code": self.code,
                "details": list(self.detail_codes), "message": self.message,
                "request_id": self.request_id, "retry_after": self.retry_after,
                "method": self.method, "path": self.path}


class Transient(GraphSyncError):
    action = "retry later (backoff)"


class Throttled(Transient):
    action = "retry after Retry-After (else backoff)"


class AmbiguousWrite(GraphSyncError):
    action = "look the object up by the keys we set, then link or create once"


class ObjectConflict(GraphSyncError):
    action = "find by the match keys and link (never create a duplicate)"


class AlreadyMember(GraphSyncError):
    action = "done (the reference is there)"


class NotFound(GraphSyncError):
    action = "on update: drop the link and create again; on delete: done"


class BadRequest(GraphSyncError):
    action = "record on this object; the others go on"


class AuthFailed(GraphSyncError):
    action = "stop the sync and show it"


@dataclass(frozen=True)
class Failure:
    """What went wrong, in the terms the table tests."""

    kind: str  # "http" | "unsent" (never left) | "sent" (no answer) | "token"
    status: int | None = None
    code: str | None = None
    detail_codes: tuple[str, ...] = ()
    message: str = ""
    method: str = "GET"
    replay_safe: bool = True  # False for POST creates: a replay may duplicate
    fresh: bool = False  # the request names an object created moments ago
    request_id: str | None = None
    retry_after: float | None = None
    path: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    when: str
    error: type[GraphSyncError]
    test: Callable[[Failure], bool]


def _missing(f: Failure) -> bool:
    text = f.message.lower()
    return "don't exist" in text or "does not exist" in text


def _token_transient(f: Failure) -> bool:
    return f.kind == "token" and (f.status is None or f.status == 429 or f.status >= 500
                                  or f.code == "temporarily_unavailable")


RULES: tuple[Rule, ...] = (
    # throttling: https://learn.microsoft.com/en-us/graph/throttling
    Rule("HTTP 429 (Retry-After integer, fraction or absent)", Throttled,
         lambda f: f.kind == "http" and f.status == 429),
    Rule("token endpoint 429/5xx, temporarily_unavailable or unreachable", Transient,
         _token_transient),
    Rule("token endpoint refused (AADSTS7000215 wrong secret, 700016, ...)", AuthFailed,
         lambda f: f.kind == "token"),
    Rule("HTTP 401/403, Authorization_RequestDenied, InvalidAuthenticationToken", AuthFailed,
         lambda f: f.kind == "http" and (f.status in (401, 403) or f.code in AUTH_CODES)),
    # user-post-users: a duplicate UPN is 400 with details[].code ObjectConflict
    Rule("HTTP 400 with details[].code ObjectConflict", ObjectConflict,
         lambda f: f.status == 400 and ("ObjectConflict" in f.detail_codes
                                        or f.code == "ObjectConflict")),
    # group-post-members: "One or more added object references already exist"
    Rule("HTTP 400 'One or more added object references already exist'", AlreadyMember,
         lambda f: f.status == 400 and ALREADY_EXISTS in f.message.lower()),
    # best-practices "eventual consistency": a read or write right after a create may 404;
    # group-update: members@odata.bind on a new group may 400 "...objects being referenced
    # don't exist" until it replicates
    Rule("HTTP 404, or 400 '...don't exist', naming an object created moments ago", Transient,
         lambda f: f.fresh and (f.status == 404 or (f.status == 400 and _missing(f)))),
    Rule("HTTP 404 Request_ResourceNotFound", NotFound, lambda f: f.status == 404),
    Rule("HTTP 500/502/503/504, timeout or reset after a POST create was sent",
         AmbiguousWrite,
         lambda f: not f.replay_safe and (f.kind == "sent" or f.status in SERVER_ERRORS)),
    Rule("HTTP 5xx, timeout, connection error or reset", Transient,
         lambda f: f.kind in ("sent", "unsent") or (f.status or 0) >= 500),
    Rule("HTTP 400 and any other 4xx", BadRequest, lambda f: True),
)


def classify(failure: Failure) -> GraphSyncError:
    """The sync error for a failure: the first matching row of ``RULES``."""
    rule = next(r for r in RULES if r.test(failure))
    return rule.error(
        failure.message or failure.code or "Graph request failed", status=failure.status,
        code=failure.code, detail_codes=failure.detail_codes, request_id=failure.request_id,
        retry_after=failure.retry_after, method=failure.method, path=failure.path)


def render_table() -> str:
    """The table as text: condition, error class, action."""
    rows = [("when", "error", "action")]
    rows += [(r.when, r.error.__name__, r.error.action) for r in RULES]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
