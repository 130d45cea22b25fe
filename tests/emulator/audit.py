"""Audit log of every request the emulator answered, for tests and benchmarks to count."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class AuditEntry:
    ts: float  # time.time() when the answer was given
    method: str
    path: str  # Graph: path below /v1.0 (e.g. /users/abc); identity: full path
    query: str
    status: int
    kind: str  # "read" | "write" | "batch" | "identity"
    app_id: str
    in_batch: bool = False
    fault: str = ""  # name of the injected fault, if any
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditLog:
    """Thread-safe, list-like (len, iteration, indexing) with counting helpers."""

    def __init__(self) -> None:
        self._entries: list[AuditEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: AuditEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(self) -> list[AuditEntry]:
        with self._lock:
            return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[AuditEntry]:
        return iter(self.entries())

    def __getitem__(self, index: int) -> AuditEntry:
        return self.entries()[index]

    def filter(
        self, method: str | None = None, path_re: str | None = None,
        status: int | None = None, kind: str | None = None, in_batch: bool | None = None,
        app_id: str | None = None,
    ) -> list[AuditEntry]:
        pattern = re.compile(path_re, re.IGNORECASE) if path_re else None
        return [
            e for e in self.entries()
            if (method is None or e.method == method.upper())
            and (pattern is None or pattern.search(e.path))
            and (status is None or e.status == status)
            and (kind is None or e.kind == kind)
            and (in_batch is None or e.in_batch == in_batch)
            and (app_id is None or e.app_id == app_id)
        ]

    def count(self, **criteria: Any) -> int:
        """Number of entries matching method=, path_re=, status=, kind=, in_batch=, app_id=."""
        return len(self.filter(**criteria))

    def writes(self, **criteria: Any) -> list[AuditEntry]:
        """Graph writes the service accepted for processing (not throttled, not rejected
        before being applied): the unit the write quota counts."""
        return [e for e in self.filter(kind="write", **criteria) if e.status != 429]

    def reads(self, **criteria: Any) -> list[AuditEntry]:
        return self.filter(kind="read", **criteria)
