"""Filters, sorting and paging as SQL (scim.query) on SQLite and PostgreSQL.

Each dialect gets its own store (a temporary SQLite file; a fresh PostgreSQL schema, dropped
afterwards) with the tables of webapp.models and a small seeded data set, indexed by
scim.index. Every filter is also evaluated in memory (scim.filter.matches_resource) as a
cross-check that SQL and Python agree.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, select
from sqlalchemy.orm import Session

from scim.errors import InvalidFilter, InvalidValue
from scim.filter import matches_resource, parse_filter
from scim.index import index_rows
from scim.query import order_by, page_window, where_clause
from scim.schemas import ENTERPRISE_URN, GROUP, GROUP_URN, USER, USER_URN, ResourceType
from tests.conftest import DIALECTS, pg_schema
from webapp.extensions import db
from webapp.models import Membership, ScimAttr, ScimGroup, ScimUser

TABLES = [ScimUser.__table__, ScimGroup.__table__, Membership.__table__, ScimAttr.__table__]


def _user(uid: str, user_name: str, modified: str, **attrs: Any) -> dict[str, Any]:
    schemas = [USER_URN, ENTERPRISE_URN] if ENTERPRISE_URN in attrs else [USER_URN]
    return {
        "schemas": schemas, "id": uid, "userName": user_name, "active": True, **attrs,
        "meta": {"resourceType": "User", "created": "2010-01-01T00:00:00Z",
                 "lastModified": modified},
    }


USERS = [
    _user("u1", "bjensen", "2011-05-13T04:42:34Z", externalId="ExtBJ",
          name={"familyName": "Jensen", "givenName": "Barbara"}, title="Tour Guide",
          userType="Employee",
          emails=[{"value": "bjensen@example.com", "type": "work", "primary": True},
                  {"value": "babs@jensen.org", "type": "home"}],
          ims=[{"value": "babs@foo.com", "type": "xmpp"}],
          **{ENTERPRISE_URN: {"employeeNumber": "701984", "manager": {"value": "u3"}}}),
    # lastModified 03:42:35Z as an instant: earlier than u1 although its text sorts later
    _user("u2", "Alice@Example.com", "2011-05-13T04:42:35+01:00", externalId="ext-ALICE",
          active=False, userType="Employee", name={"givenName": "Alice"},
          emails=[{"value": "alice@example.org", "type": "work"}]),
    _user("u3", "jsmith", "2012-01-01T00:00:00Z", title="Manager", userType="Contractor",
          name={"familyName": "O'Malley"},
          emails=[{"value": "jsmith@example.com", "type": "home"},
                  {"value": "john@corp.net", "type": "work"}],
          ims=[{"value": "js@foo.com", "type": "aim"}]),
    _user("u4", "100%_sure/x", "2020-01-01T00:00:00Z", title="Intern", userType="Intern"),
    _user("u5", "Zed", "2020-01-02T00:00:00.5Z", displayName="Zed",
          emails=[{"value": "zed@example.com", "type": "work"},
                  {"value": "zed@work.example.org", "type": "other", "primary": True}]),
    _user("u6", "star*q?[x]", "2020-01-03T00:00:00Z",
          **{ENTERPRISE_URN: {"department": "Sales"}}),
]
ALL_USERS = {u["id"] for u in USERS}
GROUPS = [
    {"schemas": [GROUP_URN], "id": "g1", "displayName": "Admins",
     "members": [{"value": "u1", "type": "User"}, {"value": "u2", "type": "User"}]},
    {"schemas": [GROUP_URN], "id": "g2", "displayName": "Everyone",
     "members": [*({"value": f"u{i}", "type": "User"} for i in range(1, 6)),
                 {"value": "g1", "type": "Group"}]},
    {"schemas": [GROUP_URN], "id": "g3", "displayName": "Empty"},
]
for _u in USERS:  # as the server returns users: their direct groups (not indexed)
    _groups = [{"value": g["id"], "type": "direct"}
               for g in GROUPS if any(m["value"] == _u["id"] for m in g.get("members", []))]
    if _groups:
        _u["groups"] = _groups


def _seed(engine: Engine) -> None:
    db.metadata.create_all(engine, tables=TABLES)
    with Session(engine) as session:
        for u in USERS:
            session.add(ScimUser(id=u["id"], user_name=u["userName"],
                                 user_name_key=u["userName"].lower(), data=u))
        for g in GROUPS:
            session.add(ScimGroup(id=g["id"], display_name=g["displayName"],
                                  display_name_key=g["displayName"].lower(), data=g))
        session.flush()
        for g in GROUPS:
            for m in g.get("members", []):
                session.add(Membership(group_id=g["id"], member_id=m["value"],
                                       member_type=m["type"]))
        rows = [r for u in USERS for r in index_rows(USER, u)]
        rows += [r for g in GROUPS for r in index_rows(GROUP, g)]
        session.execute(insert(ScimAttr), rows)
        session.commit()


@pytest.fixture(scope="module", params=DIALECTS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Engine]:
    if request.param == "sqlite":
        folder = tmp_path_factory.mktemp("query")
        engine = create_engine(f"sqlite:///{folder / 'query.db'}")
        _seed(engine)
        yield engine
        engine.dispose()
        return
    with pg_schema("t_query") as url:
        engine = create_engine(url)
        try:
            _seed(engine)
            yield engine
        finally:
            engine.dispose()


def _ids(engine: Engine, rt: ResourceType, where: str) -> set[str]:
    model = ScimUser if rt is USER else ScimGroup
    node = parse_filter(where, rt)
    with Session(engine) as session:
        found = set(session.scalars(select(model.id).where(where_clause(node, rt, model.id))))
    docs = USERS if rt is USER else GROUPS
    in_memory = {d["id"] for d in docs if matches_resource(node, d)}
    assert found == in_memory, f"SQL and in-memory evaluation disagree on {where!r}"
    return found


# RFC 7644 §3.4.2.2, every example filter of the section (Figure 2 and the text).
RFC_EXAMPLES = [
    ('userName eq "bjensen"', {"u1"}),
    ('name.familyName co "O\'Malley"', {"u3"}),
    ('userName sw "J"', {"u3"}),
    ('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', {"u3"}),
    ("title pr", {"u1", "u3", "u4"}),
    ('meta.lastModified gt "2011-05-13T04:42:34Z"', {"u3", "u4", "u5", "u6"}),
    ('meta.lastModified ge "2011-05-13T04:42:34Z"', {"u1", "u3", "u4", "u5", "u6"}),
    ('meta.lastModified lt "2011-05-13T04:42:34Z"', {"u2"}),
    ('meta.lastModified le "2011-05-13T04:42:34Z"', {"u1", "u2"}),
    ('title pr and userType eq "Employee"', {"u1"}),
    ('title pr or userType eq "Intern"', {"u1", "u3", "u4"}),
    ('schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', {"u1", "u6"}),
    ('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
     {"u1", "u2"}),
    ('userType ne "Employee" and not (emails co "example.com" or emails.value co '
     '"example.org")', {"u4", "u6"}),
    ('userType eq "Employee" and (emails.type eq "work")', {"u1", "u2"}),
    ('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', {"u1"}),
    ('emails[type eq "work" and value co "@example.com"] or '
     'ims[type eq "xmpp" and value co "@foo.com"]', {"u1", "u5"}),
]

# What Entra and Okta send (scim-clients.md), and the edges of each operator.
CLIENT_AND_EDGE_CASES = [
    ('userName eq "Alice@Example.com"', {"u2"}),
    ('userName eq "ALICE@EXAMPLE.COM"', {"u2"}),
    ('userName eq "3f2504e0-4f89-11d3-9a0c-0305e82c3301"', set()),  # Entra test connection
    ('externalId eq "ext-ALICE"', {"u2"}),
    ('externalId eq "EXT-alice"', set()),  # caseExact
    ('externalId co "alice"', set()),  # caseExact, also with SQLite's LIKE
    ('externalId co "ALICE"', {"u2"}),
    ('emails[type eq "work"].value eq "alice@example.org"', {"u2"}),
    ('emails[type eq "work"].value eq "ALICE@example.org"', {"u2"}),
    ('emails[type eq "home"].value eq "alice@example.org"', set()),
    ('emails[type eq "work"].value eq "jsmith@example.com"', set()),  # other element's value
    ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"',
     {"u1"}),
    ('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "u3"',
     {"u1"}),
    ('id eq "u4"', {"u4"}),
    ('meta.created eq "2010-01-01T01:00:00+01:00"', ALL_USERS),
    ("active eq false", {"u2"}),
    ("active ne true", {"u2"}),
    ("active eq true", ALL_USERS - {"u2"}),
    ('userName co "%"', {"u4"}),
    ('userName co "_"', {"u4"}),
    ('userName sw "100%_"', {"u4"}),
    ('userName ew "/x"', {"u4"}),
    ('userName co "*"', {"u6"}),
    ('userName co "?"', {"u6"}),
    ('userName co "[x]"', {"u6"}),
    ('title gt "m"', {"u1", "u3"}),
    ('title lt "M"', {"u4"}),
    ("name.givenName eq null", {"u3", "u4", "u5", "u6"}),
    ("title ne null", {"u1", "u3", "u4"}),
    ('emails ne "zed@example.com"', ALL_USERS - {"u5"}),
    ('emails[not (type eq "work")]', {"u1", "u3", "u5"}),
    ('emails[type ne "work"]', {"u1", "u3", "u5"}),
    ("emails[primary eq true]", {"u1", "u5"}),
    ('emails[primary pr and type eq "other"]', {"u5"}),
    ("emails pr", {"u1", "u2", "u3", "u5"}),
    ("name pr", {"u1", "u2", "u3"}),
    ('((userName eq "bjensen"))', {"u1"}),
    ('userName eq "bjensen" or userName eq "jsmith" and title eq "nobody"', {"u1"}),
    ('USERNAME EQ "bjensen" Or Title Pr AND not (userType eq "Intern")', {"u1", "u3"}),
    ('groups.value eq "g1"', {"u1", "u2"}),
    ("not (groups pr)", {"u6"}),
]

GROUP_CASES = [
    ('displayName eq "admins"', {"g1"}),
    ('displayName eq "Everyone"', {"g2"}),
    ('members[value eq "u2"]', {"g1", "g2"}),
    ('members.value eq "u3"', {"g2"}),
    ('members.value eq "U3"', set()),  # member ids are caseExact
    ("members pr", {"g1", "g2"}),
    ("not (members pr)", {"g3"}),
    ('members[type eq "Group"]', {"g2"}),
    ('members[value eq "g1" and type eq "group"]', {"g2"}),
    ('members[value ne "u1"]', {"g1", "g2"}),
    ('members.value ne "u1"', {"g3"}),
    ('displayName sw "E" and not (members[value eq "u6"])', {"g2", "g3"}),
]


@pytest.mark.parametrize(("where", "expected"), RFC_EXAMPLES + CLIENT_AND_EDGE_CASES)
def test_user_filters(engine: Engine, where: str, expected: set[str]) -> None:
    assert _ids(engine, USER, where) == expected


@pytest.mark.parametrize(("where", "expected"), GROUP_CASES)
def test_group_filters(engine: Engine, where: str, expected: set[str]) -> None:
    assert _ids(engine, GROUP, where) == expected


@pytest.mark.parametrize("where", ['members.display eq "x"', 'members[display eq "x"]'])
def test_unindexed_member_attributes_are_invalid_filters(engine: Engine, where: str) -> None:
    with pytest.raises(InvalidFilter):
        where_clause(parse_filter(where, GROUP), GROUP, ScimGroup.id)


def _sorted(engine: Engine, rt: ResourceType, sort_by: str | None, order: str | None,
            where: str | None = None) -> list[str]:
    model = ScimUser if rt is USER else ScimGroup
    stmt = select(model.id).order_by(*order_by(rt, sort_by, order, model.id))
    if where:
        stmt = stmt.where(where_clause(parse_filter(where, rt), rt, model.id))
    with Session(engine) as session:
        return list(session.scalars(stmt))


@pytest.mark.parametrize(("sort_by", "order", "expected"), [
    ("userName", None, ["u4", "u2", "u1", "u3", "u6", "u5"]),
    ("USERNAME", "descending", ["u5", "u6", "u3", "u1", "u2", "u4"]),
    ("title", "ascending", ["u4", "u3", "u1", "u2", "u5", "u6"]),  # missing last, by id
    ("title", "descending", ["u1", "u3", "u4", "u2", "u5", "u6"]),
    ("name.familyName", None, ["u1", "u3", "u2", "u4", "u5", "u6"]),
    ("meta.lastModified", None, ["u2", "u1", "u3", "u4", "u5", "u6"]),
    ("meta.lastModified", "descending", ["u6", "u5", "u4", "u3", "u1", "u2"]),
    # RFC 7644 §3.4.2.3: a multi-valued attribute sorts by its primary value, else the first
    ("emails.value", None, ["u2", "u1", "u3", "u5", "u4", "u6"]),
    ("emails", None, ["u2", "u1", "u3", "u5", "u4", "u6"]),
    ("active", None, ["u2", "u1", "u3", "u4", "u5", "u6"]),
    (None, None, ["u1", "u2", "u3", "u4", "u5", "u6"]),
])
def test_sorting(engine: Engine, sort_by: str | None, order: str | None,
                 expected: list[str]) -> None:
    assert _sorted(engine, USER, sort_by, order) == expected


def test_sorting_with_a_filter_and_groups(engine: Engine) -> None:
    assert _sorted(engine, USER, "userName", "descending", "userType pr") == [
        "u3", "u1", "u2", "u4"]
    assert _sorted(engine, GROUP, "displayName", None) == ["g1", "g3", "g2"]


@pytest.mark.parametrize(("rt", "sort_by", "order"), [
    (USER, "nosuch", None), (USER, "name", None), (GROUP, "members", None),
    (GROUP, "members.value", None), (USER, "userName", "sideways"), (USER, "password", None),
])
def test_bad_sorting(rt: ResourceType, sort_by: str, order: str | None) -> None:
    with pytest.raises(InvalidValue):
        order_by(rt, sort_by, order, ScimUser.id)


def test_paging_in_sql(engine: Engine) -> None:
    page = page_window(2, 2, default_count=100, max_count=100)
    model = ScimUser
    stmt = (select(model.id).order_by(*order_by(USER, "userName", None, model.id))
            .offset(page.offset).limit(page.count))
    with Session(engine) as session:
        assert list(session.scalars(stmt)) == ["u2", "u1"]


@pytest.mark.parametrize(("start", "count", "expected"), [
    (None, None, (1, 50)), (0, 10, (1, 10)), (-5, -1, (1, 0)), ("3", "500", (3, 100)),
    ("", "", (1, 50)),
])
def test_page_window(start: Any, count: Any, expected: tuple[int, int]) -> None:
    page = page_window(start, count, default_count=50, max_count=100)
    assert (page.start_index, page.count) == expected
    assert page.offset == expected[0] - 1


def test_page_window_rejects_non_integers() -> None:
    with pytest.raises(InvalidValue):
        page_window("one", None, default_count=50, max_count=100)
