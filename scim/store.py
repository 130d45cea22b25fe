"""Storage of SCIM resources: rows ↔ documents, the search index and memberships.

No HTTP and no SCIM rules here beyond what the tables need; callers own the transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, delete, func, insert, select

from scim.index import index_rows, leaves
from scim.json_text import dumps
from scim.schemas import GROUP, USER, ResourceType
from webapp.extensions import db
from webapp.models import Membership, ScimAttr, ScimGroup, ScimUser, utcnow
from webapp.secrets_box import seal

Row = ScimUser | ScimGroup
MODELS: dict[str, type[ScimUser] | type[ScimGroup]] = {"User": ScimUser, "Group": ScimGroup}


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def etag(version: int) -> str:
    # RFC 7644 §3.14: weak validators are fine; the version bumps on every change.
    return f'W/"{version}"'


def new_id() -> str:
    return str(uuid.uuid4())


def model_for(rt: ResourceType) -> type[ScimUser] | type[ScimGroup]:
    return MODELS[rt.name]


def load(rt: ResourceType, resource_id: str, *, for_update: bool = False) -> Row | None:
    model = model_for(rt)
    query = select(model).where(model.id == resource_id)
    if for_update:
        query = query.with_for_update()
    return cast("Row | None", db.session.scalar(query))


def _meta(rt: ResourceType, row: Row) -> dict[str, Any]:
    return {
        "resourceType": rt.name,
        "created": iso(row.created),
        "lastModified": iso(row.last_modified),
        "version": etag(row.version),
    }


def document(rt: ResourceType, row: Row, related: list[dict[str, Any]]) -> dict[str, Any]:
    """The resource as SCIM JSON (without meta.location and $ref, which need the base URL).

    `related` is the user's groups or the group's members.
    """
    doc: dict[str, Any] = {"id": row.id, **row.data}
    if related:
        doc["groups" if rt is USER else "members"] = related
    doc["meta"] = _meta(rt, row)
    return doc


def user_groups(user_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Direct groups of each user (RFC 7643 §4.1.2 `groups`, type "direct")."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not user_ids:
        return found
    rows = db.session.execute(
        select(Membership.member_id, ScimGroup.id, ScimGroup.display_name)
        .join(ScimGroup, ScimGroup.id == Membership.group_id)
        .where(Membership.member_id.in_(user_ids))
        .order_by(ScimGroup.display_name)
    )
    for member_id, group_id, name in rows:
        found[member_id].append({"value": group_id, "display": name, "type": "direct"})
    return found


def group_members(group_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not group_ids:
        return found
    rows = db.session.execute(
        select(Membership.group_id, Membership.member_id, Membership.member_type)
        .where(Membership.group_id.in_(group_ids))
        .order_by(Membership.member_id)
    )
    for group_id, member_id, member_type in rows:
        found[group_id].append({"value": member_id, "type": member_type})
    return found


def related_of(rt: ResourceType, ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    return user_groups(ids) if rt is USER else group_members(ids)


def full_document(rt: ResourceType, row: Row, *, new_user: bool = False) -> dict[str, Any]:
    """The document with its groups or members; a user just created has no groups yet."""
    if new_user:
        return document(rt, row, [])
    return document(rt, row, related_of(rt, [row.id]).get(row.id, []))


def key_of(value: str) -> str:
    """The uniqueness key of a userName or group displayName: case-insensitive."""
    return value.casefold()


def _stored_data(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in {"id", "meta", "members", "groups"}}


def write(
    rt: ResourceType, row: Row | None, doc: dict[str, Any], password: str | None = None
) -> Row:
    """Insert or update one resource from a validated document; returns the row."""
    now = utcnow()
    fresh = row is None
    if row is None:
        row = model_for(rt)(id=doc.get("id") or new_id(), version=0, created=now)
        db.session.add(row)
    row.data = _stored_data(doc)
    row.version = (row.version or 0) + 1
    row.last_modified = now
    if isinstance(row, ScimUser):
        _user_columns(row, doc, password)
    else:
        row.display_name = doc["displayName"]
        row.display_name_key = key_of(doc["displayName"])
        row.external_id = doc.get("externalId")
    db.session.flush()
    reindex(rt, row, fresh=fresh)
    return row


def new_user_row(doc: dict[str, Any], password: str | None) -> ScimUser:
    """A new user's row, not added to the session (scim/new_user.py inserts it)."""
    now = utcnow()
    row = ScimUser(id=doc.get("id") or new_id(), version=1, created=now, last_modified=now,
                   data=_stored_data(doc))
    _user_columns(row, doc, password)
    return row


