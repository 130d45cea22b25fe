"""One printable outcome per object, for ``scim2entra mapping test`` and the dashboard."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from mappings.context import ConnectionLike, ProviderContext
from mappings.engine import MappingEngine
from mappings.errors import MappingConfigError, ObjectError, SkipObject

_MASK = "********"


def preview(
    engine: MappingEngine,
    kind: str,
    resource: Mapping[str, Any],
    *,
    password: str | None = None,
    connection: ConnectionLike | None = None,
    provider: ProviderContext | None = None,
) -> dict[str, Any]:
    """``{"status": "ok", "payload": …, "hash": …}`` or skipped / error / config_error.

    Passwords are masked: the preview is shown to people, and a generated password is
    different on every call anyway.
    """
    try:
        result = engine.evaluate(
            kind, resource, password=password, connection=connection, provider=provider
        )
    except SkipObject as exc:
        return {"status": "skipped", "reason": exc.reason, "mapping": exc.mapping}
    except ObjectError as exc:
        return {"status": "error", "message": exc.message, "mapping": exc.mapping}
    except MappingConfigError as exc:
        return {
            "status": "config_error",
            "mapping": exc.mapping,
            "line": exc.line,
            "message": exc.message,
        }
    body = copy.deepcopy(result.graph_json)
    profile = body.get("passwordProfile")
    if isinstance(profile, dict) and profile.get("password"):
        profile["password"] = _MASK
    return {"status": "ok", "payload": body, "hash": result.digest}
