"""Every sample request under tests/samples/ through normalisation (and validation).

A sample is {"source", "note", "method", "path", "body", "expected"}. `{user_id}`-style
placeholders stand for ids a replay substitutes. PATCH samples expect the normalised
operations; POST/PUT samples expect the validated document, password and ignored names (a
PUT replaces the resource whose id is the path's placeholder).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from scim.normalize import normalize_patch, normalize_resource
from scim.schemas import GROUP, USER, ResourceType
from scim.validation import validate_resource

SAMPLES = Path(__file__).parent / "samples"
FILES = sorted(SAMPLES.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return sample


def resource_type(sample: dict[str, Any]) -> ResourceType:
    return USER if sample["path"].startswith("/Users") else GROUP


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_sample_is_complete(path: Path) -> None:
    sample = load(path)
    assert {"source", "method", "path", "body", "expected"} <= set(sample)
    assert sample["method"] in {"POST", "PUT", "PATCH"}
    assert sample["path"].startswith(("/Users", "/Groups"))


@pytest.mark.parametrize("path", [p for p in FILES if load(p)["method"] == "PATCH"],
                         ids=lambda p: p.stem)
def test_patch_sample_normalises_as_expected(path: Path) -> None:
    sample = load(path)
    operations = normalize_patch(resource_type(sample), sample["body"])
    got = [{"op": o.op, "path": o.path, "value": o.value} for o in operations]
    assert got == sample["expected"]["operations"]


@pytest.mark.parametrize("path", [p for p in FILES if load(p)["method"] != "PATCH"],
                         ids=lambda p: p.stem)
def test_resource_sample_normalises_and_validates_as_expected(path: Path) -> None:
    sample = load(path)
    rt = resource_type(sample)
    existing = None
    if sample["method"] == "PUT":
        existing = {"id": sample["path"].rsplit("/", 1)[1]}
    validated = validate_resource(rt, normalize_resource(rt, sample["body"]), existing=existing)
    # What the service does: it tells validation the document is normalised already.
    assert validate_resource(rt, normalize_resource(rt, sample["body"]), existing=existing,
                             normalized=True) == validated
    expected = sample["expected"]
    assert validated.doc == expected["doc"]
    assert validated.password == expected["password"]
    assert list(validated.ignored) == expected["ignored"]


def test_at_least_four_samples_per_client_family() -> None:
    families = Counter(p.stem.split("-", 1)[0] for p in FILES)
    for family in ("entra", "okta", "onelogin", "authentik"):
        assert families[family] >= 4, family
    assert sum(n for f, n in families.items() if f.startswith("rfc")) >= 4
