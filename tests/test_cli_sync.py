"""`scim2entra sync status` and `scim2entra mapping test` against the emulator."""

from __future__ import annotations

import json
from typing import Any

from tests.test_sync_users import create


def invoke(sync: Any, *args: str) -> Any:
    return sync.app.test_cli_runner().invoke(args=list(args))


def test_sync_status_text_and_json(sync: Any) -> None:
    create(sync, "a@example.com")
    create(sync, "robot@example.com", userType="service")
    create(sync, "bad@unverified.example.net")
    before = json.loads(invoke(sync, "sync", "status", "--json").output)
    assert before["users"] == {"synced": 0, "pending": 3, "error": 0, "skipped": 0}
    sync.drain()
    after = json.loads(invoke(sync, "sync", "status", "--json").output)
    assert after["users"] == {"synced": 1, "pending": 0, "error": 1, "skipped": 1}
    assert after["paused"] is None
    text = invoke(sync, "sync", "status").output
    assert "users" in text and "synced" in text


def test_mapping_test_prints_payload_skip_and_error(sync: Any) -> None:
    ok = create(sync, "a@example.com", password="Secret-Passw0rd!")
    result = invoke(sync, "mapping", "test", "user", ok)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["status"] == "ok"
    assert body["payload"]["userPrincipalName"] == "a@example.com"
    assert "Secret-Passw0rd!" not in result.output  # passwords are masked
    missing = invoke(sync, "mapping", "test", "user", "no-such-id")
    assert missing.exit_code != 0 and "no user with id" in missing.output
