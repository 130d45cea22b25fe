"""POST /Users's one-statement insert (scim/new_user.py) and the idle-only pool ping.

The insert bypasses the ORM, so these tests read back what it wrote: the row, the search
index (as scim.index computes it) and the outbox row, on both dialects, in autocommit and
inside an open transaction; and that a refused insert leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from scim.index import index_rows
from scim.schemas import ENTERPRISE_URN, USER
from tests.conftest import ScimClient, close_app, make_app
from tests.test_scim_users import assert_error, count, new_user
from webapp import pool_ping
from webapp.extensions import db
from webapp.models import OutboxEntry, ScimAttr, ScimUser

FULL = {**new_user("full@example.com"), "externalId": "ext-1", "displayName": "Zoë 日本 😀",
        "userType": "Employee", "title": "Engineer", "active": False,
        "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"}],
        "addresses": [{"locality": "London", "country": "GB", "primary": True}],
        ENTERPRISE_URN: {"employeeNumber": "42", "department": "Platform",
                         "manager": {"value": "boss-id"}},
        "schemas": [new_user()["schemas"][0], ENTERPRISE_URN]}


def _stored(app: Any, user_id: str) -> tuple[ScimUser, list[tuple[Any, ...]], list[Any]]:
    with app.app_context():
        row = db.session.get(ScimUser, user_id)
        attrs = db.session.execute(
            select(ScimAttr.resource_type, ScimAttr.resource_id, ScimAttr.path, ScimAttr.elem,
                   ScimAttr.value_str, ScimAttr.value_num, ScimAttr.value_bool)
            .where(ScimAttr.resource_id == user_id)).all()
        outbox = db.session.execute(select(OutboxEntry.kind, OutboxEntry.object_id,
                                           OutboxEntry.action, OutboxEntry.entra_id)).all()
        db.session.expunge_all()
        return row, sorted(tuple(a) for a in attrs), [tuple(o) for o in outbox]


def _expected_index(document: dict[str, Any]) -> list[tuple[Any, ...]]:
    # As stored: meta without the location, which depends on the base URL.
    meta = {k: v for k, v in document["meta"].items() if k != "location"}
    rows = index_rows(USER, {**document, "meta": meta})
    return sorted((r["resource_type"], r["resource_id"], r["path"], r["elem"], r["value_str"],
                   r["value_num"], r["value_bool"]) for r in rows)


def test_created_user_row_index_and_outbox_are_written(app: Any, scim: Any) -> None:
    # The first request of a token reads it from the store (an open transaction); the second
    # finds it cached, and its insert runs in autocommit on PostgreSQL: both paths are here.
    for name in ("full@example.com", "second@example.com"):
        response = scim.post("/Users", {**FULL, "userName": name, "externalId": name})
        assert response.status_code == 201, response.get_data(as_text=True)
        body = response.get_json()
        row, attrs, outbox = _stored(app, body["id"])
        assert (row.user_name, row.user_name_key, row.external_id, row.display_name) == (
            name, name.casefold(), name, "Zoë 日本 😀")
        assert (row.active, row.user_type, row.version, row.password_enc) == (
            False, "Employee", 1, None)
        assert row.created == row.last_modified
        assert body["meta"]["created"] == row.created.isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        assert row.data == {k: v for k, v in body.items() if k not in {"id", "meta"}}
        assert attrs == _expected_index(body)
        assert ("user", body["id"], "upsert", None) in outbox
    assert count(app, OutboxEntry) == 2


def test_taken_user_name_writes_nothing(app: Any, scim: Any) -> None:
    assert scim.post("/Users", new_user("Taken@example.com")).status_code == 201
    before = (count(app), count(app, ScimAttr), count(app, OutboxEntry))
    assert_error(scim.post("/Users", new_user("taken@EXAMPLE.com")), 409, "uniqueness")
    assert (count(app), count(app, ScimAttr), count(app, OutboxEntry)) == before
    # The session is usable again: the next create goes through.
    assert scim.post("/Users", new_user("next@example.com")).status_code == 201


def test_password_is_sealed_not_stored_in_the_document(app: Any, scim: Any) -> None:
    body = scim.post("/Users", new_user("pw@example.com", password="S3cret!pass")).get_json()
    row, attrs, _ = _stored(app, body["id"])
    assert row.password_enc and "S3cret!pass" not in row.password_enc
    assert "password" not in row.data and "password" not in body
    assert not [a for a in attrs if a[2] == "password"]


@pytest.fixture
def pg_app(pg_schema_url: str, redis_url: str, tmp_path: Any) -> Iterator[Any]:
    """The ping is installed for PostgreSQL only (SQLite has no server to lose)."""
    app = make_app(pg_schema_url, redis_url, str(tmp_path))
    yield app
    close_app(app)


def test_a_connection_killed_while_idle_is_replaced(pg_app: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from webapp.tokens import create_token

    app, tag = pg_app, uuid.uuid4().hex[:6]
    with app.app_context():
        scim = ScimClient(app.test_client(), create_token(f"ping-{tag}"))
    assert scim.post("/Users", new_user(f"before-{tag}@example.com")).status_code == 201
    with app.app_context():
        pids = [r[0] for r in db.session.execute(text("SELECT pg_backend_pid()"))]
        db.session.remove()
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])  # outside the app's pool
    with admin.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pids[0]})
    admin.dispose()
    monkeypatch.setattr(pool_ping, "PING_AFTER_IDLE", 0.0)  # the pooled one counts as idle
    assert scim.get("/Users?count=1").status_code == 200
    assert scim.post("/Users", new_user(f"after-{tag}@example.com")).status_code == 201


@pytest.fixture
def one_connection_app(pg_schema_url: str, redis_url: str, tmp_path: Any) -> Iterator[Any]:
    """PostgreSQL with a pool of one connection: every request gets the same one back."""
    app = make_app(pg_schema_url, redis_url, str(tmp_path),
                   SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0})
    yield app
    close_app(app)


def _token_names(app: Any) -> set[str]:
    from webapp.models import ScimToken

    with app.app_context():
        names = set(db.session.scalars(select(ScimToken.name)))
        db.session.remove()
    return names


def test_the_pool_gets_its_connection_back_transactional(one_connection_app: Any) -> None:
    """POST /Users runs in autocommit on the driver (scim/new_user.py); whether it succeeds
    or fails, the connection must go back to the pool out of autocommit, or the next
    request's rollback would leave its writes behind."""
    from webapp.models import ScimToken
    from webapp.tokens import create_token

    app, tag = one_connection_app, uuid.uuid4().hex[:6]
    with app.app_context():
        scim = ScimClient(app.test_client(), create_token(f"one-{tag}"))
    assert scim.get("/Users?count=0").status_code == 200  # the token is known: no read first
    assert scim.post("/Users", new_user(f"a-{tag}@example.com")).status_code == 201
    assert_error(scim.post("/Users", new_user(f"A-{tag}@example.com")), 409, "uniqueness")
    before = _token_names(app)
    with app.app_context():
        db.session.add(ScimToken(name=f"rolled-back-{tag}", token_hash="x" * 64))
        db.session.flush()
        db.session.rollback()
    assert _token_names(app) == before


