"""Helpers shared by the tests/test_graph_*.py modules (no tests here).

Every boundary talks over real HTTP(S) to the emulator (``entra`` fixture) through the
real msgraph-sdk and azure-identity; nothing inside the SDK is patched.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from jobs.graph import GraphBoundary, GraphSettings
from jobs.graph.retry import RetryPolicy
from tests.emulator.server import EntraEmulator

PASSWORD = "Passw0rd!graph-test"
FAST = {"timeout": 5.0, "max_attempts": 4, "max_wait": 15.0, "writes_per_second": 500.0}


def settings_for(entra: EntraEmulator, **overrides: Any) -> GraphSettings:
    config: dict[str, Any] = {k.removeprefix("SCIM2ENTRA_"): v for k, v in entra.env().items()}
    settings = GraphSettings.from_config(config)
    return replace(settings, **{**FAST, **overrides})


def open_boundary(entra: EntraEmulator, **overrides: Any) -> Iterator[GraphBoundary]:
    settings = settings_for(entra, **overrides)
    boundary = GraphBoundary(settings, policy=RetryPolicy(
        settings.max_attempts, settings.max_wait, base=0.2, cap=2.0))
    try:
        yield boundary
    finally:
        entra.clear_faults()  # lets hanging requests go before the loop stops
        boundary.close()


def user_payload(upn: str, **extra: Any) -> dict[str, Any]:
    nick = upn.split("@")[0].replace("'", "")
    return {"accountEnabled": True, "displayName": nick, "mailNickname": nick,
            "userPrincipalName": upn,
            "passwordProfile": {"password": PASSWORD, "forceChangePasswordNextSignIn": False},
            **extra}


def group_payload(name: str, **extra: Any) -> dict[str, Any]:
    nick = "".join(c for c in name if c.isalnum()) or "group"
    return {"displayName": name, "mailNickname": nick, "mailEnabled": False,
            "securityEnabled": True, "groupTypes": [], **extra}


def graph_requests(entra: EntraEmulator, method: str, path_re: str) -> list[Any]:
    return entra.audit.filter(method=method, path_re=path_re, kind=None)


def token_requests(entra: EntraEmulator) -> int:
    return entra.audit.count(kind="identity", path_re=r"/oauth2/v2\.0/token$")


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.monotonic() - self.start
