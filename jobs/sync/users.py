"""One user: scope, mappings, write, and the deletion action when it leaves."""

from __future__ import annotations

from typing import Any

from jobs.graph import BadRequest, NotFound
from jobs.queue import enqueue_sync
from jobs.sync.common import connection_of, delete_remote, push
from jobs.sync.context import SyncContext
from jobs.sync.record import Outcome, forget, remember_remote
from jobs.sync.scope import out_of_scope
from mappings import MappedPayload, ObjectError
from scim import store
from scim.schemas import USER
from webapp.extensions import db
from webapp.models import PushedMember, ScimUser, SyncState
from webapp.secrets_box import unseal


def sync_user(ctx: SyncContext, object_id: str, state: SyncState,
              carried_entra_id: str | None) -> Outcome:
    row = db.session.get(ScimUser, object_id)
    if row is None:
        return deprovision_deleted(ctx, object_id, state, carried_entra_id)
    reason = out_of_scope(row, ctx.settings)
    if reason is not None:
        return leave_scope(ctx, row, state, reason)
    resource = store.full_document(USER, row)
    password, provider = unseal(row.password_enc), ctx.provider()
    mappings = ctx.load_mappings()
    payload = mappings.evaluate_user(resource, password, connection_of(state), provider)
    was_linked = bool(state.entra_id)

    def first_create() -> MappedPayload:
        return mappings.evaluate_user(resource, password, None, provider)

    try:
        _, outcome = push(ctx, ctx.users, state, payload, hints=_hints(resource),
                          first_create=first_create)
    except BadRequest as exc:
        raise _clearer(exc) from exc
    if not was_linked and outcome.status == "synced":
        # Groups pushed before this user can add it now (issue 7: "as they arrive").
        _touch_groups(row.id)
    return outcome


def _clearer(exc: BadRequest) -> Exception:
    """Graph's 400 for a UPN outside the verified domains, said the way the default mapping
    says it when it can read the domains itself (GET /domains needs Domain.Read.All)."""
    if "domain portion of the userprincipalname" in exc.message.lower():
        return ObjectError(
            "the userPrincipalName's domain is not a verified domain of the tenant; verify it "
            "in Entra (Settings > Domain names) or use an email-verified-users mapping (seed "
            f"001). Graph said: {exc.message}")
    return exc


def _hints(resource: dict[str, Any]) -> dict[str, Any]:
    """Values for the match keys the mapping may not set: `mail` from the SCIM email."""
    emails = resource.get("emails") or []
    primary = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    return {"mail": primary.get("value")} if primary else {}


def _touch_groups(user_id: str) -> None:
    for group_id in store.groups_containing(user_id):
        enqueue_sync("group", group_id)


def apply_delete_action(ctx: SyncContext, entra_id: str) -> str:
    """SCIM2ENTRA_USER_DELETE_ACTION: delete, suspend (accountEnabled false) or do_nothing."""
    action = ctx.settings.get("USER_DELETE_ACTION", "delete")
    if action == "delete":
        return delete_remote(ctx.users, entra_id)
    if action == "suspend":
        try:
            ctx.users.update(entra_id, {"accountEnabled": False})
        except NotFound:
            return "already gone"
        return "suspended"
    return "left as is"


def deprovision_deleted(ctx: SyncContext, object_id: str, state: SyncState,
                        carried_entra_id: str | None) -> Outcome:
    entra_id = carried_entra_id or state.entra_id
    if not entra_id:
        forget("user", object_id)
        return Outcome("deleted", None, "deleted locally; never in Entra")
    done = apply_delete_action(ctx, entra_id)
    if ctx.dry_run:
        return Outcome("planned", "delete", f"dry-run: would be {done}")
    if done in ("deleted", "already gone"):
        db.session.query(PushedMember).filter_by(member_entra_id=entra_id).delete()
    forget("user", object_id)
    return Outcome("deleted", "delete", f"deleted locally; in Entra: {done}")


def leave_scope(ctx: SyncContext, row: ScimUser, state: SyncState, reason: str) -> Outcome:
    """Out of scope: a linked user gets the deletion action at once; others are skipped."""
    if not state.entra_id or state.status == "skipped":
        return Outcome("skipped", None, reason)
    done = apply_delete_action(ctx, state.entra_id)
    if ctx.dry_run:
        return Outcome("planned", "deprovision", f"dry-run: would be {done}: {reason}")
    if done in ("deleted", "already gone"):
        db.session.query(PushedMember).filter_by(member_entra_id=state.entra_id).delete()
        remember_remote(state, None, None, {})
    else:
        # Forget the pushed payload, so re-entering the scope pushes (and re-enables) again.
        state.payload_hash = None
    _touch_groups(row.id)
    return Outcome("skipped", "deprovision", f"{reason}; in Entra: {done}")
