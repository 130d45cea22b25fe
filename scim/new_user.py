"""POST /Users without the ORM: the user row, its index rows and its outbox row in one go.

An initial provisioning cycle is one POST per user, so this is the hot write path. On
PostgreSQL the three inserts are one statement (data-modifying statements in WITH, PostgreSQL
docs 7.8.4), which is atomic on its own: with no transaction open it runs in autocommit, and
the write costs one database round trip instead of BEGIN, three INSERTs and COMMIT. Other
dialects (SQLite) run three Core inserts in the session's transaction. Either way the row,
its index and its outbox row commit together or not at all.
"""

from __future__ import annotations

import json
import math
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql

from jobs.outbox import Change
from scim.index import index_rows
from scim.schemas import USER
from scim.store import document
from webapp.extensions import db
from webapp.models import OutboxEntry, ScimAttr, ScimUser, UTCDateTime

_USER_COLUMNS = tuple(column.name for column in ScimUser.__table__.columns)
_OUTBOX_COLUMNS = ("kind", "object_id", "action", "entra_id", "created_at")
_OUTBOX_PARAMS = {name: f"outbox_{name}" for name in _OUTBOX_COLUMNS}


# The index rows travel as one JSON array (PostgreSQL docs 9.16, json_to_recordset):
# json.dumps is C, where psycopg dumps seven array parameters of 35 elements in Python.
# value_num goes through text so that NaN and Infinity (not JSON) arrive as well.
_PG_INDEX_FROM_JSON = (
    "INSERT INTO scim_attr (resource_type, resource_id, path, elem, value_str, value_num, "
    "value_bool) SELECT resource_type, resource_id, path, elem, value_str, "
    "CAST(value_num AS double precision), value_bool "
    "FROM json_to_recordset(CAST(%(index_rows)s AS json)) AS r(resource_type varchar, "
    "resource_id varchar, path varchar, elem integer, value_str varchar, value_num text, "
    "value_bool boolean)"
)


def _pg_insert() -> str:
    """The statement in psycopg's own parameter style, for Connection.exec_driver_sql."""
    user_values = ", ".join(
        f"CAST(%({name})s AS json)" if name == "data" else f"%({name})s"
        for name in _USER_COLUMNS)
    return (
        f"WITH new_user AS (INSERT INTO scim_user ({', '.join(_USER_COLUMNS)}) "
        f"VALUES ({user_values})), "
        f"new_index AS ({_PG_INDEX_FROM_JSON}) "
        f"INSERT INTO outbox ({', '.join(_OUTBOX_COLUMNS)}) "
        f"VALUES ({', '.join(f'%({name})s' for name in _OUTBOX_PARAMS.values())})"
    )


_PG_INSERT = _pg_insert()
_UTC = UTCDateTime()
_DIALECT = postgresql.dialect()


def insert_user(row: ScimUser, change: Change) -> None:
    """Insert the new user `row`, its search-index rows and the outbox row of `change`.

    The caller commits. A taken userName raises IntegrityError and writes nothing.
    """
    attrs = index_rows(USER, document(USER, row, []))
    session = db.session()
    if session.get_bind().dialect.name != "postgresql":
        connection = session.connection()
        connection.execute(insert(ScimUser.__table__), _user_values(row))
        connection.execute(insert(ScimAttr.__table__), attrs)
        connection.execute(insert(OutboxEntry.__table__), _outbox_values(row, change))
        return
    params = _pg_params(row, change, attrs)
    if session.in_transaction():  # e.g. the token was just read: join, and commit with it
        session.connection().exec_driver_sql(_PG_INSERT, params)
        return
    # Without the Session's own bookkeeping, which costs as much Python as the statement.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql(_PG_INSERT, params)


def _user_values(row: ScimUser) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _USER_COLUMNS}


def _outbox_values(row: ScimUser, change: Change) -> dict[str, Any]:
    return {"kind": change.kind, "object_id": change.object_id, "action": change.action,
            "entra_id": change.entra_id, "created_at": row.created}


def _pg_params(row: ScimUser, change: Change, attrs: list[dict[str, Any]]) -> dict[str, Any]:
    """Parameters bound as the ORM would: JSON as json.dumps text, datetimes as naive UTC."""
    params = _user_values(row)
    params["data"] = json.dumps(row.data)
    params.update({key: _UTC.process_bind_param(params[key], _DIALECT)
                   for key in ("created", "last_modified")})
    for key, value in _outbox_values(row, change).items():
        params[_OUTBOX_PARAMS[key]] = value
    params[_OUTBOX_PARAMS["created_at"]] = params["created"]
    params["index_rows"] = json.dumps([_json_safe(a) for a in attrs])
    return params


def _json_safe(row: dict[str, Any]) -> dict[str, Any]:
    number = row["value_num"]
    if number is None or math.isfinite(number):
        return row
    return {**row, "value_num": repr(number)}  # "nan", "inf": PostgreSQL reads both
