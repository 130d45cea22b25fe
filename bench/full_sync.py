"""Initial sync at the write quota, a second sync with nothing changed, discovery speed and
worker memory, against the Entra emulator (in this process) with a scaled write quota.

    .venv/bin/python -m bench.full_sync [--part sync|discovery|rss|rss-full|pacing ...]
        [--mode direct|full] [--users 1000 --groups 50 --memberships 5000] [--scale 10]
        [--workers 2] [--typed-users 1000 --raw-users 20000] [--rss-users 100000]

Each part is one run of about a minute on a quiet 2-core machine; the default is sync.

Needs PostgreSQL and Redis on 127.0.0.1 as for the tests; makes (and drops) its own schema
and queue. Goals (issue 6): writes ≤ 1.05 × U + G + ⌈M/20⌉; wall ≤ 1.2 × the quota floor,
0 failed objects; second run 0 writes and reads ≤ ⌈U/999⌉ + ⌈G/999⌉ + G; raw discovery
≥ 20,000 users/s and ≥ 100 × the SDK model path; worker peak RSS ≤ 300 MB at 100k users.
``--mode full`` (default): one ``jobs.tasks.full_sync`` run; ``--mode direct``: the
direct-sync jobs of every object (what the SCIM writes enqueue). Either way ``--workers``
processes drain the queue as `scim2entra worker --burst` does.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, func, select, text

from tests.emulator.server import EntraEmulator

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
REDIS = "redis://127.0.0.1:6379/7"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"


def peak_rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


# -- the scenario ----------------------------------------------------------------------------

def build_scenario(app: Any, users: int, groups: int, memberships: int) -> None:
    """Through the SCIM service (each write enqueues its sync, as in production)."""
    from webapp.tokens import create_token

    with app.app_context():
        token = create_token("bench")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    ids = []
    for i in range(users):
        name = f"bench{i:05}@example.com"
        body = {"schemas": [USER_URN], "userName": name, "active": True,
                "name": {"givenName": "Bench", "familyName": f"User {i}"},
                "emails": [{"value": name, "type": "work", "primary": True}]}
        ids.append(client.post("/scim/v2/Users", json=body, headers=headers).get_json()["id"])
    per_group = memberships // groups
    for g in range(groups):
        members = [{"value": ids[(g * 20 + k) % users]} for k in range(per_group)]
        body = {"schemas": [GROUP_URN], "displayName": f"Bench group {g:03}", "members": members}
        answer = client.post("/scim/v2/Groups", json=body, headers=headers)
        assert answer.status_code == 201, answer.get_data(as_text=True)


def enqueue_everything(app: Any) -> None:
    from jobs.queue import enqueue_sync
    from webapp.extensions import db
    from webapp.models import ScimGroup, ScimUser

    with app.app_context():
        for model, kind in ((ScimUser, "user"), (ScimGroup, "group")):
            for object_id in db.session.scalars(select(model.id)):
                enqueue_sync(kind, object_id, app)


def start_run(app: Any, mode: str) -> None:
    """Full mode: drop the direct-sync jobs the SCIM writes enqueued; start one full sync."""
    if mode != "full":
        return
    from jobs.queue import handle

    queue = handle(app).queue
    queue.empty()
    queue.enqueue("jobs.tasks.full_sync", job_id="full-sync")


def failed_objects(app: Any) -> int:
    from webapp.extensions import db
    from webapp.models import SyncState

    with app.app_context():
        db.session.expire_all()
        return int(db.session.scalar(select(func.count()).select_from(SyncState)
                                     .where(SyncState.status != "synced")) or 0)


@dataclass(frozen=True)
class RunFacts:
    """One timed run of the worker processes."""

    started_at: float  # time.time() when it began: the timeline's zero
    wall: float  # seconds
    rss_mb: list[float]  # peak RSS of each worker
    worker_cpu_s: float  # CPU seconds of all workers together


def _facts(started_at: float, wall: float, outputs: list[str]) -> RunFacts:
    """From each worker's last output line (worker_child)."""
    lines = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    return RunFacts(started_at, wall, [float(f["rss_mb"]) for f in lines],
                    sum(float(f["cpu_s"]) for f in lines))


