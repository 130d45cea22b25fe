"""Our own retry policy (the SDK's RetryHandler is off, see sdk.py).

Throttling guidance: wait the ``Retry-After`` seconds when given (integer or fraction),
else back off exponentially (https://learn.microsoft.com/en-us/graph/throttling,
"Best practices to handle throttling"). Bounded in attempts and in total waiting, so a job
gives its worker back and the queue retries it later with the error's ``retry_after``.
Only ``Transient`` errors are retried; for a POST create the table turns an answerless
failure into ``AmbiguousWrite`` instead, so creates are never blindly replayed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from jobs.graph.errors import GraphSyncError, Throttled, Transient


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # first try included
    max_wait: float = 60.0  # total seconds of waiting per request
    base: float = 0.5  # first backoff step, seconds
    cap: float = 30.0  # longest single backoff, seconds
    jitter: float = 0.1  # up to this share added on top of any wait

    def delay(self, error: GraphSyncError, attempt: int, waited: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``; None to give up and raise."""
        if not isinstance(error, Transient) or attempt + 1 >= self.max_attempts:
            return None
        if isinstance(error, Throttled) and error.retry_after is not None:
            # never sooner than the server asked; the jitter only ever adds
            wait = error.retry_after * (1 + random.random() * self.jitter)
        else:
            step = min(self.cap, self.base * 2 ** attempt)
            wait = step * (0.5 + random.random() * 0.5)  # "equal jitter"
        if waited + wait > self.max_wait:
            return None
        return wait
