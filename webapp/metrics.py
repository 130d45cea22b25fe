"""Prometheus metrics (prometheus-client) and the /metrics endpoint (CONTRACT.md, "HTTP").

Counters are incremented where things happen: SCIM requests (webapp/logs.py's request hook),
sync attempts (jobs/sync/record.py: finish), Graph requests (jobs/graph/boundary.py), full
Queue depth, live workers and the full sync's progress and duration are read at scrape time
(webapp/metrics_collectors.py), so they are right whichever process answers.

Multi-process mode: with PROMETHEUS_MULTIPROC_DIR set (gunicorn workers, RQ workers and the
scheduler sharing one directory, a volume in docker-compose.yml), each process writes its
values to files there and /metrics sums them (prometheus-client "Multiprocess Mode"). Files
are named by host name + pid, not pid alone: containers sharing the volume each have a pid 1.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

from flask import Blueprint, Response, current_app
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.core import Metric

from webapp.metrics_collectors import FullSyncCollector, QueueCollector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _process_identifier() -> str:
    return f"{socket.gethostname()}_{os.getpid()}"


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower())


if multiprocess_dir():
    # Chosen before the first metric below is built (values.ValueClass is read per metric).
    values.ValueClass = values.MultiProcessValue(process_identifier=_process_identifier)

# Latency buckets in seconds: SCIM answers are milliseconds, Graph calls tens to hundreds.
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

SCIM_REQUESTS = Counter("scim2entra_scim_requests", "SCIM requests answered",
                        ["method", "status"])
SCIM_SECONDS = Histogram("scim2entra_scim_request_seconds", "SCIM request duration",
                         ["method"], buckets=_FAST)
SYNC_OUTCOMES = Counter("scim2entra_sync_attempts", "Sync attempts by object kind and result",
                        ["kind", "result"])
SYNC_SECONDS = Histogram("scim2entra_sync_attempt_seconds", "Duration of one sync attempt",
                         ["kind"], buckets=_FAST)
GRAPH_REQUESTS = Counter("scim2entra_graph_requests", "Graph HTTP requests sent (each try)",
                         ["method", "status"])
GRAPH_THROTTLED = Counter("scim2entra_graph_throttled",
                          "Graph answers 429 Too Many Requests", ["method"])
GRAPH_SECONDS = Histogram("scim2entra_graph_request_seconds", "Graph request duration",
                          ["method"], buckets=_FAST)


def observe_scim(method: str, status: int, seconds: float) -> None:
    SCIM_REQUESTS.labels(method, str(status)).inc()
    SCIM_SECONDS.labels(method).observe(seconds)


def observe_sync(kind: str, result: str, seconds: float) -> None:
    SYNC_OUTCOMES.labels(kind, result).inc()
    SYNC_SECONDS.labels(kind).observe(seconds)


def observe_graph(method: str, status: str, seconds: float) -> None:
    """One Graph try; ``status`` "2xx", an error's HTTP status, or "none" (no answer)."""
    GRAPH_REQUESTS.labels(method, status).inc()
    GRAPH_SECONDS.labels(method).observe(seconds)
    if status == "429":
        GRAPH_THROTTLED.labels(method).inc()


class _Local:
    """This process's default registry, as one collector of a per-scrape registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    from jobs.queue import handle

    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_Local())  # type: ignore[arg-type]
    registry.register(QueueCollector(handle(current_app).queue))  # type: ignore[arg-type]
    registry.register(FullSyncCollector())  # type: ignore[arg-type]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def mark_process_dead(pid: int) -> None:
    """gunicorn's child_exit hook: drop a dead worker's live gauges."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(f"{socket.gethostname()}_{pid}")  # type: ignore[arg-type]
