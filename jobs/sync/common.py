"""Steps users and groups share: evaluate mappings, write, deprovision, fan out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from jobs.graph import NotFound, WriteResult, write
from jobs.graph.directory import DirectoryClient
from jobs.sync.conform import conform
from jobs.sync.context import SyncContext
from jobs.sync.record import Outcome, remember_remote
from mappings import Connection, MappedPayload, payload_hash, without_write_once
from webapp.extensions import db
from webapp.models import SyncState

CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(attributes: dict[str, Any]) -> dict[str, Any]:
    """Graph's camelCase keys as the mappings see them in `connection.attributes`."""
    return {CAMEL.sub("_", k).lower(): v for k, v in attributes.items() if "@" not in k}


def connection_of(state: SyncState) -> Connection | None:
    if not state.entra_id:
        return None
    return Connection(attributes=dict(state.remote_attributes or {}), entra_id=state.entra_id)


def push(ctx: SyncContext, client: DirectoryClient, state: SyncState, payload: MappedPayload,
         hints: dict[str, Any] | None = None,
         first_create: Callable[[], MappedPayload] | None = None
         ) -> tuple[WriteResult, Outcome]:
    """Write the mapped payload through the one write() template and remember the result.

    `first_create` maps the object as for a first create (no connection), for when the linked
    Entra object turns out to be gone and must be created again.
    """
    body = conform(client.kind, payload.graph_json, state.object_id)
    digest = payload_hash(body)
    changed = digest != state.payload_hash
    lookup_first = False
    if not state.entra_id and not ctx.dry_run:
        # A create may go through while its answer is lost and the worker dies; the next
        # run must look for the object before creating it again (never a duplicate).
        lookup_first = state.create_attempted
        state.create_attempted = True
        db.session.commit()
    again = None
    if first_create is not None:
        def again() -> dict[str, Any]:
            return conform(client.kind, first_create().graph_json, state.object_id)
    result = write(client, body, state.entra_id, changed=changed, hints=hints,
                   lookup_first=lookup_first, create_payload=again)
    if ctx.dry_run:
        # Nothing was written: keep no fake id, so the plan shows the real next step.
        return result, Outcome("planned", result.action, "dry-run: planned, not sent")
    remember_write(state, body, digest, result)
    return result, Outcome("synced", result.action)


def remember_write(state: SyncState, body: dict[str, Any], digest: str,
                   result: WriteResult) -> None:
    """Keep the link and what Entra holds now, as far as we know: what we sent (Graph answers
    a create with its default properties only, so onPremisesImmutableId would otherwise be
    lost for the next run's `connection.attributes`), overlaid by what Graph answered or the
    found object had."""
    attributes = dict(state.remote_attributes or {}) if result.action == "updated" else {}
    attributes.update(snake_case(without_write_once(body)))
    attributes.update(snake_case(result.remote_attributes))
    remember_remote(state, result.entra_id, digest, attributes)
    state.create_attempted = False


def delete_remote(client: DirectoryClient, entra_id: str) -> str:
    try:
        client.delete(entra_id)
    except NotFound:
        return "already gone"  # 404 on delete: done (the error table's NotFound action)
    return "deleted"


def unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
