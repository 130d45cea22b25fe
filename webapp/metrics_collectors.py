"""Metrics read at scrape time: the RQ queue (Redis) and the full sync's progress (the
SyncControl rows jobs/fullsync/progress.py keeps for the dashboard)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from prometheus_client.core import GaugeMetricFamily, Metric


class QueueCollector:
    """Queue depth by state and the RQ workers registered on the queue."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        from rq import Worker

        depth = GaugeMetricFamily("scim2entra_queue_depth", "Jobs in the RQ queue by state",
                                  labels=["queue", "state"])
        workers = GaugeMetricFamily("scim2entra_workers", "RQ workers registered on the queue",
                                    labels=["queue"])
        q, name = self.queue, self.queue.name
        try:
            depth.add_metric([name, "queued"], q.count)
            depth.add_metric([name, "scheduled"], q.scheduled_job_registry.count)
            depth.add_metric([name, "started"], q.started_job_registry.count)
            depth.add_metric([name, "failed"], q.failed_job_registry.count)
            workers.add_metric([name], Worker.count(queue=q))
        except Exception:  # Redis down: /readyz says so; /metrics stays answerable
            return
        yield depth
        yield workers


def _seconds_between(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


class FullSyncCollector:
    """Progress of the running full sync by phase, and the last finished run."""

    def collect(self) -> Iterator[Metric]:
        try:
            from jobs.fullsync import progress

            current, last = progress.current(), progress.last()
        except Exception:  # no full sync module or no table yet: nothing to report
            return
        running = GaugeMetricFamily("scim2entra_full_sync_running",
                                    "1 while a full sync runs")
        running.add_metric([], 1 if current and current.get("state") == "running" else 0)
        yield running
        phases = GaugeMetricFamily("scim2entra_full_sync_progress",
                                   "Objects of the current (or last) full sync, by phase",
                                   labels=["phase", "measure"])
        for phase, counts in ((current or {}).get("phases") or {}).items():
            phases.add_metric([phase, "done"], counts.get("done", 0))
            phases.add_metric([phase, "total"], counts.get("total", 0))
        yield phases
        if last:
            seconds = _seconds_between(last.get("started"), last.get("finished"))
            if seconds is not None:
                duration = GaugeMetricFamily("scim2entra_full_sync_last_duration_seconds",
                                             "Duration of the last finished full sync")
                duration.add_metric([], seconds)
                yield duration
            ok = GaugeMetricFamily("scim2entra_full_sync_last_success",
                                   "1 if the last finished full sync succeeded")
            ok.add_metric([], 1 if last.get("state") == "done" else 0)
            yield ok
