"""scim2-tester (the python-scim project's conformance checker) against the live app.

The app serves over a real socket in a thread; the checker speaks HTTP through httpx.
Issue 2 asks for 0 failed and 0 skipped checks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server
from werkzeug.serving import make_server

FAILED = {Status.ERROR, Status.CRITICAL}


@pytest.fixture
def live_url(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_scim2_tester_reports_no_failure_and_no_skip(live_url: str, token: str) -> None:
    http = httpx2.Client(base_url=f"{live_url}/scim/v2",
                        headers={"Authorization": f"Bearer {token}"}, timeout=30)
    client = SyncSCIMClient(http)
    results = check_server(client, raise_exceptions=False)
    failed = [f"{r.title}: {r.reason}" for r in results if r.status in FAILED]
    skipped = [f"{r.title}: {r.reason}" for r in results if r.status == Status.SKIPPED]
    assert results, "the checker ran no check"
    assert failed == []
    assert skipped == []
