"""SCIM operations (create, replace, patch, delete) as transactions with their outbox rows.

Used by the HTTP views and by /Bulk alike. Each operation either commits the resource and
its outbox rows together or changes nothing; the queue is told only after the commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from jobs.dispatcher import dispatch_soon
from jobs.outbox import Change, record
from jobs.sync.scope import is_filter_group
from scim import store
from scim.errors import InvalidValue, NotFound, PreconditionFailed, Uniqueness
from scim.new_user import insert_user
from scim.normalize import normalize_patch, normalize_resource
from scim.patch import apply_patch
from scim.schemas import GROUP, USER, ResourceType
from scim.validation import ValidatedResource, validate_resource
from webapp.extensions import db
from webapp.models import ScimGroup, SyncState


def kind_of(rt: ResourceType) -> str:
    return rt.name.lower()


def check_version(row: store.Row, if_match: str | None) -> None:
    """RFC 7644 §3.14: a stale If-Match fails with 412 and changes nothing."""
    if not if_match or if_match.strip() == "*":
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    current = store.etag(row.version)
    if current not in wanted and current.removeprefix("W/") not in wanted:
        raise PreconditionFailed(f"resource version is {current}, not {if_match}")


def get(rt: ResourceType, resource_id: str) -> store.Row:
    row = store.load(rt, resource_id)
    if row is None:
        raise NotFound(f"{rt.name} {resource_id} not found")
    return row


def _taken(rt: ResourceType, doc: dict[str, Any]) -> Uniqueness:
    attribute = "userName" if rt is USER else "displayName"
    return Uniqueness(f"{attribute} {doc[attribute]!r} is already taken (letter case is ignored)")


def _wanted_members(doc: dict[str, Any]) -> dict[str, str]:
    ids = [str(m["value"]) for m in doc.get("members") or []]
    found = store.member_types(ids)
    missing = sorted(set(ids) - set(found))
    if missing:
        raise InvalidValue(f"members do not exist: {', '.join(missing[:10])}")
    return found


def _save(
    rt: ResourceType,
    row: store.Row | None,
    doc: dict[str, Any],
    password: str | None,
    *,
    keep_members: bool = False,
) -> tuple[store.Row, list[Change]]:
    """Write the resource; returns it and the changes to record (itself, and users whose
    sync scope a filter group's membership change moved)."""
    wanted = None if rt is USER or keep_members else _wanted_members(doc)
    old_name = row.display_name if isinstance(row, ScimGroup) else None
    try:
        # The unique index on the lower-cased name decides; no racy look-up first.
        saved = store.write(rt, row, doc, password)
    except IntegrityError as exc:
        db.session.rollback()
        raise _taken(rt, doc) from exc
    changes = [Change(kind_of(rt), saved.id, "upsert")]
    if isinstance(saved, ScimGroup):
        added, removed = store.set_members(saved, wanted) if wanted is not None else (set(), set())
        changes += _scope_changes(saved, old_name, added | removed)
    return saved, changes


def _scope_changes(group: ScimGroup, old_name: str | None, moved: set[str]) -> list[Change]:
    """Users entering or leaving a filter group sync at once (SCIM2ENTRA_FILTER_GROUPS)."""
    settings = current_app.config["SCIM2ENTRA"]
    was, now = is_filter_group(old_name, settings), is_filter_group(group.display_name, settings)
    if not (was or now):
        return []
    affected = set(moved)
    if was != now:  # renamed into or out of the filter: every member moves
        affected |= _member_ids(group)
    users = store.member_types(affected)
    return [Change("user", uid, "upsert") for uid, kind in sorted(users.items())
            if kind == "User"]


def _commit(changes: list[Change]) -> None:
    for change in changes:
        record(change)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        # Two requests raced for one userName/displayName; the loser gets what it would have
        # got a moment later.
        raise Uniqueness("the resource conflicts with one created at the same time") from exc
    dispatch_soon(changes)


@contextmanager
def _all_or_nothing() -> Iterator[None]:
    """A failed operation leaves the session clean: nothing of it is ever committed."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise


def _validated(rt: ResourceType, body: Any, existing: dict[str, Any] | None = None
               ) -> ValidatedResource:
    """A body (or a PATCH result) normalised for the clients' quirks, then validated."""
    return validate_resource(rt, normalize_resource(rt, body), existing=existing,
                             normalized=True)


def create(rt: ResourceType, body: dict[str, Any]) -> store.Row:
    validated = _validated(rt, body)
    if rt is USER:
        return _create_user(validated.doc, validated.password)
    with _all_or_nothing():
        row, changes = _save(rt, None, validated.doc, validated.password)
        _commit(changes)
    return row


def _create_user(doc: dict[str, Any], password: str | None) -> store.Row:
    """A new user has no groups and moves no filter group: one insert (scim/new_user.py)."""
    row = store.new_user_row(doc, password)
    change = Change("user", row.id, "upsert")
    with _all_or_nothing():
        try:
            insert_user(row, change)
            db.session.commit()
        except IntegrityError as exc:
            db.session.rollback()
            raise _taken(USER, doc) from exc
    dispatch_soon([change])
    return row


def replace(rt: ResourceType, resource_id: str, body: dict[str, Any], if_match: str | None
            ) -> store.Row:
    """PUT (RFC 7644 §3.5.1). A group PUT without `members` keeps its members: clients such
    as Entra leave members out of group bodies, and reading that as "remove everyone" would
    deprovision the whole group in Entra."""
    with _all_or_nothing():
        row = get(rt, resource_id)
        check_version(row, if_match)
        existing = store.full_document(rt, row)
        validated = _validated(rt, body, existing)
        keep = rt is GROUP and "members" not in validated.doc
        row, changes = _save(rt, row, validated.doc, validated.password, keep_members=keep)
        _commit(changes)
    return row


def patch(rt: ResourceType, resource_id: str, body: dict[str, Any], if_match: str | None
          ) -> store.Row:
    """PATCH (RFC 7644 §3.5.2): all operations apply, or none."""
    with _all_or_nothing():
        operations = normalize_patch(rt, body)
        row = get(rt, resource_id)
        check_version(row, if_match)
        existing = store.full_document(rt, row)
        patched = apply_patch(rt, existing, operations)
        validated = _validated(rt, patched, existing)
        if _unchanged(existing, validated.doc) and validated.password is None:
            db.session.rollback()
            return row
        row, changes = _save(rt, row, validated.doc, validated.password)
        _commit(changes)
    return row


def _unchanged(existing: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when a PATCH changed nothing a sync would see (re-adding a member, etc.)."""
    def comparable(doc: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in doc.items() if k not in {"meta", "groups", "members"}}
        out["members"] = sorted(str(m.get("value")) for m in doc.get("members") or [])
        return out

    return comparable(existing) == comparable(new)


def delete(rt: ResourceType, resource_id: str, if_match: str | None) -> None:
    with _all_or_nothing():
        row = get(rt, resource_id)
        check_version(row, if_match)
        members = _member_ids(row)
        parents = store.remove(rt, row)
        entra_id = _mark_deleted(kind_of(rt), resource_id)
        changes = [Change(kind_of(rt), resource_id, "delete", entra_id)]
        changes += [Change("group", gid, "upsert") for gid in parents]
        if isinstance(row, ScimGroup):
            changes += _scope_changes_on_delete(row, members)
        _commit(changes)


def _member_ids(row: store.Row) -> set[str]:
    if not isinstance(row, ScimGroup):
        return set()
    return {m["value"] for m in store.group_members([row.id]).get(row.id, [])}


def _scope_changes_on_delete(group: ScimGroup, members: set[str]) -> list[Change]:
    if not is_filter_group(group.display_name, current_app.config["SCIM2ENTRA"]):
        return []
    return [Change("user", uid, "upsert") for uid in sorted(members)]


def _mark_deleted(kind: str, object_id: str) -> str | None:
    """Keep the link (and its Entra id) so the remote delete never needs the local row;
    returns the Entra id, which also travels with the outbox row and the job."""
    state = db.session.query(SyncState).filter_by(kind=kind, object_id=object_id).one_or_none()
    if state is None:
        return None
    state.deleted_locally = True
    state.status = "pending"
    return state.entra_id
