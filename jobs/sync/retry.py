"""Retries of transient failures: delayed RQ jobs, backoff honouring Retry-After, bounded."""

from __future__ import annotations

import random
from datetime import timedelta

from redis.exceptions import RedisError
from rq.exceptions import DuplicateJobError

from jobs.queue import SYNC_JOB, handle, retry_job_id

MAX_ATTEMPTS = 8
MAX_DELAY = 300.0


def backoff(attempts: int, retry_after: float | None) -> float:
    """Retry-After when Graph sent one (integer or fraction), else exponential with jitter
    (https://learn.microsoft.com/en-us/graph/throttling: honour Retry-After; back off
    exponentially when it is absent)."""
    if retry_after is not None and retry_after >= 0:
        return min(float(retry_after), MAX_DELAY)
    return min(2.0 ** attempts, MAX_DELAY) * random.uniform(0.8, 1.2)


def schedule_retry(kind: str, object_id: str, entra_id: str | None, *, attempts: int = 0,
                   retry_after: float | None = None, delay: float | None = None
                   ) -> float | None:
    """Schedule the object's sync again; None when it has had its attempts."""
    if attempts + 1 >= MAX_ATTEMPTS:
        return None
    wait = delay if delay is not None else backoff(attempts, retry_after)
    try:
        handle().queue.enqueue_in(
            timedelta(seconds=wait), SYNC_JOB, kind, object_id, entra_id,
            job_id=retry_job_id(kind, object_id), unique=True, result_ttl=0)
    except DuplicateJobError:
        pass  # a retry is already scheduled: it will read the state as it is then
    except (RedisError, OSError):
        pass  # the outbox rows stay open; the sweeper brings the object back
    return wait
