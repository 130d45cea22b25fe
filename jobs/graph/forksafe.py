"""Fork hygiene: objects whose locks must be new in a forked child.

A lock held by another thread (the loop thread) at fork time would stay locked forever in
the child, where that thread does not exist (os.register_at_fork, Python docs).
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol


class ForkAware(Protocol):
    def after_fork(self) -> None: ...


_LIVE: weakref.WeakSet[ForkAware] = weakref.WeakSet()  # type: ignore[type-var]


def register(obj: ForkAware) -> None:
    _LIVE.add(obj)


def _after_fork_in_child() -> None:
    for obj in list(_LIVE):
        obj.after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
