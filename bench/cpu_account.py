"""Host CPU per request, by process group, read from /proc (Linux) around one load run.

The ingress bench is CPU-bound on a small host, so requests/s alone cannot say where a
POST's cost lies: in the app's workers, in PostgreSQL, in Redis or in the load generator.
This splits the CPU seconds a run used among those groups.
"""

from __future__ import annotations

import os
import resource
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
GROUPS = ("app", "postgres", "redis", "wrk", "other")


def _stat(pid: str) -> tuple[str, int, float] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    return comm, int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS  # ppid, utime+stime


def snapshot(app_pid: int) -> dict[str, float]:
    """CPU seconds so far of each group; `app_pid` is the gunicorn master of the app."""
    stats = {pid: s for pid in os.listdir("/proc") if pid.isdigit() and (s := _stat(pid))}
    totals = dict.fromkeys(GROUPS, 0.0)
    for pid, (comm, ppid, seconds) in stats.items():
        if int(pid) == app_pid or ppid == app_pid:
            group = "app"
        elif comm.startswith("postgres"):
            group = "postgres"
        elif comm.startswith("redis"):
            group = "redis"
        else:
            group = "other"
        totals[group] += seconds
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    totals["wrk"] = children.ru_utime + children.ru_stime  # wrk has exited by the second read
    return totals


def per_request(before: dict[str, float], after: dict[str, float], requests: int
                ) -> dict[str, float]:
    """Milliseconds of CPU per request, by group."""
    return {g: (after[g] - before[g]) * 1000 / max(requests, 1) for g in GROUPS}
