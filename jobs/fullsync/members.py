"""A linked group's members against Entra's actual member list.

The list is what discovery saw: the group's `members@delta` kept in the mirror (group-delta,
`jobs/graph/delta_mirror.py`), so a steady-state run reads no member list. A group the mirror
does not know (created after discovery) is read instead (group-list-members: one read).
Then the direct sync's diff (`jobs/sync/groups.py: sync_members`) starts from that list
instead of the members we remember pushing, so members removed or added in Entra are
corrected: adds 20 per members@odata.bind PATCH, removes 20 per $batch ("already (not) a
member" counts as done).
"""

from __future__ import annotations

from datetime import datetime

from jobs.fullsync.discover import DiscoveredView
from jobs.fullsync.reconcile import Window
from jobs.graph import WriteResult
from jobs.sync import groups as group_sync
from jobs.sync.context import SyncContext
from jobs.sync.groups import sync_members
from jobs.sync.record import Outcome
from webapp.extensions import db
from webapp.models import ScimGroup, SyncState

SETTLED = ("synced", "planned")


class NotReady(Exception):
    """Nothing to reconcile: the group is not (or no longer) linked."""


def reconcile_members(ctx: SyncContext, object_id: str, state: SyncState,
                      view: DiscoveredView, since: datetime | None,
                      window: Window | None = None) -> Outcome:  # (creates nothing)
    if db.session.get(ScimGroup, object_id) is None or not state.entra_id:
        raise NotReady(object_id)
    if state.status not in SETTLED:
        raise NotReady(object_id)  # its own error stays on the object
    changes = sync_members(ctx.groups, object_id, _from_entra(object_id, state, view))
    if changes.failed:
        failed = "; ".join(f"{m}: {e}" for m, e in list(changes.failed.items())[:5])
        return Outcome("error", "members",
                       f"{len(changes.failed)} member(s) could not be changed: {failed}")
    if not (changes.added or changes.removed):
        return Outcome(state.status, "members")
    return Outcome(state.status, "members",
                   f"members corrected: +{len(changes.added)} -{len(changes.removed)}")


def _from_entra(object_id: str, state: SyncState, view: DiscoveredView) -> WriteResult:
    """The diff's starting point: the mirror's member list as the known members, or (the
    "linked" action) a read of the real list. A member a direct sync added or removed since
    discovery costs one write answered "already (not) a member", counted as done; one an
    admin changed since then is corrected by the next run."""
    entra_id = str(state.entra_id)
    members = view.members_of(entra_id)
    if members is None:
        return WriteResult("linked", entra_id)
    group_sync.replace_known(object_id, members)
    return WriteResult("unchanged", entra_id)
