"""The PATCH operation value object shared by the normaliser and the PATCH engine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PatchOperation:
    """One RFC 7644 §3.5.2 operation, after normalisation: `op` is lower-case."""

    op: str
    path: str | None
    value: Any = None
