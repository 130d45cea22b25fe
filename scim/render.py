"""A stored document as the client sees it: locations, references, then projection."""

from __future__ import annotations

from typing import Any

from scim.projection import project
from scim.schemas import USER, ResourceType


def render(
    rt: ResourceType,
    doc: dict[str, Any],
    base_url: str,
    attributes: list[str] | None = None,
    excluded: list[str] | None = None,
) -> dict[str, Any]:
    out = dict(doc)
    out["meta"] = {**doc["meta"], "location": f"{base_url}{rt.endpoint}/{doc['id']}"}
    if rt is USER and doc.get("groups"):
        out["groups"] = [{**g, "$ref": f"{base_url}/Groups/{g['value']}"} for g in doc["groups"]]
    if doc.get("members"):
        out["members"] = [
            {**m, "$ref": f"{base_url}/{m.get('type', 'User')}s/{m['value']}"}
            for m in doc["members"]
        ]
    return project(rt, out, attributes, excluded)
