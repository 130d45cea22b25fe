"""Pessimistic disconnect handling that pings only connections that sat idle in the pool.

SQLAlchemy's `pool_pre_ping` costs a database round trip on every checkout, i.e. on every
request: a tenth of a POST /Users. A connection checked in moments ago was working moments
ago, so the ping is kept for connections idle longer than PING_AFTER_IDLE — those a server
restart, an idle timeout or a network drop may have closed. It is the "pessimistic" recipe of
the SQLAlchemy docs ("Dealing with Disconnects": a checkout event raising
DisconnectionError), with pre-ping's own reaction: a dead connection invalidates the pool, and
the checkout retries on a new connection.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.exc import InvalidatePoolError

PING_AFTER_IDLE = 1.0  # seconds
_RETURNED_AT = "scim2entra_returned_at"


def install(engine: Engine) -> None:
    dialect = engine.dialect

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_RETURNED_AT, float("-inf")) < PING_AFTER_IDLE:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise InvalidatePoolError() from exc
            raise

    def returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_RETURNED_AT] = time.monotonic()

    event.listen(engine, "checkout", ping_if_idle)
    # A connection just opened is as good as one just returned (pre-ping skips those too).
    event.listen(engine, "connect", lambda _conn, record: returned(_conn, record))
    event.listen(engine, "checkin", returned)
