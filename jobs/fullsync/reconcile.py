"""One user or group against what discovery read: link, create, or correct the drift.

Drift: the desired Graph JSON (after `jobs/sync/conform.py`) is compared with the Entra
object property by property, and only what differs is PATCHed (user-update / group-update
accept partial bodies), so edits made in Entra are corrected without rewriting the rest.
Write-once properties (passwordProfile) are never compared; a found object keeps its own
onPremisesImmutableId and group kind (`kept_on_link`). A property discovery did not read is
sent when the payload hash changed, as a direct sync would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jobs.fullsync.discover import DiscoveredView
from jobs.graph import NotFound
from jobs.graph.directory import DirectoryClient
from jobs.sync import groups as group_sync
from jobs.sync import users as user_sync
from jobs.sync.common import connection_of, push, snake_case
from jobs.sync.conform import conform
from jobs.sync.context import SyncContext
from jobs.sync.record import Outcome, remember_remote
from jobs.sync.scope import out_of_scope
from mappings import Connection, MappedPayload, payload_hash
from scim import store
from scim.schemas import GROUP, USER, ResourceType
from webapp.extensions import db
from webapp.models import ScimGroup, ScimUser, SyncState
from webapp.secrets_box import unseal

Evaluate = Callable[[Connection | None], MappedPayload]


@dataclass(frozen=True)
class Window:
    """The objects a step runs beside (`jobs/fullsync/window.py`): their SCIM documents read
    in one query, and their first creates deferred to the window's one $batch."""

    documents: dict[str, dict[str, Any]] = field(default_factory=dict)


class CreateLater(Exception):
    """A first create that may wait: the caller (`jobs/fullsync/window.py`) sends it in one
    JSON $batch with the other creates of its window, instead of one request each."""

    def __init__(self, client: DirectoryClient, body: dict[str, Any],
                 hints: dict[str, Any]) -> None:
        super().__init__(f"create later: {client.kind}")
        self.client = client
        self.body = body
        self.hints = hints


def reconcile_user(ctx: SyncContext, object_id: str, state: SyncState, view: DiscoveredView,
                   since: datetime | None, window: Window | None = None) -> Outcome:
    row = db.session.get(ScimUser, object_id)
    if row is None:  # deleted locally and still linked: the deletion action (scope cleanup)
        return user_sync.deprovision_deleted(ctx, object_id, state, None)
    reason = out_of_scope(row, ctx.settings)
    if reason is not None:
        return user_sync.leave_scope(ctx, row, state, reason)
    resource = _document(USER, row, window)
    password = unseal(row.password_enc)

    def evaluate(connection: Connection | None) -> MappedPayload:
        return ctx.load_mappings().evaluate_user(resource, password, connection,
                                                 ctx.provider())

    hints = user_sync._hints(resource)  # mail from the SCIM primary email
    return reconcile(ctx, ctx.users, state, evaluate, view, hints, since, window)


def reconcile_group(ctx: SyncContext, object_id: str, state: SyncState, view: DiscoveredView,
                    since: datetime | None, window: Window | None = None) -> Outcome:
    row = db.session.get(ScimGroup, object_id)
    if row is None:
        return group_sync.deprovision_deleted(ctx, object_id, state, None)
    resource = _document(GROUP, row, window)

    def evaluate(connection: Connection | None) -> MappedPayload:
        return ctx.load_mappings().evaluate_group(resource, connection, ctx.provider())

    return reconcile(ctx, ctx.groups, state, evaluate, view, {}, since, window)


def _document(rt: ResourceType, row: ScimUser | ScimGroup, window: Window | None
              ) -> dict[str, Any]:
    found = window.documents.get(row.id) if window is not None else None
    return found if found is not None else store.full_document(rt, row)


def reconcile(ctx: SyncContext, client: DirectoryClient, state: SyncState, evaluate: Evaluate,
              view: DiscoveredView, hints: dict[str, Any], since: datetime | None,
              window: Window | None = None) -> Outcome:
    payload = evaluate(connection_of(state))
    if state.entra_id:
        remote = view.get(state.entra_id)
        if remote is None:
            return _not_discovered(ctx, client, state, evaluate, hints, since)
        return correct_drift(ctx, client, state, evaluate, payload, remote, hints,
                             linking=False)
    body = conform(client.kind, payload.graph_json, state.object_id)
    found = view.match(client.match_keys, {**body, **hints})
    if found is None:
        if window is not None and not ctx.dry_run and not state.create_attempted:
            raise CreateLater(client, body, hints)  # sent with others in one $batch
        _, outcome = push(ctx, client, state, payload, hints)  # create (or link on conflict)
        return outcome
    # Linked now: evaluate again with the connection, as the next direct sync will (the
    # default user mapping then keeps the found object's immutable id).
    connection = Connection(attributes=snake_case(found), entra_id=str(found["id"]))
    return correct_drift(ctx, client, state, evaluate, evaluate(connection), found, hints,
                         linking=True)


def _not_discovered(ctx: SyncContext, client: DirectoryClient, state: SyncState,
                    evaluate: Evaluate, hints: dict[str, Any], since: datetime | None) -> Outcome:
    """The link names an object discovery did not see: deleted in Entra, so create it again,
    unless a direct sync wrote it after discovery began."""
    if since is not None and state.last_synced_at is not None and state.last_synced_at >= since:
        return Outcome("synced", "unchanged")
    return recreate(ctx, client, state, evaluate, hints)


def recreate(ctx: SyncContext, client: DirectoryClient, state: SyncState, evaluate: Evaluate,
             hints: dict[str, Any]) -> Outcome:
    """Create a linked object that is gone from Entra as a first create: the mappings see
    no connection, so write-once properties (the user's passwordProfile, which Graph
    requires on create) are there again. A create meeting a live twin links it instead."""
    kept = (state.entra_id, state.payload_hash, state.remote_attributes)
    remember_remote(state, None, None, {})
    _, outcome = push(ctx, client, state, evaluate(None), hints)
    if ctx.dry_run:  # nothing was created: keep the link as it was
        remember_remote(state, *kept)
    return outcome


def correct_drift(ctx: SyncContext, client: DirectoryClient, state: SyncState,
                  evaluate: Evaluate, payload: MappedPayload, remote: dict[str, Any],
                  hints: dict[str, Any], *, linking: bool) -> Outcome:
    body = conform(client.kind, payload.graph_json, state.object_id)
    digest = payload_hash(body)
    sendable = client.link_body(body) if linking else client.update_body(body)
    hash_changed = digest != state.payload_hash
    diff = {key: value for key, value in sendable.items()
            if (remote[key] != value if key in remote else hash_changed)}
    entra_id = str(remote["id"])
    if not (diff or linking) and digest == state.payload_hash:
        return Outcome("synced", "unchanged")  # nothing to write here or there
    if diff:
        try:
            client.update(entra_id, diff)
        except NotFound:  # deleted since discovery
            return recreate(ctx, client, state, evaluate, hints)
    action = "linked" if linking else ("updated" if diff else "unchanged")
    if ctx.dry_run:
        return Outcome("planned", action, "dry-run: planned, not sent")
    attributes = snake_case({**remote, **diff})
    remember_remote(state, entra_id, digest, attributes)
    state.create_attempted = False
    message = f"corrected: {', '.join(sorted(diff))}" if diff and not linking else None
    return Outcome("synced", action, message)
