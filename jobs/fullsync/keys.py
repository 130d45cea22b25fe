"""Redis key names of the full sync, all under the queue's name.

Every process of one deployment shares a queue name (SCIM2ENTRA_QUEUE_NAME), so the lock and
a run's data are shared across workers and machines; two deployments (or test runs) on one
Redis server never see each other's keys.
"""

from __future__ import annotations

from flask import current_app


def prefix() -> str:
    return f"scim2entra:{current_app.config['SCIM2ENTRA']['QUEUE_NAME']}:fullsync"


def lock() -> str:
    return f"{prefix()}:lock"


def mirror() -> str:
    """Prefix of the Entra objects kept between runs (jobs/graph/delta_mirror.py)."""
    return f"{prefix()}:mirror"


def run(run_id: str, *parts: str) -> str:
    """A key of one run's data (discovery indexes, chunk lists, counters)."""
    return ":".join((prefix(), "run", run_id, *parts))


def job_id(run_id: str, phase: str, n: int | str) -> str:
    """RQ job ids allow letters, digits, `_` and `-` only."""
    return f"full-sync-{run_id}-{phase.replace('_', '-')}-{n}"
