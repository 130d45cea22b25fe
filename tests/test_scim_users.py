"""Users over HTTP: create, read, replace, patch, delete, and the bad inputs of issue 2."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from scim.schemas import ENTERPRISE_URN, PATCH_OP_URN, USER_URN
from webapp.extensions import db
from webapp.models import OutboxEntry, ScimUser

SCIM_JSON = "application/scim+json"


def new_user(name: str = "alice@example.com", **extra: Any) -> dict[str, Any]:
    return {"schemas": [USER_URN], "userName": name, "active": True,
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": name, "type": "work", "primary": True}], **extra}


def patch_body(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": [PATCH_OP_URN], "Operations": list(operations)}


def count(app: Any, model: Any = ScimUser) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def assert_error(response: Any, status: int, scim_type: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type.startswith(SCIM_JSON)
    body = response.get_json()
    assert body["status"] == str(status)  # RFC 7644 §3.12: a string
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    if scim_type:
        assert body["scimType"] == scim_type


def test_create_returns_201_with_location_etag_and_no_password(scim: Any) -> None:
    response = scim.post("/Users", new_user(password="Secret-123!"))
    assert response.status_code == 201
    assert response.content_type.startswith(SCIM_JSON)
    body = response.get_json()
    assert response.headers["Location"] == body["meta"]["location"]
    assert body["meta"]["location"].endswith(f"/scim/v2/Users/{body['id']}")
    assert response.headers["ETag"] == body["meta"]["version"]
    assert body["meta"]["resourceType"] == "User"
    assert "password" not in body
    assert body["userName"] == "alice@example.com"
    got = scim.get(f"/Users/{body['id']}")
    assert got.status_code == 200 and got.get_json()["name"]["givenName"] == "Alice"


def test_create_writes_resource_and_outbox_and_enqueues(app: Any, scim: Any) -> None:
    from jobs.queue import handle, sync_job_id

    user_id = scim.post("/Users", new_user()).get_json()["id"]
    with app.app_context():
        rows = db.session.scalars(select(OutboxEntry)).all()
        assert [(r.kind, r.object_id, r.action) for r in rows] == [("user", user_id, "upsert")]
        queue = handle(app).queue
        assert sync_job_id("user", user_id) in queue.get_job_ids()


def test_burst_of_changes_coalesces_into_one_job(app: Any, scim: Any) -> None:
    from jobs.queue import handle

    user_id = scim.post("/Users", new_user()).get_json()["id"]
    for title in ("a", "b", "c"):
        ok = scim.patch(f"/Users/{user_id}", patch_body(
            {"op": "replace", "path": "title", "value": title}))
        assert ok.status_code == 200
    with app.app_context():
        assert handle(app).queue.get_job_ids() == [f"sync-user-{user_id}"]
        assert count(app, OutboxEntry) == 4


def test_redis_down_still_acknowledges_and_keeps_outbox(database_url: str, tmp_path: Any
                                                        ) -> None:
    from tests.conftest import ScimClient, _empty_tables, make_app
    from webapp.tokens import create_token

    app = make_app(database_url, "redis://127.0.0.1:1/0", str(tmp_path))
    _empty_tables(app)
    with app.app_context():
        token = create_token("t")
    scim = ScimClient(app.test_client(), token)
    response = scim.post("/Users", new_user("down@example.com"))
    assert response.status_code == 201
    with app.app_context():
        entry = db.session.scalars(select(OutboxEntry)).one()
        assert entry.object_id == response.get_json()["id"] and entry.done_at is None


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic dXNlcjpwYXNz", "Bearer "])
def test_missing_or_bad_token_is_401(client: Any, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/scim/v2/Users", headers=headers)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_is_rejected(app: Any, client: Any) -> None:
    from webapp.tokens import create_token, revoke_token

    with app.app_context():
        token = create_token("gone")
        revoke_token("gone")
    assert_error(client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {token}"}), 401)


def test_malformed_json_is_invalid_syntax(app: Any, scim: Any) -> None:
    response = scim.call("POST", "/Users", data="{not json",
                         headers={"Content-Type": SCIM_JSON})
    assert_error(response, 400, "invalidSyntax")
    assert count(app) == 0


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_json_has_not_are_invalid_syntax(app: Any, scim: Any, number: str) -> None:
    """Python's json reads them; PostgreSQL's json type refuses them (was a 500 there)."""
    ext = "urn:example:params:scim:schemas:extension:custom:2.0:User"
    body = json.dumps({**new_user(), "schemas": [USER_URN, ext]})
    body = body[:-1] + f', "{ext}": {{"score": {number}}}}}'
    response = scim.call("POST", "/Users", data=body, headers={"Content-Type": SCIM_JSON})
    assert_error(response, 400, "invalidSyntax")
    assert count(app) == 0


def test_a_number_past_the_double_range_is_kept_but_not_indexed(app: Any, scim: Any) -> None:
    # Past 64 bits orjson refuses it too: scim/json_text.py writes it with json instead.
    ext = "urn:example:params:scim:schemas:extension:custom:2.0:User"
    body = {**new_user(), "schemas": [USER_URN, ext], ext: {"score": 10**400}}
    created = scim.post("/Users", body)
    assert created.status_code == 201, created.get_json()
    assert scim.get(f"/Users/{created.get_json()['id']}").get_json()[ext]["score"] == 10**400


def test_missing_username_is_invalid_value(app: Any, scim: Any) -> None:
    body = new_user()
    del body["userName"]
    assert_error(scim.post("/Users", body), 400, "invalidValue")
    assert count(app) == 0


def test_missing_core_schema_is_400(app: Any, scim: Any) -> None:
    response = scim.post("/Users", new_user(schemas=["urn:example:not:scim"]))
    assert_error(response, 400)
    assert count(app) == 0


def test_duplicate_username_in_any_case_is_409(app: Any, scim: Any) -> None:
    assert scim.post("/Users", new_user("Bob@Example.com")).status_code == 201
    assert_error(scim.post("/Users", new_user("bob@EXAMPLE.COM")), 409, "uniqueness")
    assert count(app) == 1


def test_unknown_resource_is_404_with_scim_body(scim: Any) -> None:
    assert_error(scim.get("/Users/00000000-0000-0000-0000-000000000000"), 404)
    assert_error(scim.get("/NoSuchThing"), 404)
    assert_error(scim.delete("/Users/nope"), 404)


def test_me_is_501(scim: Any) -> None:
    assert_error(scim.get("/Me"), 501)


def test_body_over_limit_is_413_and_writes_nothing(app: Any, scim: Any) -> None:
    app.config["SCIM2ENTRA"]["MAX_BODY_BYTES"] = "2000"
    body = new_user(title="x" * 5000)
    assert_error(scim.post("/Users", body), 413)
    assert count(app) == 0


def test_put_replaces_and_bumps_version(scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    body = new_user(displayName="Alice L.")
    del body["name"]
    response = scim.put(f"/Users/{created['id']}", body)
    assert response.status_code == 200
    replaced = response.get_json()
    assert replaced["displayName"] == "Alice L." and "name" not in replaced
    assert replaced["meta"]["version"] != created["meta"]["version"]
    assert replaced["meta"]["created"] == created["meta"]["created"]


def test_patch_changing_id_is_mutability_and_changes_nothing(scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    response = scim.patch(f"/Users/{created['id']}", patch_body(
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "replace", "path": "id", "value": "another-id"}))
    assert_error(response, 400, "mutability")
    after = scim.get(f"/Users/{created['id']}").get_json()
    assert after.get("displayName") is None
    assert after["meta"]["version"] == created["meta"]["version"]


def test_patch_remove_without_path_is_no_target(scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    response = scim.patch(f"/Users/{created['id']}", patch_body({"op": "remove"}))
    assert_error(response, 400, "noTarget")


def test_patch_unknown_op_is_400(scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    response = scim.patch(f"/Users/{created['id']}", patch_body(
        {"op": "merge", "path": "title", "value": "x"}))
    assert_error(response, 400)
    assert "title" not in scim.get(f"/Users/{created['id']}").get_json()


def test_patch_entra_disable_with_string_false(scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    response = scim.patch(f"/Users/{created['id']}", patch_body(
        {"op": "Replace", "path": "active", "value": "False"}))
    assert response.status_code == 200
    assert response.get_json()["active"] is False


def test_if_match_and_if_none_match(scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    path = f"/Users/{created['id']}"
    stale = scim.put(path, new_user(title="t"), headers={"If-Match": 'W/"999"'})
    assert_error(stale, 412)
    fresh = scim.put(path, new_user(title="t"), headers={"If-Match": created["meta"]["version"]})
    assert fresh.status_code == 200
    version = fresh.get_json()["meta"]["version"]
    not_modified = scim.get(path, headers={"If-None-Match": version})
    assert not_modified.status_code == 304
    assert scim.get(path, headers={"If-None-Match": created["meta"]["version"]}).status_code == 200


def test_delete_then_gone(app: Any, scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    assert scim.delete(f"/Users/{created['id']}").status_code == 204
    assert_error(scim.get(f"/Users/{created['id']}"), 404)
    with app.app_context():
        actions = [e.action for e in db.session.scalars(select(OutboxEntry).order_by(
            OutboxEntry.id))]
    assert actions == ["upsert", "delete"]


def test_enterprise_extension_and_unknown_extension_kept(scim: Any) -> None:
    custom = "urn:example:params:scim:schemas:extension:acme:2.0:User"
    body = new_user(**{ENTERPRISE_URN: {"employeeNumber": "42", "manager": {"value": "m1"}},
                       custom: {"badge": "B-7"}})
    body["schemas"] = [USER_URN, ENTERPRISE_URN, custom]
    created = scim.post("/Users", body).get_json()
    got = scim.get(f"/Users/{created['id']}").get_json()
    assert got[ENTERPRISE_URN]["employeeNumber"] == "42"
    assert got[custom] == {"badge": "B-7"}
