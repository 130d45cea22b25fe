"""GraphSettings: what the Graph boundary needs from the app configuration.

Built from ``app.config["SCIM2ENTRA"]`` (the SCIM2ENTRA_* variables without the prefix,
CONTRACT.md "Configuration"). A plain frozen value object, so the boundary never imports Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

GRAPH_URL = "https://graph.microsoft.com/v1.0"
AUTHORITY_URL = "https://login.microsoftonline.com"
# Client-credential flows must ask for "<resource>/.default"; the resource stays Microsoft
# Graph even when GRAPH_URL points at an emulator (v2-oauth2-client-creds-grant-flow, "scope").
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE_WORDS


def as_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.split(",") if isinstance(value, str) else list(value)
    return tuple(str(v).strip() for v in items if str(v).strip())


@dataclass(frozen=True)
class GraphSettings:
    graph_url: str = GRAPH_URL
    authority_url: str = AUTHORITY_URL
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    client_certificate: str | None = None  # path to a PEM holding the key and certificate
    ca_bundle: str | None = None
    dry_run: bool = False
    user_match: tuple[str, ...] = ("mail", "userPrincipalName")
    group_match: tuple[str, ...] = ("displayName",)
    timeout: float = 30.0  # seconds, one request (connect + send + answer)
    max_attempts: int = 5  # per idempotent request, first try included
    max_wait: float = 60.0  # seconds of retry waits per request before giving up
    writes_per_second: float = 20.0  # Graph: 3,000 writes / 150 s per app and tenant

    @property
    def has_credentials(self) -> bool:
        return bool(self.tenant_id and self.client_id
                    and (self.client_secret or self.client_certificate))

    @property
    def graph_host(self) -> str:
        return urlparse(self.graph_url).hostname or ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> GraphSettings:
        """From the SCIM2ENTRA config dict; unknown keys are ignored, missing ones default."""
        def get(key: str, default: Any = None) -> Any:
            value = config.get(key)
            return default if value is None or value == "" else value

        creds = bool(get("TENANT_ID") and get("CLIENT_ID")
                     and (get("CLIENT_SECRET") or get("CLIENT_CERTIFICATE")))
        dry_run = get("DRY_RUN")
        return cls(
            graph_url=str(get("GRAPH_URL", GRAPH_URL)).rstrip("/"),
            authority_url=str(get("AUTHORITY_URL", AUTHORITY_URL)).rstrip("/"),
            tenant_id=get("TENANT_ID"),
            client_id=get("CLIENT_ID"),
            client_secret=get("CLIENT_SECRET"),
            client_certificate=get("CLIENT_CERTIFICATE"),
            ca_bundle=get("CA_BUNDLE"),
            dry_run=as_bool(dry_run) if dry_run is not None else not creds,
            user_match=as_tuple(get("USER_MATCH", "mail,userPrincipalName")),
            group_match=as_tuple(get("GROUP_MATCH", "displayName")),
            timeout=float(get("GRAPH_TIMEOUT", 30.0)),
            max_attempts=int(get("GRAPH_MAX_ATTEMPTS", 5)),
            max_wait=float(get("GRAPH_MAX_WAIT", 60.0)),
            writes_per_second=float(get("GRAPH_WRITES_PER_SECOND", 20.0)),
        )
