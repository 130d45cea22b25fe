"""Structured logs: one JSON object per line, request ids, secrets redacted.

Stdlib logging with a small formatter rather than a library: the format is a dozen lines and
the redaction must see the final text of every record, whatever logger produced it (ours,
RQ's, gunicorn's, the SDK's). One line per SCIM request is written here (`scim_request`),
one per sync attempt by jobs/sync/record.py (`sync_attempt`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, g, has_request_context, request

from webapp import metrics

log = logging.getLogger("scim2entra.requests")
REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
REDACTED = "[redacted]"

# Whatever the logger, these never reach the output: bearer tokens and our token format,
# Authorization headers, password/secret fields in JSON or form bodies, URL credentials.
# Each pattern comes with the words it cannot match without (in lower case): a line holding
# none of them skips the pattern, so a request's log line costs one regex pass, not five.
_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str], str], ...] = (
    (("bearer", "basic"),
     re.compile(r"(?i)(bearer|basic)(\s+|\\u0020)[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (("s2e_",), re.compile(r"s2e_[A-Za-z0-9_-]+"), REDACTED),
    (("authorization",),
     re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)[^'\",}\s]+"), r"\1" + REDACTED),
    # The keys: password, passwd, secret, client_secret, (access_|refresh_)token and
    # client_assertion; a prefix such as "access_" is kept as it is, so it need not be in
    # the pattern. No optional quote before the key, for the same reason. The lookahead lets
    # the scan skip positions that cannot start a key: the pattern costs a third as much.
    (("passw", "secret", "token", "assertion"),
     re.compile(r"(?i)(?=[pstc])((?:passw(?:or)?d|secret|token|client_assertion)"
                r"(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)[^\"'\\,&}\s]+"), r"\1" + REDACTED),
    (("://",), re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^/:@\s]+:)[^@/\s]+@"),
     r"\1" + REDACTED + "@"),
)
_KNOWN_SECRETS: set[str] = set()
SECRET_SETTINGS = ("CLIENT_SECRET", "SECRET_KEY", "ADMIN_PASSWORD")


def remember_secrets(settings: dict[str, Any]) -> None:
    """Configured secret values are redacted verbatim, wherever they would appear."""
    for key in SECRET_SETTINGS:
        value = settings.get(key)
        if value and len(str(value)) >= 6:
            _KNOWN_SECRETS.add(str(value))


def redact(text: str) -> str:
    for secret in _KNOWN_SECRETS:
        if secret in text:
            text = text.replace(secret, REDACTED)
    lowered = text.casefold()
    for words, pattern, replacement in _PATTERNS:
        if any(word in lowered for word in words):
            text = pattern.sub(replacement, text)
    return text


_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "msg", …extra fields…, "exc"} on one line, then redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            entry["request_id"] = g.request_id  # any line logged while serving a request
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str, ensure_ascii=False))


HANDLER_NAME = "scim2entra-json"


def configure_logging(level: str | int = "INFO", stream: Any = None) -> logging.Handler:
    """JSON lines on stderr for the whole process (idempotent: one handler of ours)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler


# --- one line per SCIM request --------------------------------------------------------------

def _request_id() -> str:
    presented = request.headers.get(REQUEST_ID_HEADER, "")
    return presented if _REQUEST_ID_OK.match(presented) else uuid.uuid4().hex


def _before() -> None:
    g.request_id = _request_id()
    g.request_started = time.perf_counter()


def _after(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    if request.path.startswith("/scim/v2"):
        seconds = time.perf_counter() - g.get("request_started", time.perf_counter())
        metrics.observe_scim(request.method, response.status_code, seconds)
        log.info("%s %s %s", request.method, request.path, response.status_code, extra={
            "event": "scim_request", "request_id": request_id, "method": request.method,
            "path": request.path, "status": response.status_code,
            "object_id": (request.view_args or {}).get("resource_id"),
            "token_name": g.get("scim_token"), "duration_ms": round(seconds * 1000, 2),
        })
    return response


def init_app(app: Flask) -> None:
    settings = app.config["SCIM2ENTRA"]
    remember_secrets(settings)
    if not app.testing:  # tests capture logs their own way (and pytest owns stderr)
        configure_logging(str(settings.get("LOG_LEVEL") or "INFO").upper())
    app.before_request(_before)
    app.after_request(_after)