def test_a_connection_lost_mid_request_is_replaced(one_connection_app: Any) -> None:
    """A connection dropped too recently for the idle ping fails one request (500, nothing
    written) and is thrown away: the next request gets a new one."""
    from webapp.tokens import create_token

    app, tag = one_connection_app, uuid.uuid4().hex[:6]
    with app.app_context():
        scim = ScimClient(app.test_client(), create_token(f"lost-{tag}"))
    assert scim.get("/Users?count=0").status_code == 200  # the token is known: no read first
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        db.session.remove()
    admin = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    with admin.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    lost = scim.post("/Users", new_user(f"lost-{tag}@example.com"))
    assert lost.status_code == 500 and lost.get_json()["status"] == "500"
    assert scim.post("/Users", new_user(f"next-{tag}@example.com")).status_code == 201
    assert scim.get(f'/Users?filter=userName eq "lost-{tag}@example.com"').get_json()[
        "totalResults"] == 0


def test_the_row_sets_every_column_the_orm_would_default() -> None:
    """The insert sends the unsaved row's values, bypassing the ORM's column defaults: a
    column with a default or NOT NULL that `new_user_row` leaves unset would arrive NULL
    (or fail) on POST /Users only, so a column added later must be set there too."""
    from scim.store import new_user_row

    row = new_user_row({"schemas": new_user()["schemas"], "userName": "min@example.com"}, None)
    unset = [column.name for column in ScimUser.__table__.columns
             if (column.default is not None or not column.nullable)
             and getattr(row, column.name) is None]
    assert unset == []
