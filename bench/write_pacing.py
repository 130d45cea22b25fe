"""The write pacer alone: several processes, one write quota, at the emulator.

    .venv/bin/python -m bench.write_pacing [--scale 10] [--workers 2] [--writes 2000]

Each process PATCHes its share of the users through $batch (``update_many``) as fast as its
pacer allows, once with the Redis-shared bucket (``RedisTokenBucket``) and once with a
private in-process bucket each at the same rate. Prints the writes' span (emulator audit)
against the floor and the 429s the emulator answered. Needs Redis on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import uuid

from tests.emulator.server import EntraEmulator

REDIS = "redis://127.0.0.1:6379/7"


def pacing(emu: EntraEmulator, scale: int, workers: int, writes: int) -> None:
    """Each of ``--workers`` processes PATCHes its share of users through $batch
    (``update_many``), as fast as its pacer allows: shared Redis bucket vs one bucket each."""
    rate = 20.0 * scale
    for shared in (True, False):
        emu.reset()
        emu.set_write_quota(scale=scale, app_capacity=rate * 1.5,
                            app_period_s=1.5 * scale, tenant_capacity=3 * rate * 1.5,
                            tenant_period_s=1.5 * scale)
        for i in range(writes):
            emu.state.seed_user(f"pace{i}@example.com")
        env = {**os.environ, **emu.env(), "SCIM2ENTRA_GRAPH_WRITES_PER_SECOND": str(rate),
               "BENCH_PACER": f"bench:pacer:{uuid.uuid4().hex}" if shared else ""}
        procs = [subprocess.Popen([sys.executable, "-m", "bench.write_pacing", "--child",
                                   str(k), str(workers)], env=env)
                 for k in range(workers)]
        for p in procs:
            p.wait()
        stamps = sorted(e.ts for e in emu.audit.writes())
        span = stamps[-1] - stamps[0]
        floor = (len(stamps) - rate) / rate  # the first second's writes are the burst
        kind = "one Redis bucket" if shared else "a bucket each"
        print(f"pacing, {workers} processes, {kind}: {len(stamps)} writes in {span:.1f} s "
              f"({len(stamps) / span:.0f}/s) vs floor "
              f"{floor:.1f} s: {span / floor:.2f}x; 429 answers {emu.audit.count(status=429)}")


def pace_child(index: int, count: int) -> None:
    import redis

    from jobs.graph import GraphBoundary, GraphSettings, UsersClient
    from jobs.graph.pacing import TokenBucketPacer
    from jobs.graph.redis_pacer import RedisTokenBucket

    config = {k.removeprefix("SCIM2ENTRA_"): v for k, v in os.environ.items()
              if k.startswith("SCIM2ENTRA_")}
    settings = GraphSettings.from_config(config)
    key = os.environ["BENCH_PACER"]
    pacer = (RedisTokenBucket(redis.Redis.from_url(REDIS), settings.writes_per_second, key=key)
             if key else TokenBucketPacer(settings.writes_per_second))
    boundary = GraphBoundary(settings, pacer=pacer)
    client = UsersClient(boundary)
    ids = sorted(u["id"] for u in client.discover(select=["id"]))[index::count]
    answers = client.update_many({i: {"jobTitle": "paced"} for i in ids})
    failed = sum(1 for a in answers.values() if not a.ok)
    boundary.close()
    if failed:
        print(f"child {index}: {failed} writes failed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--child", nargs=2, type=int)
    args = parser.parse_args()
    if args.child:
        return pace_child(*args.child)
    with EntraEmulator() as emu:
        pacing(emu, args.scale, args.workers, args.writes)


if __name__ == "__main__":
    main()