def run_workers(env: dict[str, str], n: int) -> RunFacts:
    """``n`` worker processes drain the queue."""
    started, started_at = time.monotonic(), time.time()
    procs = [subprocess.Popen(_worker_command(k), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for k in range(n)]
    outputs = [p.communicate()[0] for p in procs]
    return _facts(started_at, time.monotonic() - started, outputs)


def _worker_command(k: int) -> list[str]:
    """A worker child; cProfiled into BENCH_PROFILE_DIR when set (see _spy for CPU only)."""
    folder = os.environ.get("BENCH_PROFILE_DIR")
    command = [sys.executable, "-m", "bench.full_sync", "--worker-child"]
    if folder and not os.environ.get("BENCH_PYSPY"):
        return [*command[:1], "-m", "cProfile", "-o", f"{folder}/worker{k}-{time.time():.0f}.prof",
                *command[1:]]
    return command


def _spy(procs: list[subprocess.Popen[str]]) -> None:
    """With BENCH_PYSPY (a py-spy binary) and BENCH_PROFILE_DIR: sample each worker's CPU
    (idle threads left out) into collapsed stacks there, until the worker exits."""
    spy, folder = os.environ.get("BENCH_PYSPY"), os.environ.get("BENCH_PROFILE_DIR")
    for k, proc in enumerate(procs if spy and folder else []):
        subprocess.Popen([str(spy), "record", "-r", "250", "-f", "raw", "-p", str(proc.pid),
                          "-o", f"{folder}/spy{k}-{time.time():.0f}.txt"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def worker_child() -> None:
    """`scim2entra worker --burst` (jobs.worker.run_worker), then report its peak RSS; with
    BENCH_LONG_RUNNING set, a long-running `scim2entra worker` until SIGTERM instead."""
    from jobs.worker import run_worker
    from webapp import create_app

    long_running = bool(os.environ.get("BENCH_LONG_RUNNING"))
    app = create_app()
    cpu = time.process_time()
    run_worker(app, burst=not long_running, max_wait=30.0)
    print(json.dumps({"rss_mb": peak_rss_mb(), "cpu_s": time.process_time() - cpu}))


def run_full_sync(app: Any, env: dict[str, str], n: int) -> RunFacts:
    """Long-running workers, as deployed: started first, then one full sync is enqueued and
    timed until its progress row says it ended. (Burst workers exit whenever the queue is
    empty for a moment between two phases, and would measure that instead.)"""
    from rq import Worker

    from jobs.fullsync import progress
    from jobs.queue import handle

    env = {**env, "BENCH_LONG_RUNNING": "1"}
    queue = handle(app).queue
    queue.empty()  # the SCIM writes' direct-sync jobs: the workers must not start on them
    procs = [subprocess.Popen(_worker_command(k), env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True) for k in range(n)]
    _spy(procs)
    while len(Worker.all(queue=queue)) < n:
        time.sleep(0.1)
    with app.app_context():
        before = (progress.last() or {}).get("run_id")
    started, started_at = time.monotonic(), time.time()
    start_run(app, "full")
    while True:
        with app.app_context():
            from webapp.extensions import db

            db.session.expire_all()
            ended = progress.last() or {}
        if ended.get("run_id") not in (None, before) and ended.get("state") != "running":
            break
        time.sleep(0.05)
    wall = time.monotonic() - started
    for proc in procs:
        proc.terminate()
    outputs = [p.communicate()[0] for p in procs]
    return _facts(started_at, wall, outputs)


# -- the two sync runs -------------------------------------------------------------------------

def sync_runs(emu: EntraEmulator, args: argparse.Namespace) -> None:
    rate = 20.0 * args.scale
    # Graph's rates (per app 3,000 / 150 s, per tenant 18,000 / 5 min) times ``scale``; the
    # buckets hold 1.5 s of writes instead of 150 s, so that the emulator's limit, not its
    # initial burst, decides: unpaced work would meet 429s.
    emu.set_write_quota(scale=args.scale, app_capacity=rate * 1.5,
                        app_period_s=1.5 * args.scale, tenant_capacity=3 * rate * 1.5,
                        tenant_period_s=1.5 * args.scale)
    with fresh_store(emu, rate) as env:
        _sync_runs(emu, args, env, rate)


@contextmanager
def fresh_store(emu: EntraEmulator, rate: float) -> Iterator[dict[str, str]]:
    """A new PostgreSQL schema and queue name; the workers' environment."""
    schema = f"bench_full_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    env = {**os.environ, **emu.env(),
           "SCIM2ENTRA_DATABASE_URL": f"{PG}?options=-csearch_path%3D{schema}",
           "SCIM2ENTRA_REDIS_URL": REDIS, "SCIM2ENTRA_QUEUE_NAME": schema,
           "SCIM2ENTRA_GRAPH_WRITES_PER_SECOND": str(rate), "SCIM2ENTRA_DRY_RUN": "false"}
    try:
        yield env
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
        forget_redis_keys(schema)


def forget_redis_keys(queue_name: str) -> None:
    """The run's queue, jobs and mirror: left behind, they would slow later runs' key scans
    (the bench database held 270,000 stale keys after a day of runs)."""
    from redis import Redis
    from rq import Queue

    redis = Redis.from_url(REDIS)
    Queue(queue_name, connection=redis).empty()
    for key in redis.scan_iter(match=f"scim2entra:{queue_name}:*", count=1000):
        redis.unlink(key)


def _one_run(app: Any, env: dict[str, str], args: argparse.Namespace) -> RunFacts:
    if args.mode == "full":
        return run_full_sync(app, env, args.workers)
    return run_workers(env, args.workers)


def full_sync_rss(emu: EntraEmulator, users: int) -> None:
    """One full sync worker discovering a ``users``-user tenant (nothing local to sync)."""
    from webapp import create_app
    from webapp.store import upgrade_database

    emu.reset()
    for i in range(users):
        emu.state.seed_user(f"big{i}@example.com", mail=f"big{i}@example.com")
    with fresh_store(emu, 20.0) as env:
        os.environ.update({k: v for k, v in env.items() if k.startswith("SCIM2ENTRA_")})
        app = create_app()
        upgrade_database(app)
        start_run(app, "full")
        run = run_workers(env, 1)
    pages = emu.audit.count(method="GET", path_re="^/users/delta$")
    print(f"full sync of an empty store against {users} Entra users: 1 worker, {pages} "
          f"discovery pages, {run.wall:.1f} s, worker peak RSS {run.rss_mb[0]:.0f} MB "
          "(goal <= 300 MB)")


def _sync_runs(emu: EntraEmulator, args: argparse.Namespace, env: dict[str, str],
               rate: float) -> None:
    from webapp import create_app
    from webapp.store import upgrade_database

    os.environ.update({k: v for k, v in env.items() if k.startswith("SCIM2ENTRA_")})
    app = create_app()
    upgrade_database(app)
    u, g, m = args.users, args.groups, args.memberships
    started = time.monotonic()
    build_scenario(app, u, g, m)
    print(f"scenario: {u} users, {g} groups, {m} memberships via SCIM in "
          f"{time.monotonic() - started:.1f} s; emulator write quota {rate:.0f}/s, "
          f"pacer {rate:.0f}/s shared in Redis, {args.workers} worker processes")
    print(f"mode: {args.mode}" + (" (direct-sync jobs of every object, as the SCIM writes "
                                  "enqueued them: users first, each group once after its "
                                  "users)" if args.mode == "direct" else ""))
    emu.audit.clear()
    emulator_cpu = time.process_time()
    run = _one_run(app, env, args)
    emulator_cpu = time.process_time() - emulator_cpu
    print_timeline(emu, run.started_at)
    writes, throttled = len(emu.audit.writes()), emu.audit.count(status=429)
    print(f"run 1: CPU per write: workers {1000 * run.worker_cpu_s / max(writes, 1):.2f} ms, "
          f"emulator and bench {1000 * emulator_cpu / max(writes, 1):.2f} ms (a write's "
          f"share of the host at the quota: {1000 * (os.cpu_count() or 1) / rate:.1f} ms)")
    floor = u + g + math.ceil(m / 20)
    print(f"run 1: writes {writes} vs floor U+G+ceil(M/20) = {floor}: {writes / floor:.3f}x "
          f"(goal <= 1.05); 429 answers {throttled}")
    print(f"run 1: wall {run.wall:.1f} s vs quota floor {floor / rate:.1f} s: "
          f"{run.wall / (floor / rate):.2f}x (goal <= 1.2); failed objects "
          f"{failed_objects(app)}; worker peak RSS {', '.join(f'{r:.0f}' for r in run.rss_mb)} MB")
    emu.audit.clear()
    if args.mode == "direct":
        enqueue_everything(app)
    wall = _one_run(app, env, args).wall
    reads = len(emu.audit.reads()) + emu.audit.count(kind="batch")
    kinds = Counter(re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", e.path)
                    for e in emu.audit.reads())
    read_floor = math.ceil(u / 999) + math.ceil(g / 999) + g
    print(f"run 2 (nothing changed, every object re-enqueued): writes {len(emu.audit.writes())} "
          f"(goal 0), reads {reads} vs {read_floor} = ceil(U/999)+ceil(G/999)+G, "
          f"wall {wall:.1f} s; reads by path: {dict(kinds)}")


def print_timeline(emu: EntraEmulator, t0: float) -> None:
    """When each kind of request ran, in seconds after the run was started: where the time
    beyond the quota floor goes (start-up, gaps between phases, a phase slower than quota)."""
    spans: dict[str, list[float]] = {}
    for e in emu.audit.entries():
        path = re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", e.path)
        spans.setdefault(f"{e.method} {path}", []).append(e.ts - t0)
    for name, times in sorted(spans.items(), key=lambda kv: min(kv[1])):
        print(f"  timeline {name:28} {len(times):5} requests  {min(times):5.2f}s → "
              f"{max(times):5.2f}s")


# -- discovery ---------------------------------------------------------------------------------

def discovery(emu: EntraEmulator, typed_users: int, raw_users: int) -> None:
    from bench.graph_discovery import delta, mirrored, raw, typed
    from jobs.graph import GraphBoundary, GraphSettings

    emu.reset()
    config = {k.removeprefix("SCIM2ENTRA_"): v for k, v in emu.env().items()}
    boundary = GraphBoundary(GraphSettings.from_config(config))
    try:
        seeded = 0
        for n, paths in ((typed_users, (raw, delta, typed)),
                         (raw_users, (raw, delta, mirrored))):
            for i in range(seeded, n):
                emu.state.seed_user(f"disc{i}@example.com", mail=f"disc{i}@example.com")
            seeded = n
            rates = {}
            for fn in paths:
                fn(boundary)  # warm: token, connection, first page
                start = time.perf_counter()
                count = fn(boundary)
                rates[fn.__name__] = count / (time.perf_counter() - start)
            line = ", ".join(f"{k} {v:,.0f} users/s" for k, v in rates.items())
            ratio = f" (raw/model {rates['raw'] / rates['typed']:.0f}x)" if "typed" in rates \
                else ""
            print(f"discovery of {n} users: {line}{ratio}")
    finally:
        boundary.close()


def rss(emu: EntraEmulator, users: int) -> None:
    emu.reset()
    started = time.monotonic()
    for i in range(users):
        emu.state.seed_user(f"big{i}@example.com", mail=f"big{i}@example.com")
    seeded = time.monotonic() - started
    env = {**os.environ, **emu.env()}
    out = subprocess.run([sys.executable, "-m", "bench.full_sync", "--rss-child"], env=env,
                         check=True, capture_output=True, text=True).stdout
    facts = json.loads(out.strip().splitlines()[-1])
    print(f"discovery of {facts['count']} users (seeded in {seeded:.1f} s) in one process: "
          f"{facts['seconds']:.1f} s, peak RSS {facts['rss_mb']:.0f} MB "
          f"(after imports and token {facts['base_mb']:.0f} MB; goal <= 300 MB)")


def rss_child() -> None:
    from jobs.graph import GraphBoundary, GraphSettings, UsersClient
    from jobs.graph.users import USER_SELECT

    config = {k.removeprefix("SCIM2ENTRA_"): v for k, v in os.environ.items()
              if k.startswith("SCIM2ENTRA_")}
    boundary = GraphBoundary(GraphSettings.from_config(config))
    boundary.warm_token()
    base = peak_rss_mb()
    started = time.monotonic()
    count = sum(1 for _ in UsersClient(boundary).discover(select=USER_SELECT))
    print(json.dumps({"count": count, "seconds": time.monotonic() - started,
                      "rss_mb": peak_rss_mb(), "base_mb": base}))


def main() -> None:
    parser = argparse.ArgumentParser()
    for name, default in (("users", 1000), ("groups", 50), ("memberships", 5000),
                          ("scale", 10), ("workers", 2), ("typed-users", 1000),
                          ("raw-users", 20000), ("rss-users", 100000),
                          ("pace-writes", 2000)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--mode", choices=("direct", "full"), default="full")
    parser.add_argument("--part", choices=("sync", "discovery", "rss", "rss-full", "pacing"),
                        action="append", help="what to run (repeatable; default: sync)")
    for flag in ("worker-child", "rss-child"):
        parser.add_argument(f"--{flag}", action="store_true")
    args = parser.parse_args()
    if args.worker_child:
        return worker_child()
    if args.rss_child:
        return rss_child()
    parts = args.part or ["sync"]
    with EntraEmulator() as emu:
        if "pacing" in parts:
            from bench.write_pacing import pacing

            pacing(emu, args.scale, args.workers, args.pace_writes)
        if "sync" in parts:
            sync_runs(emu, args)
        if "discovery" in parts:
            discovery(emu, args.typed_users, args.raw_users)
        if "rss" in parts:
            rss(emu, args.rss_users)
        if "rss-full" in parts:
            full_sync_rss(emu, args.rss_users)


if __name__ == "__main__":
    main()
