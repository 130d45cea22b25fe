"""Sync-wide stops, shown on the dashboard: a broken mapping, refused credentials.

A mapping error pauses every sync (authentik: "an invalid mapping stops the sync") until the
mapping files change; refused credentials stop it for a while and then try again, since the
fix (consent, a new secret) happens outside scim2entra.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from webapp.extensions import db
from webapp.models import SyncControl, utcnow

PAUSE = "paused"
AUTH_RETRY = timedelta(minutes=5)


def current_pause() -> dict[str, Any] | None:
    row = db.session.get(SyncControl, PAUSE)
    return dict(row.value) if row is not None else None


def pause(reason: str, **facts: Any) -> None:
    value = {"reason": reason, "since": utcnow().isoformat(), **facts}
    row = db.session.get(SyncControl, PAUSE)
    if row is None:
        db.session.add(SyncControl(key=PAUSE, value=value))
    else:
        row.value = value
    db.session.commit()


def resume() -> bool:
    """Lift the pause; True when there was one."""
    row = db.session.get(SyncControl, PAUSE)
    if row is None:
        return False
    db.session.delete(row)
    db.session.commit()
    return True


def still_paused(pause_info: dict[str, Any], fingerprint: str) -> bool:
    """Is the recorded pause still in force for the mappings on disk now?"""
    if pause_info.get("reason") == "mapping":
        return bool(pause_info.get("fingerprint") == fingerprint)
    if pause_info.get("reason") == "auth":
        from datetime import datetime

        since = datetime.fromisoformat(str(pause_info["since"]))
        return bool(utcnow() - since < AUTH_RETRY)
    return True
