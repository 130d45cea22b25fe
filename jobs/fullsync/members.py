"""A linked group's members against Entra's actual member list (group-list-members).

One read per group (the G in the run's read budget), then the direct sync's diff
(`jobs/sync/groups.py: sync_members`): adds 20 per members@odata.bind PATCH, removes 20 per
$batch. Passing the "linked" action makes that diff start from the real list instead of the
members we remember pushing, so members removed or added in Entra are corrected.
"""

from __future__ import annotations

from datetime import datetime

from jobs.fullsync.discover import DiscoveredView
from jobs.graph import WriteResult
from jobs.sync.context import SyncContext
from jobs.sync.groups import sync_members
from jobs.sync.record import Outcome
from webapp.extensions import db
from webapp.models import ScimGroup, SyncState

SETTLED = ("synced", "planned")


class NotReady(Exception):
    """Nothing to reconcile: the group is not (or no longer) linked."""


def reconcile_members(ctx: SyncContext, object_id: str, state: SyncState,
                      view: DiscoveredView, since: datetime | None) -> Outcome:
    if db.session.get(ScimGroup, object_id) is None or not state.entra_id:
        raise NotReady(object_id)
    if state.status not in SETTLED:
        raise NotReady(object_id)  # its own error stays on the object
    changes = sync_members(ctx.groups, object_id, WriteResult("linked", state.entra_id))
    if changes.failed:
        failed = "; ".join(f"{m}: {e}" for m, e in list(changes.failed.items())[:5])
        return Outcome("error", "members",
                       f"{len(changes.failed)} member(s) could not be changed: {failed}")
    if not (changes.added or changes.removed):
        return Outcome(state.status, "members")
    return Outcome(state.status, "members",
                   f"members corrected: +{len(changes.added)} -{len(changes.removed)}")