def _user_columns(row: ScimUser, doc: dict[str, Any], password: str | None) -> None:
    row.user_name = doc["userName"]
    row.user_name_key = key_of(doc["userName"])
    row.external_id = doc.get("externalId")
    row.display_name = doc.get("displayName")
    row.active = bool(doc.get("active", True))
    row.user_type = doc.get("userType")
    if password is not None:
        row.password_enc = seal(password)


def reindex(rt: ResourceType, row: Row, *, fresh: bool = False) -> None:
    if not fresh:
        db.session.execute(delete(ScimAttr).where(ScimAttr.resource_id == row.id))
    doc = document(rt, row, [])
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(PG_INDEX_FROM_JSON, index_params(rt, doc))
    elif rows := index_rows(rt, doc):
        connection.execute(ScimAttr.__table__.insert(), rows)


# One short, constant statement: psycopg prepares it once, where a multi-row VALUES list is
# re-parsed on every request (1.4 ms for 35 rows). The rows travel as one JSON array
# (PostgreSQL docs 9.16, json_to_recordset), dumped in C (scim/json_text.py), where psycopg
# dumps seven array parameters in Python. The owner is a parameter of its own and a key left
# out is NULL, so the JSON holds only path, elem and the one value. In psycopg's parameter
# style (Connection.exec_driver_sql); POST /Users embeds it in its one statement
# (scim/new_user.py).
PG_INDEX_FROM_JSON = (
    "INSERT INTO scim_attr (resource_type, resource_id, path, elem, value_str, value_num, "
    "value_bool) SELECT %(index_type)s, %(index_id)s, path, elem, value_str, "
    "CAST(value_num AS double precision), value_bool "
    "FROM json_to_recordset(CAST(%(index_rows)s AS json)) AS r(path varchar, elem integer, "
    "value_str varchar, value_num text, value_bool boolean)"
)


def index_params(rt: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
    """The parameters of PG_INDEX_FROM_JSON for `doc` (numbers are finite: scim.index)."""
    return {"index_type": rt.name, "index_id": doc["id"],
            "index_rows": dumps(leaves(rt, doc))}


def member_types(ids: Iterable[str]) -> dict[str, str]:
    """Which of `ids` exist, and whether each is a User or a Group."""
    wanted = list(set(ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update((i, "User") for i in db.session.scalars(
            select(ScimUser.id).where(ScimUser.id.in_(chunk))))
        found.update((i, "Group") for i in db.session.scalars(
            select(ScimGroup.id).where(ScimGroup.id.in_(chunk))))
    return found


def set_members(group: ScimGroup, wanted: dict[str, str]) -> tuple[set[str], set[str]]:
    """Make the group's direct members exactly `wanted` (id → type); returns (added, removed).

    Only the difference is written, so a PATCH adding one member to a 10k group is cheap.
    """
    current = set(db.session.scalars(
        select(Membership.member_id).where(Membership.group_id == group.id)))
    added, removed = set(wanted) - current, current - set(wanted)
    if removed:
        db.session.execute(delete(Membership).where(
            Membership.group_id == group.id, Membership.member_id.in_(removed)))
    if added:
        db.session.execute(insert(Membership), [
            {"group_id": group.id, "member_id": m, "member_type": wanted[m]} for m in added])
    return added, removed


def groups_containing(member_id: str) -> list[str]:
    return list(db.session.scalars(
        select(Membership.group_id).where(Membership.member_id == member_id)))


def remove(rt: ResourceType, row: Row) -> list[str]:
    """Delete a resource, its index rows and memberships; returns groups it was a member of."""
    parents = groups_containing(row.id)
    db.session.execute(delete(Membership).where(Membership.member_id == row.id))
    if rt is GROUP:
        db.session.execute(delete(Membership).where(Membership.group_id == row.id))
    db.session.execute(delete(ScimAttr).where(ScimAttr.resource_id == row.id))
    db.session.delete(row)
    return parents


def page(
    rt: ResourceType,
    where: ColumnElement[bool] | None,
    order: Sequence[Any],
    start_index: int,
    count: int,
) -> tuple[int, list[Row]]:
    """Total matches and one page of rows (RFC 7644 §3.4.2.4: startIndex is 1-based)."""
    model = model_for(rt)
    counted = select(func.count()).select_from(model)
    listed = select(model)
    if where is not None:
        counted, listed = counted.where(where), listed.where(where)
    total = int(db.session.scalar(counted) or 0)
    if count <= 0:
        return total, []
    rows: list[Row] = list(db.session.scalars(
        listed.order_by(*order).offset(max(start_index, 1) - 1).limit(count)
    ))
    return total, rows
