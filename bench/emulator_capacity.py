"""Capacity of the Entra/Graph emulator, so other benchmarks can show it is not their bottleneck.

    .venv/bin/python -m bench.emulator_capacity [--clients 4] [--seconds 5] [--in-process]

Starts the emulator (``python -m tests.emulator --no-write-quota`` in a subprocess, or in this
process with --in-process), gets a real token from its token endpoint, seeds users, then runs
``--clients`` worker processes, each a raw ``httpx.Client`` with keep-alive, for ``--seconds``
per phase:

    reads:  GET /v1.0/users/{id}
    writes: POST /v1.0/users (a new user each time; the write quota is disabled)

Prints plain lines such as ``emulator reads/s: 2500``. With the subprocess emulator on Linux it
also prints the emulator's CPU time per request and the rate one core would sustain
(``emulator reads/s per core: N``): the clients share the machine's CPUs with the emulator,
so the measured rate is a lower bound on what the emulator itself can serve.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.emulator.__main__ import read_env

ROOT = Path(__file__).resolve().parents[1]


def start_subprocess() -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "tests.emulator", "--no-write-quota"],
                            cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, read_env(proc.stdout)


def get_token(env: dict[str, str]) -> str:
    url = f"{env['SCIM2ENTRA_AUTHORITY_URL']}/{env['SCIM2ENTRA_TENANT_ID']}/oauth2/v2.0/token"
    answer = httpx.post(url, verify=env["SCIM2ENTRA_CA_BUNDLE"], data={
        "client_id": env["SCIM2ENTRA_CLIENT_ID"],
        "client_secret": env["SCIM2ENTRA_CLIENT_SECRET"],
        "grant_type": "client_credentials", "scope": "https://graph.microsoft.com/.default"})
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def seed(graph_url: str, count: int) -> list[str]:
    admin = graph_url.removesuffix("/v1.0") + "/_emulator"
    with httpx.Client() as http:
        return [http.post(f"{admin}/seed/users", json={}).json()["id"] for _ in range(count)]


def worker(args: tuple[str, str, str, list[str], float, int]) -> tuple[int, int]:
    """One client process: (successful requests, failures) within the deadline."""
    op, graph_url, token, ids, seconds, index = args
    headers = {"Authorization": f"Bearer {token}"}
    done = failed = 0
    tag = uuid.uuid4().hex[:8]
    with httpx.Client(headers=headers, timeout=30) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if op == "reads":
                answer = http.get(f"{graph_url}/users/{ids[done % len(ids)]}")
            else:
                nick = f"cap{tag}{index}n{done}"
                answer = http.post(f"{graph_url}/users", json={
                    "accountEnabled": True, "displayName": nick, "mailNickname": nick,
                    "userPrincipalName": f"{nick}@example.com",
                    "passwordProfile": {"password": "Passw0rd!x"}})
            if answer.status_code < 300:
                done += 1
            else:
                failed += 1
    return done, failed


def cpu_seconds(pid: int | None) -> float | None:
    """utime + stime of a process from /proc (Linux), else None."""
    if pid is None or not os.path.exists(f"/proc/{pid}/stat"):
        return None
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(op: str, graph_url: str, token: str, ids: list[str], clients: int,
            seconds: float) -> tuple[float, int]:
    ctx = mp.get_context("spawn")
    jobs = [(op, graph_url, token, ids, seconds, i) for i in range(clients)]
    with ctx.Pool(clients) as pool:
        results = pool.map(worker, jobs)
    # each worker counts within its own window of ``seconds``
    return sum(r[0] for r in results) / seconds, sum(r[1] for r in results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--in-process", action="store_true",
                        help="run the emulator in this process instead of a subprocess")
    args = parser.parse_args(argv)
    proc: subprocess.Popen[str] | None = None
    emulator: Any = None
    if args.in_process:
        sys.path.insert(0, str(ROOT))
        from tests.emulator import EntraEmulator
        emulator = EntraEmulator().start()
        emulator.set_write_quota(enabled=False)
        env = emulator.env()
    else:
        proc, env = start_subprocess()
    try:
        graph_url = env["SCIM2ENTRA_GRAPH_URL"]
        token = get_token(env)
        ids = seed(graph_url, 200)
        where = "in-process" if args.in_process else "subprocess"
        print(f"emulator clients: {args.clients} ({where} emulator, {os.cpu_count()} CPUs, "
              f"{args.seconds:g} s per phase)")
        pid = proc.pid if proc is not None else None
        for op in ("reads", "writes"):
            before = cpu_seconds(pid)
            rate, failed = measure(op, graph_url, token, ids, args.clients, args.seconds)
            after = cpu_seconds(pid)
            print(f"emulator {op}/s: {rate:.0f}")
            if failed:
                print(f"emulator {op} failed: {failed}")
            if before is not None and after is not None and rate:
                per_request = (after - before) / (rate * args.seconds)
                print(f"emulator cpu ms per {op[:-1]}: {per_request * 1000:.2f}")
                print(f"emulator {op}/s per core: {1 / per_request:.0f}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        if emulator is not None:
            emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
