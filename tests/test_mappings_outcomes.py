"""The outcomes of an evaluation other than a payload: skip, object error, config error."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mappings import (
    MappingConfigError,
    MappingEngine,
    ObjectError,
    ProviderContext,
    SkipObject,
    preview,
)
from tests.test_mappings_engine import GROUP, USER, engine_with, write


def test_skip_object_with_reason(tmp_path: Path) -> None:
    engine = engine_with(
        tmp_path,
        {
            "user/10-filter.py": """
                if request.user.attributes.get("userType") == "contractor":
                    raise SkipObject("contractors are not provisioned")
                return {"display_name": request.user.name}
            """
        },
    )
    assert engine.evaluate_user(USER).graph_json == {"displayName": "Babs"}
    with pytest.raises(SkipObject) as caught:
        engine.evaluate_user({**USER, "userType": "contractor"})
    assert caught.value.reason == "contractors are not provisioned"
    assert caught.value.mapping == "user/10-filter.py"


def test_skip_object_without_reason_names_the_mapping(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"group/50-skip.py": "raise SkipObject"})
    with pytest.raises(SkipObject) as caught:
        engine.evaluate_group(GROUP)
    assert caught.value.reason == "skipped by mapping group/50-skip.py"


def test_object_error_from_a_custom_mapping(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"user/10.py": 'raise ObjectError("no cost centre")'})
    with pytest.raises(ObjectError) as caught:
        engine.evaluate_user(USER)
    assert (caught.value.message, caught.value.mapping) == ("no cost centre", "user/10.py")


def test_runtime_error_reports_name_and_line_in_the_file(tmp_path: Path) -> None:
    engine = engine_with(
        tmp_path,
        {
            "user/10-ok.py": 'return {"display_name": "x"}',
            "user/20-broken.py": """
                # a comment on line 1
                from msgraph.generated.models.password_profile import PasswordProfile

                title = request.user.attributes.get("title")
                result = {"job_title": title}
                result["department"] = request.user.attributes["department"]
                return result
            """,
        },
    )
    with pytest.raises(MappingConfigError) as caught:
        engine.evaluate_user(USER)
    error = caught.value
    assert (error.mapping, error.line, error.kind) == ("user/20-broken.py", 6, "user")
    assert error.message == "KeyError: 'department'"
    assert str(error) == "user/20-broken.py, line 6: KeyError: 'department'"


def test_error_inside_a_helper_function_reports_the_innermost_mapping_line(
    tmp_path: Path,
) -> None:
    engine = engine_with(
        tmp_path,
        {
            "group/10.py": """
                def nickname(name):
                    return name.lower() + 1

                return {"mail_nickname": nickname(group.name)}
            """
        },
    )
    with pytest.raises(MappingConfigError) as caught:
        engine.evaluate_group(GROUP)
    assert (caught.value.mapping, caught.value.line) == ("group/10.py", 2)
    assert caught.value.message.startswith("TypeError: ")


def test_error_raised_in_library_code_reports_the_calling_line(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"user/10.py": "import json\n\nreturn json.loads('{')\n"})
    with pytest.raises(MappingConfigError) as caught:
        engine.evaluate_user(USER)
    assert (caught.value.line, caught.value.message.split(":")[0]) == (3, "JSONDecodeError")


@pytest.mark.parametrize(
    ("body", "line"),
    [
        ("x = 1\ny = (\nreturn {}\n", 2),
        ("if True:\nreturn {}\n", 2),
        ('x = 1\nreturn {"a": 1}}\n', 2),
    ],
)
def test_syntax_error_reports_name_and_line_at_load(tmp_path: Path, body: str, line: int) -> None:
    write(tmp_path, "group/10-ok.py", 'return {"display_name": "g"}')
    write(tmp_path, "group/20-bad.py", body)
    with pytest.raises(MappingConfigError) as caught:
        MappingEngine.load(tmp_path)
    assert caught.value.mapping == "group/20-bad.py"
    assert caught.value.line == line
    assert "SyntaxError" in caught.value.message or "IndentationError" in caught.value.message


def test_non_dict_result_is_a_config_error(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"user/10.py": 'return ["display_name"]'})
    with pytest.raises(MappingConfigError, match="must return a dict or None"):
        engine.evaluate_user(USER)


def test_unserialisable_value_is_a_config_error(tmp_path: Path) -> None:
    engine = engine_with(tmp_path, {"user/10.py": 'return {"display_name": object()}'})
    with pytest.raises(MappingConfigError, match="cannot convert object"):
        engine.evaluate_user(USER)


def test_outcome_exceptions_survive_pickling() -> None:
    # Queue workers may pickle job exceptions; the fields must come back intact.
    config = pickle.loads(pickle.dumps(MappingConfigError("user/1.py", 3, "boom", kind="user")))
    assert (config.mapping, config.line, config.message, config.kind) == (
        "user/1.py",
        3,
        "boom",
        "user",
    )
    skip = pickle.loads(pickle.dumps(SkipObject("why", mapping="user/1.py")))
    assert (skip.reason, skip.mapping) == ("why", "user/1.py")


def test_preview_reports_every_outcome_and_masks_passwords(tmp_path: Path) -> None:
    defaults = MappingEngine.load()
    tenant = ProviderContext(verified_domains={"example.com"})
    ok = preview(defaults, "user", USER, password="Secret!123456789", provider=tenant)
    assert ok["status"] == "ok" and len(ok["hash"]) == 64
    assert ok["payload"]["passwordProfile"]["password"] == "********"
    bad_domain = preview(defaults, "user", {**USER, "userName": "a@b.org"}, provider=tenant)
    assert bad_domain["status"] == "error" and "b.org" in bad_domain["message"]

    engine = engine_with(
        tmp_path,
        {"user/10.py": 'raise SkipObject("not today")', "group/10.py": "return 1 / 0"},
    )
    assert preview(engine, "user", USER) == {
        "status": "skipped",
        "reason": "not today",
        "mapping": "user/10.py",
    }
    assert preview(engine, "group", GROUP) == {
        "status": "config_error",
        "mapping": "group/10.py",
        "line": 1,
        "message": "ZeroDivisionError: division by zero",
    }
