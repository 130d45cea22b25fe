"""Large member lists through the PATCH engine: correctness asserted, timing only printed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scim.patch import PatchOperation, apply_patch
from scim.schemas import GROUP, GROUP_URN

SIZE = 10_000


def _group(ids: range) -> dict[str, Any]:
    return {"schemas": [GROUP_URN], "id": "g1", "displayName": "Big",
            "members": [{"value": f"user-{i}", "type": "User"} for i in ids]}


def _timed(label: str, capsys: pytest.CaptureFixture[str], doc: dict[str, Any],
           ops: list[PatchOperation]) -> dict[str, Any]:
    started = time.perf_counter()
    result = apply_patch(GROUP, doc, ops)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\n[bench] {label}: {elapsed * 1000:.0f} ms")
    return result


def test_add_ten_thousand_members_in_one_operation(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _group(range(SIZE))
    added = [{"value": f"user-{i}"} for i in range(SIZE, 2 * SIZE)]
    ops = [PatchOperation("add", "members", added)]
    result = _timed("add 10,000 members to 10,000 (one op)", capsys, doc, ops)
    assert len(result["members"]) == 2 * SIZE and len(doc["members"]) == SIZE


def test_add_existing_members_is_a_no_op(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _group(range(SIZE))
    ops = [PatchOperation("add", "members", [{"value": f"user-{i}"} for i in range(SIZE)])]
    assert _timed("re-add 10,000 existing members", capsys, doc, ops) == doc


def test_remove_ten_thousand_members_one_op_each(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _group(range(SIZE))
    ops = [PatchOperation("remove", f'members[value eq "user-{i}"]') for i in range(SIZE)]
    result = _timed("remove 10,000 members (10,000 ops)", capsys, doc, ops)
    assert "members" not in result and len(doc["members"]) == SIZE


def test_remove_half_and_non_members(capsys: pytest.CaptureFixture[str]) -> None:
    doc = _group(range(SIZE))
    ops = [PatchOperation("remove", f'members[value eq "user-{i}"]') for i in range(0, 2 * SIZE, 2)]
    result = _timed("remove 5,000 members + 5,000 non-members", capsys, doc, ops)
    assert [m["value"] for m in result["members"]] == [f"user-{i}" for i in range(1, SIZE, 2)]
