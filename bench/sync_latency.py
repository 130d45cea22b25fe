"""SCIM write → Entra state latency, and Graph writes per synced object (issue 7).

    .venv/bin/python -m bench.sync_latency [--users 200] [--rate 20] [--workers 2]
                                           [--latency-ms 20]

Real parts: the app in this process takes SCIM writes (PostgreSQL, real Redis), `--workers`
`scim2entra worker` processes sync them to the emulator (in this process, Graph latency
`--latency-ms`, Graph's own write quota). An observer polls the emulator's state and stamps the
moment each change is visible there. The baseline, measured in the same run, is one Graph write
sent straight to the emulator: the floor any bridge pays. Goal: p50 ≤ 0.5 s, p99 ≤ 2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from tests.emulator.server import EntraEmulator

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def pg_schema() -> tuple[str, str]:
    schema = f"s2e_bench_{uuid.uuid4().hex[:8]}"
    with create_engine(PG).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    return f"{PG}?options=-csearch_path%3D{schema}", schema


class Observer(threading.Thread):
    """Stamps when each expectation becomes true in the emulator's state."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.waiting: dict[str, tuple[float, Callable[[], bool]]] = {}
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()
        self.stop = False

    def expect(self, key: str, acked_at: float, check: Callable[[], bool]) -> None:
        with self.lock:
            self.waiting[key] = (acked_at, check)

    def run(self) -> None:
        while not self.stop:
            with self.lock:
                pending = list(self.waiting.items())
            now = time.monotonic()
            for key, (acked, check) in pending:
                if check():
                    with self.lock:
                        self.waiting.pop(key, None)
                        self.seen[key] = now - acked
            time.sleep(0.005)


def baseline_write(emulator: EntraEmulator) -> float:
    """Median time of one POST /users sent straight to the emulator (token fetched first)."""
    token = emulator.graph_token()
    times = []
    with httpx.Client(base_url=emulator.graph_url,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        for i in range(10):
            body = {"accountEnabled": True, "displayName": f"b{i}", "mailNickname": f"b{i}",
                    "userPrincipalName": f"baseline{i}-{uuid.uuid4().hex[:6]}@example.com",
                    "passwordProfile": {"password": "Baseline-Passw0rd!"}}
            started = time.monotonic()
            assert http.post("/users", json=body).status_code == 201
            times.append(time.monotonic() - started)
    return statistics.median(times)


def start_workers(n: int, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([sys.executable, "-m", "webapp", "worker"], env=env)
            for _ in range(n)]


def scim_client(env: dict[str, str]) -> Any:
    os.environ.update(env)
    from webapp import create_app
    from webapp.store import upgrade_database
    from webapp.tokens import create_token

    app = create_app()
    upgrade_database(app)
    with app.app_context():
        token = create_token(f"bench-{uuid.uuid4().hex[:6]}")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, body: Any) -> Any:
        response = client.open(f"/scim/v2{path}", method=method, json=body, headers=headers)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    return call


def run_load(args: argparse.Namespace, emulator: EntraEmulator, call: Any,
             observer: Observer) -> tuple[int, dict[str, str]]:
    state = emulator.state
    ids: dict[str, str] = {}
    interval = 1.0 / args.rate

    def user_visible(upn: str, name: str | None = None) -> Callable[[], bool]:
        def check() -> bool:
            found = state.find_user(upn)
            return found is not None and (name is None or found.get("displayName") == name)
        return check

    objects = 0
    for i in range(args.users):  # creates
        upn = f"lat{i}@example.com"
        body = {"schemas": [USER_URN], "userName": upn, "displayName": f"User {i}",
                "emails": [{"value": upn, "primary": True}]}
        ids[upn] = call("POST", "/Users", body)["id"]
        observer.expect(f"create:{upn}", time.monotonic(), user_visible(upn))
        objects += 1
        time.sleep(interval)
    for i in range(args.users):  # updates
        upn = f"lat{i}@example.com"
        name = f"Renamed {i}"
        call("PATCH", f"/Users/{ids[upn]}", {"schemas": [PATCH_URN], "Operations": [
            {"op": "replace", "path": "displayName", "value": name}]})
        observer.expect(f"update:{upn}", time.monotonic(), user_visible(upn, name))
        time.sleep(interval)
    members = list(ids.values())
    for g in range(args.users // 20):  # groups of 20 members
        name = f"Latency group {g}"
        chunk = members[g * 20:(g + 1) * 20]
        call("POST", "/Groups", {"schemas": [GROUP_URN], "displayName": name,
                                 "members": [{"value": m} for m in chunk]})

        def group_full(name: str = name) -> bool:
            found = [x for x in list(state.groups.values()) if x["displayName"] == name]
            return bool(found) and len(state.members_of(found[0]["id"])) == 20
        observer.expect(f"group:{name}", time.monotonic(), group_full)
        objects += 1
        time.sleep(interval)
    return objects, ids


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(args: argparse.Namespace, observer: Observer, baseline: float, writes: int,
           objects: int, missing: int) -> None:
    print(f"users {args.users}, groups {args.users // 20}, SCIM rate {args.rate}/s, "
          f"workers {args.workers}, emulated Graph latency {args.latency_ms} ms")
    print(f"baseline: one direct Graph write: {baseline * 1000:.1f} ms")
    for kind in ("create", "update", "group"):
        values = [v for k, v in observer.seen.items() if k.startswith(kind)]
        if values:
            p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
            print(f"{kind:7} SCIM ack → Entra: p50 {p50 * 1000:7.1f} ms ({p50 / baseline:5.1f}× "
                  f"baseline)  p99 {p99 * 1000:7.1f} ms ({p99 / baseline:5.1f}×)  n={len(values)}")
    everything = list(observer.seen.values())
    p50, p99 = percentile(everything, 0.5), percentile(everything, 0.99)
    print(f"all     p50 {p50 * 1000:.1f} ms (goal ≤ 500)  p99 {p99 * 1000:.1f} ms (goal ≤ 2000)")
    groups = args.users // 20
    print(f"Graph writes per synced change: {writes / objects:.2f} ({writes} writes for "
          f"{args.users} user creates, {args.users} user updates, {groups} groups of 20; "
          f"floor {(objects + groups) / objects:.2f}: 1 per change + 1 member bind per group)")
    print(f"changes never visible: {missing}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="SCIM writes per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    args = parser.parse_args()

    emulator = EntraEmulator().start()
    emulator.set_latency(args.latency_ms)
    baseline = baseline_write(emulator)
    emulator.reset()
    emulator.set_latency(args.latency_ms)
    url, schema = pg_schema()
    env = {**os.environ, **emulator.env(), "SCIM2ENTRA_DATABASE_URL": url,
           "SCIM2ENTRA_REDIS_URL": "redis://127.0.0.1:6379/7",
           "SCIM2ENTRA_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:6]}",
           "SCIM2ENTRA_SECRET_KEY": "bench", "SCIM2ENTRA_INSTANCE_PATH": f"/tmp/{schema}"}
    call = scim_client(env)
    workers = start_workers(args.workers, env)
    observer = Observer()
    observer.start()
    try:
        time.sleep(2.0)  # workers up and warm (imports, first token)
        objects, _ = run_load(args, emulator, call, observer)
        deadline = time.monotonic() + 60
        while observer.waiting and time.monotonic() < deadline:
            time.sleep(0.1)
        writes = len([e for e in emulator.audit.writes() if e.status < 300])
        report(args, observer, baseline, writes, objects + args.users, len(observer.waiting))
    finally:
        observer.stop = True
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=10)
        emulator.stop()
        with create_engine(PG).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
