"""JSON text out of the hot paths: orjson where it can, the standard library where it cannot.

A POST /Users writes its document as JSON three times (the stored data, the search-index
rows, the response): 56 us with `json`, 5 us with orjson. orjson refuses integers past
64 bits, which a client may send in an extension this server stores as it came (RFC 7643
§3.3); those documents take `json`, whose output means the same.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps_bytes(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON, non-ASCII characters as they are (a response body)."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False).encode()


def dumps(value: Any) -> str:
    """`dumps_bytes` as text, for a JSON parameter of a statement."""
    return dumps_bytes(value).decode()
