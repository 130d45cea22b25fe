"""Loading, file order and deep-merging of custom mapping folders."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mappings import (
    Connection,
    MappingConfigError,
    MappingEngine,
    ObjectError,
    ProviderContext,
    deep_merge,
)

USER = {"id": "u-1", "userName": "bjensen@example.com", "displayName": "Babs"}
GROUP = {"id": "g-1", "displayName": "Sales"}


def write(root: Path, relative: str, body: str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return path


def engine_with(tmp_path: Path, files: dict[str, str]) -> MappingEngine:
    for relative, body in files.items():
        write(tmp_path, relative, body)
    return MappingEngine.load(str(tmp_path))


def test_custom_user_folder_replaces_user_defaults_only(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"user/10-base.py": 'return {"display_name": user.name}'})
    assert [(m["name"], m["origin"]) for m in engine.describe()] == [
        ("user/10-base.py", "custom"),
        ("group/10-default.py", "default"),
    ]
    assert engine.evaluate_user(USER).graph_json == {"displayName": "Babs"}
    assert engine.evaluate_group(GROUP).graph_json["securityEnabled"] is True


def test_custom_group_folder_leaves_user_defaults(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"group/10-g.py": 'return {"display_name": group.name + "!"}'})
    assert engine.evaluate_group(GROUP).graph_json == {"displayName": "Sales!"}
    assert engine.evaluate_user(USER).graph_json["userPrincipalName"] == "bjensen@example.com"


def test_files_run_in_file_name_order_and_deep_merge(tmp_path: Path) -> None:
    engine = engine_with(
        tmp_path,
        {
            "user/20-extra.py": """
                return {"display_name": "second", "tags": ["b"],
                        "password_profile": {"force_change_password_next_sign_in": True}}
            """,
            "user/10-base.py": """
                return {"display_name": "first", "tags": ["a", "x"], "job_title": "Guide",
                        "password_profile": {"password": "P4ss!word-long-enough"}}
            """,
            "user/30-none.py": "return None",
            "user/.#10-base.py": "this is an editor lock file, not a mapping",
            "user/notes.txt": "not a mapping either",
        },
    )
    assert [m["name"] for m in engine.describe() if m["kind"] == "user"] == [
        "user/10-base.py",
        "user/20-extra.py",
        "user/30-none.py",
    ]
    assert engine.evaluate_user(USER).graph_json == {
        "displayName": "second",
        "tags": ["b"],
        "jobTitle": "Guide",
        "passwordProfile": {
            "password": "P4ss!word-long-enough",
            "forceChangePasswordNextSignIn": True,
        },
    }


def test_deep_merge_copies_and_replaces() -> None:
    nested = {"a": {"b": 1}}
    merged = deep_merge({}, nested)
    deep_merge(merged, {"a": {"c": 2}, "l": [1]})
    assert merged == {"a": {"b": 1, "c": 2}, "l": [1]}
    assert nested == {"a": {"b": 1}}  # the mapping's own dict is untouched
    assert deep_merge({"a": {"b": 1}}, {"a": 5}) == {"a": 5}
    assert deep_merge({"a": 5}, {"a": {"b": 1}}) == {"a": {"b": 1}}


def test_later_none_unsets_an_earlier_value(tmp_path: Path) -> None:
    engine = engine_with(
        tmp_path,
        {
            "user/10.py": 'return {"display_name": "x", "mail": "a@b.c"}',
            "user/20.py": 'return {"mail": None}',
        },
    )
    assert engine.evaluate_user(USER).graph_json == {"displayName": "x"}


def test_all_none_results_fail_the_object(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"user/10.py": "return None", "user/20.py": "pass"})
    with pytest.raises(ObjectError, match="produced no properties"):
        engine.evaluate_user(USER)


def test_mappings_may_import_msgraph_models(tmp_path: Path) -> None:
    engine = engine_with(
        tmp_path,
        {
            "user/10.py": """
                from msgraph.generated.models.object_identity import ObjectIdentity
                from msgraph.generated.models.password_profile import PasswordProfile
                import msgraph.generated.models.employee_org_data as org

                return {
                    "identities": [ObjectIdentity(sign_in_type="userName", issuer="contoso.com",
                                                  issuer_assigned_id=request.user.username)],
                    "password_profile": PasswordProfile(password=request.user.password),
                    "employee_org_data": org.EmployeeOrgData(cost_center="CC-1"),
                }
            """
        },
    )
    body = engine.evaluate_user(USER, password="Pa55word!long-one").graph_json
    assert body == {
        "identities": [
            {
                "signInType": "userName",
                "issuer": "contoso.com",
                "issuerAssignedId": USER["userName"],
            }
        ],
        "passwordProfile": {"password": "Pa55word!long-one"},
        "employeeOrgData": {"costCenter": "CC-1"},
    }


def test_group_mappings_see_request_with_no_user(tmp_path: Path) -> None:
    engine = engine_with(
        tmp_path,
        {
            "group/10.py": """
                return {"display_name": group.name, "description": repr((request.user, user)),
                        "tenant": provider.tenant_id, "linked": connection.attributes["id"]}
            """
        },
    )
    body = engine.evaluate_group(GROUP, Connection({"id": "e-1"}), ProviderContext(tenant_id="t"))
    assert body.graph_json == {
        "displayName": "Sales",
        "description": "(None, None)",
        "tenant": "t",
        "linked": "e-1",
    }


def test_user_mappings_see_the_same_object_as_request_user(tmp_path: Path) -> None:
    engine = engine_with(
        tmp_path, {"user/10.py": 'return {"same": user is request.user, "group": group}'}
    )
    assert engine.evaluate_user(USER).graph_json == {"same": True}


def test_mappings_are_compiled_once_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "user/10.py", 'return {"display_name": "v1"}')
    engine = MappingEngine.load(tmp_path)
    path.write_text('return {"display_name": "v2"}', encoding="utf-8")
    assert engine.evaluate_user(USER).graph_json == {"displayName": "v1"}
    assert MappingEngine.load(tmp_path).evaluate_user(USER).graph_json == {"displayName": "v2"}


def test_from_env(tmp_path: Path) -> None:
    write(tmp_path, "user/10.py", 'return {"display_name": "from env"}')
    engine = MappingEngine.from_env({"SCIM2ENTRA_MAPPINGS_DIR": str(tmp_path)})
    assert engine.evaluate_user(USER).graph_json == {"displayName": "from env"}
    assert MappingEngine.from_env({"SCIM2ENTRA_MAPPINGS_DIR": ""}).describe()[0]["origin"] == (
        "default"
    )


def test_bad_folders_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(MappingConfigError, match="is not a directory"):
        MappingEngine.load(tmp_path / "missing")
    (tmp_path / "user").mkdir()
    with pytest.raises(MappingConfigError, match=r"no \*\.py mapping files in user/"):
        MappingEngine.load(tmp_path)


def test_files_outside_kind_folders_are_a_config_error(tmp_path: Path) -> None:
    write(tmp_path, "10-base.py", "return {}")
    with pytest.raises(MappingConfigError, match="user/ or group/ subfolders"):
        MappingEngine.load(tmp_path)


def test_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown mapping kind"):
        MappingEngine.load().evaluate("device", {})
