"""One group: mappings, write, then its membership as a diff.

The diff runs against the members we know the Entra group has (pushed_member): adds go 20 per
PATCH with members@odata.bind, removes 20 per $batch; "already a member" and "not a member"
count as done. A group we just linked to an existing Entra group is diffed against its real
member list instead. Members not yet in Entra are added when their own sync links them.
"""

from __future__ import annotations

from sqlalchemy import and_, delete, func, insert, select

from jobs.graph import GroupsClient, MemberChanges, WriteResult
from jobs.sync.common import connection_of, delete_remote, push
from jobs.sync.context import SyncContext
from jobs.sync.record import Outcome, forget
from scim import store
from scim.schemas import GROUP
from webapp.extensions import db
from webapp.models import Membership, PushedMember, ScimGroup, SyncState


def sync_group(ctx: SyncContext, object_id: str, state: SyncState,
               carried_entra_id: str | None) -> Outcome:
    row = db.session.get(ScimGroup, object_id)
    if row is None:
        return deprovision_deleted(ctx, object_id, state, carried_entra_id)
    resource = store.full_document(GROUP, row)
    payload = ctx.load_mappings().evaluate_group(resource, connection_of(state),
                                                 ctx.provider())
    result, outcome = push(ctx, ctx.groups, state, payload)
    if outcome.status != "synced":
        return outcome
    changes = sync_members(ctx.groups, row.id, result)
    if changes.failed:
        failed = "; ".join(f"{m}: {e}" for m, e in list(changes.failed.items())[:5])
        return Outcome("error", result.action,
                       f"{len(changes.failed)} member(s) could not be added: {failed}")
    return Outcome("synced", result.action, _summary(changes))


def _summary(changes: MemberChanges) -> str | None:
    if not (changes.added or changes.removed):
        return None
    return f"members +{len(changes.added)} -{len(changes.removed)}"


def desired_members(group_id: str) -> set[str]:
    """Entra ids of the local members that are synced (users in scope, nested groups)."""
    rows = db.session.execute(
        select(SyncState.entra_id)
        .join(Membership, and_(Membership.member_id == SyncState.object_id,
                               SyncState.kind == func.lower(Membership.member_type)))
        .where(Membership.group_id == group_id, SyncState.status == "synced",
               SyncState.entra_id.is_not(None), SyncState.deleted_locally.is_(False)))
    return {str(entra_id) for (entra_id,) in rows}


def known_members(client: GroupsClient, group_id: str, result: WriteResult) -> set[str]:
    """What the Entra group has now, as far as we know it."""
    if result.action in ("created", "recreated"):
        replace_known(group_id, set())
    elif result.action == "linked":
        replace_known(group_id, set(client.list_members(result.entra_id)))
    return set(db.session.scalars(
        select(PushedMember.member_entra_id).where(PushedMember.group_id == group_id)))


def replace_known(group_id: str, members: set[str]) -> None:
    """The members we know the group has, replaced by a list read from Entra (the start of
    the next membership diff)."""
    db.session.execute(delete(PushedMember).where(PushedMember.group_id == group_id))
    _remember(group_id, members)


def _remember(group_id: str, members: set[str] | list[str]) -> None:
    if members:
        db.session.execute(insert(PushedMember), [
            {"group_id": group_id, "member_entra_id": m} for m in members])


def sync_members(client: GroupsClient, group_id: str, result: WriteResult) -> MemberChanges:
    known = known_members(client, group_id, result)
    wanted = desired_members(group_id)
    to_add, to_remove = sorted(wanted - known), sorted(known - wanted)
    total = MemberChanges()
    if to_add:
        added = client.add_members(result.entra_id, to_add)
        _remember(group_id, [*added.added, *added.already])
        total = added
    if to_remove:
        removed = client.remove_members(result.entra_id, to_remove)
        gone = [*removed.removed, *removed.already]
        if gone:
            db.session.execute(delete(PushedMember).where(
                PushedMember.group_id == group_id, PushedMember.member_entra_id.in_(gone)))
        total.removed, total.failed = removed.removed, {**total.failed, **removed.failed}
    return total


def deprovision_deleted(ctx: SyncContext, object_id: str, state: SyncState,
                        carried_entra_id: str | None) -> Outcome:
    entra_id = carried_entra_id or state.entra_id
    db.session.execute(delete(PushedMember).where(PushedMember.group_id == object_id))
    if not entra_id:
        forget("group", object_id)
        return Outcome("deleted", None, "deleted locally; never in Entra")
    action = ctx.settings.get("GROUP_DELETE_ACTION", "delete")
    done = delete_remote(ctx.groups, entra_id) if action == "delete" else "left as is"
    if ctx.dry_run:
        return Outcome("planned", "delete", f"dry-run: would be {done}")
    forget("group", object_id)
    return Outcome("deleted", "delete", f"deleted locally; in Entra: {done}")
