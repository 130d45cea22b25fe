"""What a worker process keeps between jobs: Graph clients, compiled mappings, tenant facts.

Built once per process (one Graph client, token cache and event loop: ARCHITECTURE.md) and
checked cheaply at each job: mapping files that changed on disk are compiled again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from redis.exceptions import RedisError

from jobs.graph import (
    AuthFailed,
    BadRequest,
    GraphSettings,
    GroupsClient,
    UsersClient,
    shared_boundary,
)
from jobs.graph.boundary import GraphBoundary
from jobs.graph.pacing import Pacer, TokenBucketPacer
from jobs.graph.redis_pacer import RedisTokenBucket, bucket_key
from jobs.queue import handle as queue_handle
from mappings import MappingEngine, ProviderContext

EXTENSION = "scim2entra.sync"
DOMAINS_TTL = 600.0  # seconds: verified domains change rarely; re-read every ten minutes


def mappings_fingerprint(directory: str | None) -> str:
    """Changes whenever a mapping file is added, removed or edited."""
    if not directory:
        return "defaults"
    digest = hashlib.sha256()
    root = Path(directory)
    for path in sorted(root.rglob("*.py")) if root.is_dir() else []:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_mtime_ns}:{stat.st_size}".encode())
    return digest.hexdigest()


@dataclass
class SyncContext:
    settings: dict[str, Any]
    graph: GraphBoundary
    users: UsersClient
    groups: GroupsClient
    mappings: MappingEngine | None = None
    fingerprint: str = ""
    _domains: frozenset[str] = frozenset()
    _domains_at: float = field(default=-1e9)

    @property
    def dry_run(self) -> bool:
        return self.graph.settings.dry_run

    def load_mappings(self) -> MappingEngine:
        """The compiled mappings, compiled again when their files changed.

        Raises MappingConfigError (a syntax error, a missing folder) like evaluation does.
        """
        directory = self.settings.get("MAPPINGS_DIR")
        current = mappings_fingerprint(directory)
        if self.mappings is None or current != self.fingerprint:
            self.mappings = MappingEngine.load(directory or None)
            self.fingerprint = current
        return self.mappings

    def provider(self) -> ProviderContext:
        return ProviderContext(tenant_id=self.settings.get("TENANT_ID"),
                               verified_domains=self.verified_domains(),
                               settings=self.settings)

    def verified_domains(self) -> frozenset[str]:
        """The tenant's verified domains (GET /domains), cached; empty when offline."""
        if self.graph.offline:
            return frozenset()
        if time.monotonic() - self._domains_at > DOMAINS_TTL:
            self._domains = self._read_domains()
            self._domains_at = time.monotonic()
        return self._domains

    def _read_domains(self) -> frozenset[str]:
        """From the copy every worker shares in Redis, else from Graph (then shared): one
        read per ten minutes for the whole deployment, not one per worker process."""
        key = domains_key(str(self.settings.get("QUEUE_NAME")))
        redis = queue_handle().redis
        try:
            shared = redis.get(key)
        except (RedisError, OSError):
            shared = None
        if shared is not None:
            return frozenset(json.loads(shared))
        domains = self._domains_from_graph()
        with contextlib.suppress(RedisError, OSError):
            redis.set(key, json.dumps(sorted(domains)), ex=int(DOMAINS_TTL))
        return domains

    def _domains_from_graph(self) -> frozenset[str]:
        # GET /domains needs Domain.Read.All, which seed 002's permission list lacks: without
        # it there is no pre-check, and Graph's own 400 on the create says what is wrong.
        try:
            answer = self.graph.get_json("/domains", {"$select": "id,isVerified"})
        except (AuthFailed, BadRequest):
            return frozenset()
        return frozenset(str(d["id"]).lower() for d in answer.get("value", [])
                         if d.get("isVerified"))


def domains_key(queue_name: str) -> str:
    return f"scim2entra:{queue_name}:verified-domains"


def graph_settings(app: Flask) -> GraphSettings:
    return GraphSettings.from_config({**app.config["SCIM2ENTRA"],
                                      "DRY_RUN": app.config["DRY_RUN"]})


def sync_context(app: Flask) -> SyncContext:
    """The process's context for `app` (rebuilt after a fork: the boundary handles that)."""
    found: SyncContext | None = app.extensions.get(EXTENSION)
    if found is not None and found.graph is not None and _same_process(found):
        return found
    settings = graph_settings(app)
    graph = shared_boundary(settings, pacer=write_pacer(app, settings))
    context = SyncContext(settings=dict(app.config["SCIM2ENTRA"]), graph=graph,
                          users=UsersClient(graph), groups=GroupsClient(graph))
    context.settings["_pid"] = os.getpid()
    app.extensions[EXTENSION] = context
    return context


def write_pacer(app: Flask, settings: GraphSettings) -> Pacer:
    """The Redis bucket every worker of this deployment shares; in-process for the embedded
    queue (one process; fakeredis has no Lua)."""
    handle = queue_handle(app)
    rate = settings.writes_per_second
    if handle.embedded:
        return TokenBucketPacer(rate)
    key = bucket_key(settings.tenant_id, settings.client_id, app.config["SCIM2ENTRA"]
                     .get("QUEUE_NAME") or "")
    return RedisTokenBucket(handle.redis, rate, key=key)


def _same_process(context: SyncContext) -> bool:
    return bool(context.settings.get("_pid") == os.getpid())
