"""Independent writes in bulk: JSON ``$batch`` of at most 20, items paced and retried one by one.

https://learn.microsoft.com/en-us/graph/json-batching: "Individual requests are evaluated
against applicable throttling limits": every item counts as one write, so ``boundary.batch``
reserves ``len(chunk)`` writes from the pacer before sending, and a 429 item is answered
inside a 200 batch with its own Retry-After (throttling: "the batch itself succeeds").
Items answered 429 or 5xx (``Transient``, replay-safe ones only: a 503 on a POST create is
``AmbiguousWrite`` and goes back to the caller) are sent again in a later batch after the
longest Retry-After among them, within the boundary's ``RetryPolicy``; every other answer is
final and carries its error class from the one table (``errors.RULES``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from jobs.graph.batch import MAX_BATCH, BatchRequest, BatchResponse
from jobs.graph.boundary import GraphBoundary
from jobs.graph.errors import Throttled, Transient


def run_batched(boundary: GraphBoundary, requests: Sequence[BatchRequest]
                ) -> list[BatchResponse]:
    """Send ``requests`` in batches of 20; one answer per request, in request order.
    Request ids are ours ("0", "1", ... the position), so callers leave ``id`` unset."""
    pending = [BatchRequest(r.method, r.url, r.body, r.headers, str(i))
               for i, r in enumerate(requests)]
    answers: dict[str, BatchResponse] = {}
    attempt, waited = 0, 0.0
    while pending:
        retry: list[BatchRequest] = []
        delays: list[float] = []
        for start in range(0, len(pending), MAX_BATCH):
            chunk = pending[start:start + MAX_BATCH]
            for request, answer in zip(chunk, boundary.batch(chunk), strict=True):
                answers[request.id or ""] = answer
                delay = _retry_delay(boundary, answer, attempt, waited)
                if delay is not None:
                    retry.append(request)
                    delays.append(delay)
        if not retry:
            break
        wait = max(delays)
        time.sleep(wait)  # the pacer is on hold too (below): other workers wait with us
        pending, attempt, waited = retry, attempt + 1, waited + wait
    return [answers[str(i)] for i in range(len(requests))]


def _retry_delay(boundary: GraphBoundary, answer: BatchResponse, attempt: int,
                 waited: float) -> float | None:
    """Seconds before sending this item again; None when its answer is final."""
    error = answer.error
    if not isinstance(error, Transient):
        return None
    if isinstance(error, Throttled) and error.retry_after:
        boundary.pacer.hold(error.retry_after)
    return boundary.policy.delay(error, attempt, waited)


# -- helpers for the clients (users and groups share them) --------------------------------

def create_many(boundary: GraphBoundary, collection: str,
                payloads: Sequence[Mapping[str, Any]]) -> list[BatchResponse]:
    """POST each payload to ``collection``; created ids are noted as fresh (404 = lag)."""
    answers = run_batched(boundary, [BatchRequest("POST", collection, dict(p))
                                     for p in payloads])
    for answer in answers:
        if answer.ok and isinstance(answer.body, dict) and answer.body.get("id"):
            boundary.note_created(str(answer.body["id"]))
    return answers


def update_many(boundary: GraphBoundary, collection: str,
                bodies: Mapping[str, Mapping[str, Any]]) -> dict[str, BatchResponse]:
    """PATCH ``collection/{id}`` with each body; the answers by Entra id."""
    ids = list(bodies)
    answers = run_batched(boundary, [BatchRequest("PATCH", f"{collection}/{i}", dict(bodies[i]))
                                     for i in ids])
    return dict(zip(ids, answers, strict=True))


def delete_many(boundary: GraphBoundary, collection: str,
                entra_ids: Sequence[str]) -> dict[str, BatchResponse]:
    """DELETE ``collection/{id}`` each; a 404 answer means already gone (callers: done)."""
    answers = run_batched(boundary, [BatchRequest("DELETE", f"{collection}/{i}")
                                     for i in entra_ids])
    return dict(zip(entra_ids, answers, strict=True))
