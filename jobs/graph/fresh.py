"""Ids created moments ago by this process.

Graph replicates a new object within seconds; until then a GET, PATCH or member add naming it
may answer 404 (https://learn.microsoft.com/en-us/graph/best-practices-concept, "eventual
consistency"). Such a 404 is a replication delay (Transient), not a NotFound.
"""

from __future__ import annotations

import threading
import time

# Entra replicates within seconds; after this a 404 naming the id is a real NotFound.
FRESH_SECONDS = 30.0


class FreshIds:
    def __init__(self, seconds: float = FRESH_SECONDS) -> None:
        self.seconds = seconds
        self._ids: dict[str, float] = {}
        self._lock = threading.Lock()

    def add(self, object_id: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._ids[object_id] = now
            for oid, at in list(self._ids.items()):
                if now - at > self.seconds:
                    del self._ids[oid]

    def forget_in(self, text: str) -> None:
        """A deleted object is no longer fresh: its 404 is a real NotFound."""
        with self._lock:
            for oid in [oid for oid in self._ids if oid in text]:
                del self._ids[oid]

    def named_in(self, text: str) -> bool:
        now = time.monotonic()
        with self._lock:
            return any(oid in text for oid, at in self._ids.items() if now - at <= self.seconds)

    def after_fork(self) -> None:
        self._lock = threading.Lock()
