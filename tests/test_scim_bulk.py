"""/Bulk (RFC 7644 §3.7): bulkId references, per-operation results, limits."""

from __future__ import annotations

from typing import Any

from scim.schemas import BULK_REQUEST_URN, GROUP_URN
from tests.test_scim_users import assert_error, new_user


def bulk(*operations: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"schemas": [BULK_REQUEST_URN], "Operations": list(operations), **extra}


def test_bulk_creates_user_and_group_referencing_it(scim: Any) -> None:
    # The group comes first and names the user's bulkId: resolved on the second pass.
    response = scim.post("/Bulk", bulk(
        {"method": "POST", "path": "/Groups", "bulkId": "g1",
         "data": {"schemas": [GROUP_URN], "displayName": "Ops",
                  "members": [{"value": "bulkId:u1"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "u1", "data": new_user()},
    ))
    assert response.status_code == 200
    results = {r["bulkId"]: r for r in response.get_json()["Operations"]}
    assert results["u1"]["status"] == "201" and results["g1"]["status"] == "201"
    user_id = results["u1"]["location"].rsplit("/", 1)[-1]
    group = scim.get("/Groups/" + results["g1"]["location"].rsplit("/", 1)[-1]).get_json()
    assert [m["value"] for m in group["members"]] == [user_id]


def test_bulk_reports_each_error_and_goes_on(scim: Any) -> None:
    created = scim.post("/Users", new_user()).get_json()
    response = scim.post("/Bulk", bulk(
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": new_user()},
        {"method": "PATCH", "path": f"/Users/{created['id']}",
         "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "replace", "path": "title", "value": "T"}]}},
        {"method": "DELETE", "path": "/Users/no-such-id"},
        {"method": "POST", "path": "/Groups", "bulkId": "x",
         "data": {"schemas": [GROUP_URN], "displayName": "G",
                  "members": [{"value": "bulkId:never"}]}},
    ))
    statuses = [r["status"] for r in response.get_json()["Operations"]]
    assert statuses == ["409", "200", "404", "409"]
    assert response.get_json()["Operations"][0]["response"]["scimType"] == "uniqueness"
    assert scim.get(f"/Users/{created['id']}").get_json()["title"] == "T"


def test_fail_on_errors_stops_processing(scim: Any) -> None:
    response = scim.post("/Bulk", bulk(
        {"method": "DELETE", "path": "/Users/a"},
        {"method": "DELETE", "path": "/Users/b"},
        {"method": "POST", "path": "/Users", "bulkId": "late", "data": new_user()},
        failOnErrors=1,
    ))
    assert [r["status"] for r in response.get_json()["Operations"]] == ["404"]
    assert scim.get("/Users").get_json()["totalResults"] == 0


def test_too_many_operations_is_413(app: Any, scim: Any) -> None:
    app.config["SCIM2ENTRA"]["BULK_MAX_OPERATIONS"] = "2"
    ops = [{"method": "DELETE", "path": f"/Users/{i}"} for i in range(3)]
    assert_error(scim.post("/Bulk", bulk(*ops)), 413)


def test_bulk_without_schema_is_invalid_syntax(scim: Any) -> None:
    assert_error(scim.post("/Bulk", {"Operations": []}), 400, "invalidSyntax")
