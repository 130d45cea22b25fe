"""EntraEmulator: both servers wired together, started in background threads, plus the Python
API tests and benchmarks use (state, audit, knobs, faults)."""

from __future__ import annotations

import os
import shutil
import uuid
from typing import Any

from . import admin
from .apps import App, AppRegistry
from .audit import AuditLog
from .certs import write_tls_material
from .core import Core
from .graph import GraphApp
from .httpserver import ServerThread
from .identity import IdentityApp
from .knobs import FaultRule, Knobs
from .state import Clock, Directory
from .tokens import GRAPH_RESOURCE, TokenService

DEFAULT_TENANT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "scim2entra-emulator/tenant"))
DEFAULT_CLIENT_ID = str(uuid.uuid5(uuid.NAMESPACE_URL, "scim2entra-emulator/client"))
DEFAULT_CLIENT_SECRET = "Emu8Q~scim2entra-emulator-client-secret-0001"


class EntraEmulator:
    """A stateful Microsoft Entra ID + Graph v1.0 emulator on two local ports."""

    def __init__(
        self, tenant_id: str = DEFAULT_TENANT_ID, tenant_name: str = "scim2entratest",
        client_id: str = DEFAULT_CLIENT_ID, client_secret: str = DEFAULT_CLIENT_SECRET,
        verified_domains: tuple[str, ...] = ("example.com",),
        unverified_domains: tuple[str, ...] = ("unverified.example.net",),
        host: str = "127.0.0.1", graph_port: int = 0, authority_port: int = 0,
        tls_dir: str | None = None,
    ) -> None:
        clock = Clock()
        state = Directory(tenant_id.lower(), tenant_name, list(verified_domains),
                          list(unverified_domains), clock)
        self.core = Core(state, AppRegistry(client_id, client_secret),
                         TokenService(tenant_id.lower(), clock))
        self.tls = write_tls_material(tls_dir)
        self._own_tls_dir = tls_dir is None
        self._graph = ServerThread(GraphApp(self.core), host, graph_port)
        self._identity = ServerThread(IdentityApp(self.core), host, authority_port,
                                      self.tls.ssl_context())
        self.core.graph_base = f"http://{host}:{self._graph.port}"
        self.core.authority_base = f"https://{host}:{self._identity.port}"
        self.core.tokens.authority = self.core.authority_base

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> EntraEmulator:
        self._graph.start()
        self._identity.start()
        return self

    def stop(self) -> None:
        self.core.knobs.faults.clear()  # releases hanging requests
        self._graph.stop()
        self._identity.stop()
        if self._own_tls_dir:
            shutil.rmtree(self.tls.directory, ignore_errors=True)

    def __enter__(self) -> EntraEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Back to the seeded tenant: no users or groups, default app and knobs, empty audit."""
        admin.reset(self.core)

    # -- where things are ----------------------------------------------------------------
    @property
    def graph_url(self) -> str:
        return f"{self.core.graph_base}/v1.0"

    @property
    def admin_url(self) -> str:
        return f"{self.core.graph_base}/_emulator"

    @property
    def authority_url(self) -> str:
        return self.core.authority_base

    @property
    def ca_bundle(self) -> str:
        return self.tls.ca_bundle

    @property
    def tenant_id(self) -> str:
        return self.core.tenant_id

    @property
    def client_id(self) -> str:
        return self.core.apps.default_client_id

    @property
    def client_secret(self) -> str:
        return self.core.apps.default_secret

    @property
    def default_domain(self) -> str:
        return self.core.state.default_domain

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority_url}/{self.tenant_id}/oauth2/v2.0/token"

    @property
    def issuer_v1(self) -> str:
        return self.core.tokens.issuer_v1

    @property
    def issuer_v2(self) -> str:
        return self.core.tokens.issuer_v2

    def env(self) -> dict[str, str]:
        """The SCIM2ENTRA_* variables that point scim2entra at this emulator."""
        return {
            "SCIM2ENTRA_GRAPH_URL": self.graph_url,
            "SCIM2ENTRA_AUTHORITY_URL": self.authority_url,
            "SCIM2ENTRA_CA_BUNDLE": self.ca_bundle,
            "SCIM2ENTRA_TENANT_ID": self.tenant_id,
            "SCIM2ENTRA_CLIENT_ID": self.client_id,
            "SCIM2ENTRA_CLIENT_SECRET": self.client_secret,
        }

    # -- state, audit, apps --------------------------------------------------------------
    @property
    def state(self) -> Directory:
        return self.core.state

    @property
    def audit(self) -> AuditLog:
        return self.core.audit

    @property
    def apps(self) -> AppRegistry:
        return self.core.apps

    @property
    def knobs(self) -> Knobs:
        return self.core.knobs

    def grant(self, permissions: list[str], client_id: str | None = None) -> None:
        """Replace an app's granted application permissions (tokens issued later carry them)."""
        self.apps.apps[client_id or self.client_id].roles = list(permissions)

    def register_app(self, **kwargs: Any) -> App:
        return self.apps.register(**kwargs)

    def add_certificate(self, client_id: str | None = None) -> str:
        """Register a new client certificate on the app; returns a PEM file (key + cert)."""
        pem, _ = self.apps.add_certificate(client_id)
        path = os.path.join(self.tls.directory, f"client-{uuid.uuid4().hex[:8]}.pem")
        with open(path, "wb") as fh:
            fh.write(pem)
        return path

    def sign_in_as(self, user: str | None, roles: list[str] | None = None) -> None:
        """The user (id or UPN) the authorize endpoint signs in without a form."""
        self.apps.signed_in_user = user
        if user and roles is not None:
            found = self.state.find_user(user)
            if found:
                self.apps.user_roles[found["id"]] = list(roles)

    def graph_token(self, client_id: str | None = None) -> str:
        """A Graph access token minted directly (for raw HTTP clients in benchmarks)."""
        app = self.apps.apps[client_id or self.client_id]
        return self.core.tokens.app_token(app, GRAPH_RESOURCE, 1, False)

    # -- knobs ---------------------------------------------------------------------------
    def set_knobs(self, **values: Any) -> None:
        admin.apply_knobs(self.core, values)

    def set_latency(self, ms: float, jitter_ms: float = 0.0) -> None:
        self.set_knobs(latency_ms=ms, latency_jitter_ms=jitter_ms)

    def set_write_quota(self, **values: Any) -> None:
        """enabled, scale, retry_after_mode ("int"|"fraction"|"absent"), app_capacity,
        app_period_s, tenant_capacity, tenant_period_s, min_retry_after."""
        self.knobs.write_quota.configure(**values)

    def set_replication_delay(self, ms: float, hide_from_lists: bool = False) -> None:
        self.set_knobs(replication_delay_ms=ms, replication_hides_lists=hide_from_lists)

    def add_fault(self, kind: str = "status", **values: Any) -> FaultRule:
        """kind: status | reset | hang | apply_then_fail; status=, method=, path_re=,
        rate= (probability) or count= (next N matches, default 1), retry_after=,
        hang_seconds=, server= ("graph" | "identity")."""
        return self.knobs.faults.add(kind, **values)

    def clear_faults(self) -> None:
        self.knobs.faults.clear()

    def advance_clock(self, seconds: float) -> None:
        """Move emulator time forward: tokens expire, delta tokens age."""
        self.state.clock.offset += seconds

    def expire_delta_tokens(self) -> None:
        self.state.expire_delta_tokens()
