"""Chunk phases: the objects of a phase split into chunk jobs that any worker may run.

A phase's chunk lists live in Redis with the set of chunks not yet done; a chunk job removes
its number when it finishes, and the job that empties the set (SREM, then SCARD, then a
SETNX guard, so exactly one) moves the run to the next phase. A chunk run twice (after a
resume) changes nothing the first run did not: every step is idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Flask
from redis import Redis
from sqlalchemy import select

from jobs.fullsync import keys
from jobs.fullsync.discover import RUN_TTL
from webapp.extensions import db
from webapp.models import ScimGroup, ScimUser, SyncState

ITEM_PHASES = ("users", "groups", "members", "cleanup")
CHUNK_JOB = "jobs.tasks.full_sync_chunk"
CHUNK_TIMEOUT = 1800  # seconds: 500 creates at 20 writes/s take 25 s; throttling adds more


def objects_of(phase: str) -> list[tuple[str, str]]:
    """(kind, local id) of every object the phase visits, in a stable order."""
    if phase == "users":
        return [("user", i) for i in db.session.scalars(select(ScimUser.id).order_by(ScimUser.id))]
    if phase in ("groups", "members"):
        return [("group", i) for i in
                db.session.scalars(select(ScimGroup.id).order_by(ScimGroup.id))]
    return [*_orphans("group", ScimGroup), *_orphans("user", ScimUser)]


def _orphans(kind: str, model: Any) -> list[tuple[str, str]]:
    """Links whose local object is gone (deleted locally, the delete job lost)."""
    rows = db.session.scalars(
        select(SyncState.object_id).where(SyncState.kind == kind,
                                          SyncState.object_id.not_in(select(model.id)))
        .order_by(SyncState.object_id))
    return [(kind, str(object_id)) for object_id in rows]


def chunk_size(app: Flask, phase: str) -> int:
    size = max(int(float(app.config["SCIM2ENTRA"].get("FULL_SYNC_CHUNK") or 500)), 1)
    # A group's members step may write many times (20 members per request): chunks of a
    # fiftieth keep every worker busy in this phase (50 groups → 5 chunks at the default).
    return max(size // 50, 1) if phase == "members" else size


def split(items: list[tuple[str, str]], size: int) -> Iterator[list[tuple[str, str]]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def store_chunks(redis: Redis, run_id: str, phase: str,
                 chunks: list[list[tuple[str, str]]]) -> None:
    with redis.pipeline() as pipe:
        for n, chunk in enumerate(chunks):
            pipe.set(keys.run(run_id, "chunk", phase, str(n)), json.dumps(chunk), ex=RUN_TTL)
        pending = keys.run(run_id, "pending", phase)
        pipe.delete(pending)
        if chunks:
            pipe.sadd(pending, *range(len(chunks)))
            pipe.expire(pending, RUN_TTL)
        pipe.execute()


def load_chunk(redis: Redis, run_id: str, phase: str, n: int) -> list[tuple[str, str]] | None:
    raw = redis.get(keys.run(run_id, "chunk", phase, str(n)))
    return [(str(k), str(i)) for k, i in json.loads(raw)] if raw else None  # type: ignore[arg-type]


def pending(redis: Redis, run_id: str, phase: str) -> list[int]:
    return sorted(int(n) for n in redis.smembers(keys.run(run_id, "pending", phase)))  # type: ignore[union-attr]


def complete(redis: Redis, run_id: str, phase: str, n: int) -> tuple[bool, bool]:
    """Mark chunk n done. Returns (first time done, this call must advance the phase)."""
    first = bool(redis.srem(keys.run(run_id, "pending", phase), n))
    return first, first and phase_finished(redis, run_id, phase)


def phase_finished(redis: Redis, run_id: str, phase: str) -> bool:
    """True once, for the one caller that moves the run past an emptied phase."""
    if redis.scard(keys.run(run_id, "pending", phase)):
        return False
    return bool(redis.set(keys.run(run_id, "advanced", phase), 1, nx=True, ex=RUN_TTL))
