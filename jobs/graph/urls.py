"""Graph request URLs: base URL + path + OData query options.

Query options keep their ``$`` names; values are percent-encoded except for the characters
OData literals use (https://learn.microsoft.com/en-us/graph/query-parameters, "Encoding query
parameters"). ``'`` inside $filter string values is doubled by the caller (directory.eq).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

SAFE_PATH = "/$'():@,=!~*"
SAFE_QUERY = "$'(),:@/!~*"


def build(base_url: str, path: str, params: dict[str, Any] | None = None) -> str:
    """Absolute URLs (an @odata.nextLink) are kept; a query already in ``path`` is kept."""
    if path.lower().startswith(("http://", "https://")):
        url = path
    else:
        path, sep, query = path.partition("?")
        url = f"{base_url}/{quote(path.lstrip('/'), safe=SAFE_PATH)}{sep}{query}"
    if not params:
        return url
    encoded = "&".join(f"{k}={quote(str(v), safe=SAFE_QUERY)}" for k, v in params.items())
    return f"{url}{'&' if '?' in url else '?'}{encoded}"


def relative(base_url: str, url: str) -> str:
    return url.removeprefix(base_url) or "/"
