"""Turn a merged mapping result (snake_case keys, msgraph models) into a Graph JSON body.

Model values go through the SDK's own ``JsonSerializationWriter``, so the JSON is byte for
byte what msgraph-sdk would send: camelCase names from the model, unset (None) properties
left out (no ``"@odata.type": null``), ``additional_data`` included, backing store ignored.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date, datetime, time
from enum import Enum
from functools import lru_cache
from typing import Any
from uuid import UUID

from kiota_abstractions.serialization import Parsable
from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter

# Fields that must not make an unchanged object look changed. passwordProfile: Graph needs
# it on create only, and the default mapping generates a random password when the SCIM
# client sent none (seed 001 sets one on every evaluation), so it differs on every run;
# hashing it would PATCH - and reset the password of - every user on every full sync.
WRITE_ONCE_FIELDS = frozenset({"passwordProfile"})

# Directory extension attributes ("extension_<appId without dashes>_<name>") are
# case-sensitive names that contain underscores: they must be sent exactly as written.
_DIRECTORY_EXTENSION_RE = re.compile(r"^extension_[0-9a-fA-F]{32}_")


@lru_cache(maxsize=4096)
def graph_key(key: str) -> str:
    """``on_premises_immutable_id`` -> ``onPremisesImmutableId``; OData annotations
    (``members@odata.bind``, ``@odata.type``), extension attributes and keys that are
    already camelCase are kept as they are."""
    if "_" not in key or "@" in key or "." in key or key.startswith("_"):
        return key
    if _DIRECTORY_EXTENSION_RE.match(key):
        return key
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def to_graph_json(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The Graph JSON body for a merged payload. None values are dropped, as authentik does
    (an unset property, not an instruction to clear it)."""
    return {graph_key(k): _value(v) for k, v in payload.items() if v is not None}


def _value(value: Any) -> Any:
    if isinstance(value, Parsable):
        return _serialize_model(value)
    if isinstance(value, Mapping):
        return to_graph_json(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_value(v) for v in value]
    return _scalar(value)


def _serialize_model(model: Parsable) -> Any:
    writer = JsonSerializationWriter()
    writer.write_object_value(None, model)
    return json.loads(writer.get_serialized_content())


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")  # Graph's Edm.Binary encoding
    raise TypeError(f"cannot convert {type(value).__name__} to Graph JSON: {value!r}")


def canonical_json(graph_json: Mapping[str, Any]) -> str:
    """Key order independent, whitespace free, so equal payloads give equal strings."""
    return json.dumps(graph_json, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_hash(graph_json: Mapping[str, Any]) -> str:
    """sha256 (hex) of the canonical JSON without WRITE_ONCE_FIELDS: the sync engine
    compares it with the link's last pushed hash to skip PATCHes that change nothing."""
    material = {k: v for k, v in graph_json.items() if k not in WRITE_ONCE_FIELDS}
    return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()


def without_write_once(graph_json: Mapping[str, Any]) -> dict[str, Any]:
    """The body for a PATCH of an existing object: write-once fields left out."""
    return {k: v for k, v in graph_json.items() if k not in WRITE_ONCE_FIELDS}
