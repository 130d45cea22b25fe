"""Replayed request sequences of each client family, over HTTP, from tests/samples.

Each family's documented requests run in the order the client sends them (lookups, creates,
updates, membership changes, deprovisioning) against the real app; every request must
succeed and the final state must be what the client meant.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from scim.schemas import ENTERPRISE_URN
from tests.test_scim_groups import new_group
from tests.test_scim_users import new_user

SAMPLES = Path(__file__).parent / "samples"

# Each family's requests in the order its client sends them. A POST's new id becomes the
# {user_id} / {group_id} of the requests after it.
SEQUENCES = {
    "entra": ["post-user", "patch-user-replace-attributes", "patch-user-pathless-dotted-keys",
              "patch-user-add-manager", "post-group", "patch-group-add-member",
              "patch-group-remove-member", "patch-group-add-member",
              "patch-group-remove-member-filter", "patch-disable-user"],
    "okta": ["post-user", "post-group", "put-user", "patch-user-password",
             "patch-group-members", "patch-group-rename", "patch-deactivate-user"],
    "onelogin": ["post-user-legacy-urn", "put-user-legacy-core-1.0",
                 "put-user-empty-values", "post-group-legacy-urn"],
    "authentik": ["post-user", "put-user", "post-group", "patch-group-add-members",
                  "patch-group-remove-members", "patch-group-replace"],
}


def sample(name: str, ids: dict[str, str]) -> tuple[str, str, Any]:
    raw = (SAMPLES / f"{name}.json").read_text()
    for key, value in ids.items():
        raw = raw.replace("{" + key + "}", value)
    data = json.loads(raw)
    return data["method"], data["path"], data["body"]


@pytest.fixture
def ids(scim: Any) -> dict[str, str]:
    """Resources the samples refer to besides the ones the sequence creates."""
    return {
        key: scim.post("/Users", new_user(f"{key}@example.com")).get_json()["id"]
        for key in ("other_user_id", "manager_id")
    }


def replay(scim: Any, prefix: str, ids: dict[str, str]) -> None:
    for step in SEQUENCES[prefix]:
        method, path, body = sample(f"{prefix}-{step}", ids)
        response = scim.call(method, path, body)
        assert response.status_code in (200, 201, 204), (step, response.get_json())
        if method == "POST":
            key = "user_id" if path == "/Users" else "group_id"
            ids[key] = response.get_json()["id"]


def test_entra_sequence(scim: Any, ids: dict[str, str]) -> None:
    probe = scim.get(f'/Users?filter=userName eq "{uuid.uuid4()}"')  # "test connection"
    assert probe.status_code == 200 and probe.get_json()["totalResults"] == 0
    replay(scim, "entra", ids)
    user = scim.get(f"/Users/{ids['user_id']}").get_json()
    assert user["active"] is False  # "op":"Replace","path":"active","value":"False"
    assert user[ENTERPRISE_URN]["manager"]["value"] == ids["manager_id"]  # bare-string manager
    group = scim.get(f"/Groups/{ids['group_id']}").get_json()
    members = {m["value"] for m in group.get("members", [])}
    # Entra's remove-with-value-list removed only the listed user, not everyone.
    assert ids["user_id"] not in members
    listed = scim.get('/Groups?filter=displayName eq "displayName"&excludedAttributes=members')
    assert listed.get_json()["totalResults"] == 1


def test_okta_sequence(scim: Any, ids: dict[str, str]) -> None:
    replay(scim, "okta", ids)
    lookup = scim.get('/Users?filter=userName eq "TEST.USER@OKTA.LOCAL"&startIndex=1&count=100')
    assert lookup.get_json()["Resources"][0]["id"] == ids["user_id"]  # upper case matches
    group = scim.get(f"/Groups/{ids['group_id']}").get_json()
    assert group["id"] == ids["group_id"]  # rename resent the same id
    user = scim.get(f"/Users/{ids['user_id']}").get_json()
    assert user["active"] is False and "password" not in user
    missing = scim.get("/Users/does-not-exist")
    assert missing.status_code == 404 and missing.get_json()["status"] == "404"


def test_onelogin_sequence(scim: Any, ids: dict[str, str]) -> None:
    replay(scim, "onelogin", ids)
    user = scim.get(f"/Users/{ids['user_id']}").get_json()
    assert user["active"] is True  # "TRUE" as a string
    assert "displayName" not in user and "locale" not in user  # "" means unset
    assert "department" not in user.get(ENTERPRISE_URN, {})


def test_authentik_sequence(scim: Any, ids: dict[str, str]) -> None:
    config = scim.get("/ServiceProviderConfig").get_json()
    assert config["bulk"]["maxOperations"] >= 100  # authentik chunks member PATCHes by it
    replay(scim, "authentik", ids)
    group = scim.get(f"/Groups/{ids['group_id']}").get_json()
    assert group["id"] == ids["group_id"]
    # On 409 authentik looks the group up by displayName and adopts it.
    name = group["displayName"]
    conflict = scim.post("/Groups", new_group(name))
    assert conflict.status_code == 409
    found = scim.get(f'/Groups?filter=displayName eq "{name}"').get_json()
    assert found["Resources"][0]["id"] == ids["group_id"]


