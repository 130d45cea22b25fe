"""HTTP plumbing of the SCIM blueprint: JSON in, SCIM JSON out, errors as SCIM bodies."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from scim.errors import InvalidSyntax, PayloadTooLarge, ScimError
from scim.json_text import dumps_bytes

log = logging.getLogger(__name__)
SCIM_JSON = "application/scim+json"


def scim_response(body: Any, status: int = 200, headers: dict[str, str] | None = None
                  ) -> Response:
    # RFC 7644 §3.1: responses are application/scim+json.
    return Response(dumps_bytes(body), status=status,
                    headers=headers or {}, content_type=SCIM_JSON)


def error_response(error: ScimError) -> Response:
    headers = {}
    if error.status == 401:
        # RFC 6750 §3: say how to authenticate.
        headers["WWW-Authenticate"] = 'Bearer realm="scim2entra"'
    return scim_response(error.to_body(), error.status, headers)


def json_body(limit: int | None = None) -> dict[str, Any]:
    """The request body as a JSON object; 413 past `limit` bytes, 400 when not JSON."""
    limit = limit or int(current_app.config["SCIM2ENTRA"]["MAX_BODY_BYTES"])
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    raw = request.get_data(cache=True)
    if len(raw) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    try:
        body = json.loads(raw, parse_float=_finite, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidSyntax(f"request body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise InvalidSyntax("request body must be a JSON object")
    return body


def _finite(text: str) -> float:
    """A JSON number as a float; one past the double range (1e999) is refused like NaN: it
    could not be stored as JSON again (PostgreSQL's json type rejects Infinity)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _not_json(name: str) -> Any:
    # Python's json accepts NaN, Infinity and -Infinity; RFC 8259 §6 has no such values.
    raise ValueError(f"{name} is not a JSON value (RFC 8259 §6)")


def install_error_handlers(bp: Blueprint) -> None:
    @bp.errorhandler(ScimError)
    def _scim_error(error: ScimError) -> Response:
        return error_response(error)

    @bp.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        status = error.code or 500
        if status == 413:
            return error_response(PayloadTooLarge("request body is too large"))
        body = ScimError(error.description or error.name)
        body.status = status
        return error_response(body)

    @bp.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:  # pragma: no cover - a bug if reached
        log.exception("unexpected error in a SCIM request")
        body = ScimError("internal error; the request changed nothing")
        body.status = 500
        return error_response(body)
