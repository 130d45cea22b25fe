"""One JSON log line and the metrics for every sync attempt (called by record.finish)."""

from __future__ import annotations

import logging

from webapp import metrics

log = logging.getLogger("scim2entra.sync")


def attempt_finished(kind: str, object_id: str, entra_id: str | None, status: str,
                     action: str | None, message: str | None, seconds: float) -> None:
    metrics.observe_sync(kind, status, seconds)
    level = logging.WARNING if status == "error" else logging.INFO
    log.log(level, "sync %s %s: %s", kind, object_id, status, extra={
        "event": "sync_attempt", "kind": kind, "object_id": object_id, "entra_id": entra_id,
        "result": status, "action": action, "detail": message,
        "duration_ms": round(seconds * 1000, 2),
    })
