"""The data behind the pages, in queries that stay cheap with 100k objects.

Lists page by keyset on the unique name keys (`user_name_key`, `display_name_key`): every page
costs one index range scan, the millionth as cheap as the first, and no COUNT(*).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from jobs.queue import handle
from jobs.status import AS_PENDING, counts
from webapp.extensions import db
from webapp.models import (
    PlanEntry,
    ScimGroup,
    ScimUser,
    SyncAttempt,
    SyncControl,
    SyncState,
    utcnow,
)

PAGE_SIZE = 50
KINDS = ("user", "group")
STATES = ("synced", "pending", "error", "skipped")


@dataclass(frozen=True)
class ListRow:
    kind: str
    object_id: str
    name: str
    key: str
    status: str
    entra_id: str | None
    reason: str | None
    updated: datetime | None


@dataclass(frozen=True)
class Page:
    rows: list[ListRow]
    next_after: str | None  # key to continue after, None on the last page
    prev_before: str | None  # key to go back before, None on the first page


def _columns(kind: str) -> tuple[Any, Any, Any]:
    if kind == "group":
        return ScimGroup, ScimGroup.display_name, ScimGroup.display_name_key
    return ScimUser, ScimUser.user_name, ScimUser.user_name_key


def _byte_order(column: Any) -> Any:
    """The name key in byte order on every dialect (SQLite's BINARY; "C" on PostgreSQL).

    One order for sorting, keyset paging and prefix search, served on PostgreSQL by the
    COLLATE "C" indexes of migration 0002: there LIKE 'abc%' is an index range under any
    database collation, and the pages are the same on both dialects.
    """
    return column.collate("C") if db.engine.dialect.name == "postgresql" else column


def _prefix(column: Any, prefix: str) -> ColumnElement[bool]:
    """`column` (in byte order) starts with `prefix`, as an index range."""
    if db.engine.dialect.name == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.like(escaped + "%", escape="\\")
    # SQLite's LIKE ignores case and so cannot use the index: a range on it instead.
    return and_(column >= prefix, column < prefix + "\U0010ffff")


def _state_filter(kind: str, model: Any, state: str) -> ColumnElement[bool]:
    if state == "pending":
        # Pending = no row yet (no job has touched it) or an intermediate state (jobs.status).
        # Written as NOT EXISTS: PostgreSQL then walks the name index and probes the unique
        # (kind, object_id) index per row (8 ms at 100k) instead of hashing both tables.
        # An alias: the outer query joins sync_state too, and must not be correlated with.
        other = aliased(SyncState)
        settled = select(other.id).where(
            other.kind == kind, other.object_id == model.id,
            other.status.not_in(sorted(AS_PENDING)))
        return ~settled.exists()
    return SyncState.status == state


def list_objects(kind: str, state: str | None, search: str, after: str | None,
                 before: str | None) -> Page:
    model, name_col, raw_key = _columns(kind)
    key_col = _byte_order(raw_key)
    query = (select(model.id, name_col, raw_key, SyncState.status, SyncState.entra_id,
                    SyncState.last_error, SyncState.skipped_reason, SyncState.updated_at)
             .outerjoin(SyncState, and_(SyncState.kind == kind, SyncState.object_id == model.id)))
    if search:
        query = query.where(_prefix(key_col, search.casefold()))
    if state:
        query = query.where(_state_filter(kind, model, state))
    backwards = before is not None and after is None
    if backwards:
        query = query.where(key_col < before).order_by(key_col.desc())
    else:
        if after is not None:
            query = query.where(key_col > after)
        query = query.order_by(key_col)
    found = list(db.session.execute(query.limit(PAGE_SIZE + 1)).all())
    more = len(found) > PAGE_SIZE
    found = found[:PAGE_SIZE]
    if backwards:
        found.reverse()
    rows = [_row(kind, r) for r in found]
    first, last = (rows[0].key, rows[-1].key) if rows else (None, None)
    if backwards:
        return Page(rows, next_after=last, prev_before=first if more else None)
    has_next = more
    return Page(rows, next_after=last if has_next else None,
                prev_before=first if after is not None else None)


def _row(kind: str, r: Any) -> ListRow:
    status = r.status if r.status is not None else "pending"
    return ListRow(kind, r.id, r[1], r[2], status, r.entra_id,
                   r.last_error if status == "error" else r.skipped_reason, r.updated_at)


def load_object(kind: str, object_id: str) -> tuple[Any, SyncState | None]:
    model = ScimGroup if kind == "group" else ScimUser
    row = db.session.get(model, object_id)
    state = db.session.scalar(select(SyncState).where(
        SyncState.kind == kind, SyncState.object_id == object_id))
    return row, state


def find_object_id(kind: str, ident: str) -> str | None:
    """An object by id, or by exact userName / displayName (any letter case)."""
    model, _name, key_col = _columns(kind)
    if db.session.get(model, ident) is not None:
        return ident
    found = db.session.scalar(select(model.id).where(key_col == ident.casefold()))
    return str(found) if found is not None else None


def recent_attempts(kind: str, object_id: str, limit: int = 20) -> list[SyncAttempt]:
    return list(db.session.scalars(
        select(SyncAttempt).where(SyncAttempt.kind == kind, SyncAttempt.object_id == object_id)
        .order_by(SyncAttempt.id.desc()).limit(limit)))


def plan_entries(before_id: int | None, kind: str | None = None,
                 object_id: str | None = None, limit: int = PAGE_SIZE) -> list[PlanEntry]:
    query = select(PlanEntry).order_by(PlanEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(PlanEntry.id < before_id)
    if kind and object_id:
        query = query.where(PlanEntry.kind == kind, PlanEntry.object_id == object_id)
    return list(db.session.scalars(query))


def control_value(key: str) -> dict[str, Any] | None:
    row = db.session.get(SyncControl, key)
    return dict(row.value) if row is not None else None


def queue_figures() -> dict[str, Any]:
    """Waiting and failed jobs; None when Redis does not answer (the page still renders)."""
    queue = handle().queue
    try:
        return {"depth": queue.count, "failed": queue.failed_job_registry.count,
                "scheduled": queue.scheduled_job_registry.count, "reachable": True}
    except Exception:  # Redis down: say so on the page instead of failing it
        return {"depth": None, "failed": None, "scheduled": None, "reachable": False}


def throttling_seen(since: datetime) -> int:
    """Attempts that met Graph throttling (429 / Throttled) since `since`."""
    return int(db.session.scalar(
        select(func.count()).select_from(SyncAttempt).where(
            SyncAttempt.at >= since,
            or_(SyncAttempt.message.like("%Throttl%"), SyncAttempt.message.like("%429%"))))
        or 0)


def overview() -> dict[str, Any]:
    since = utcnow() - timedelta(hours=24)
    return {
        "counts": counts(),
        "full_sync": control_value("full_sync"),
        "full_sync_last": control_value("full_sync_last"),
        "queue": queue_figures(),
        "throttled": throttling_seen(since),
    }
