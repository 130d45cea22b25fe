"""Dry-run: writes are planned, not sent.

Every non-GET request is refused at the boundary and recorded as a ``PlanEntry`` (method,
path, JSON body with secrets masked) into the caller's sink; the caller gets a fake answer
(a ``dry-run-<uuid>`` id for creates), like authentik's dry-run provider mode.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MASK = "***"
# passwordProfile.password (user-post-users), client secrets, keys: never in a plan.
SECRET_KEY = re.compile(r"password|secret|private.?key|credential", re.IGNORECASE)
# Keys whose value is a flag, not a secret (passwordProfile.forceChangePasswordNextSignIn).
NOT_SECRET = re.compile(r"^(forceChange|passwordPolicies|passwordProfile$)", re.IGNORECASE)


@dataclass(frozen=True)
class PlanEntry:
    method: str
    path: str
    body: Any = None
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "body": self.body, "at": self.at}


PlanSink = Callable[[PlanEntry], None] | list[PlanEntry]


def mask(value: Any) -> Any:
    """A copy of a JSON value with secret-looking keys' values replaced by ``***``."""
    if isinstance(value, dict):
        return {k: MASK if _secret(k, v) else mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def _secret(key: str, value: Any) -> bool:
    return bool(SECRET_KEY.search(key)) and not NOT_SECRET.search(key) \
        and not isinstance(value, (dict, list))


def emit(sink: PlanSink | None, entry: PlanEntry) -> None:
    if sink is None:
        return
    if isinstance(sink, list):
        sink.append(entry)
    else:
        sink(entry)


def fake_id() -> str:
    return f"dry-run-{uuid.uuid4()}"


def fake_answer(method: str, body: Any) -> dict[str, Any] | None:
    """What a planned write answers: a create gets its body back with a fake id."""
    if method == "POST" and isinstance(body, dict) and "@odata.id" not in body:
        return {**mask(body), "id": fake_id()}
    return None
