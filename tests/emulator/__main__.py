"""Run the emulator standalone: ``python -m tests.emulator [--graph-port N] ...``.

Prints the SCIM2ENTRA_* variables (one ``NAME=value`` per line, ready for ``.env`` or
``export``) and serves until interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterable

from .server import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_TENANT_ID, EntraEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--graph-port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--authority-port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--tenant-id", default=DEFAULT_TENANT_ID)
    p.add_argument("--tenant-name", default="scim2entratest",
                   help="initial domain <name>.onmicrosoft.com")
    p.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    p.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    p.add_argument("--verified-domain", action="append", default=None,
                   help="extra verified domain (repeatable; default example.com)")
    p.add_argument("--unverified-domain", action="append", default=None)
    p.add_argument("--write-quota-scale", type=float, default=1.0,
                   help="refill the write quota N times faster than Graph's 3,000/150 s")
    p.add_argument("--no-write-quota", action="store_true", help="never answer 429")
    p.add_argument("--retry-after-mode", choices=("int", "fraction", "absent"), default="int")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--token-lifetime", type=int, default=3599, help="seconds")
    p.add_argument("--signed-in-user", default=None,
                   help="UPN the authorize endpoint signs in without a form")
    p.add_argument("--tls-dir", default=None, help="where to write ca.pem (default: temp dir)")
    return p.parse_args(argv)


def build(args: argparse.Namespace) -> EntraEmulator:
    emulator = EntraEmulator(
        tenant_id=args.tenant_id, tenant_name=args.tenant_name, client_id=args.client_id,
        client_secret=args.client_secret,
        verified_domains=tuple(args.verified_domain or ["example.com"]),
        unverified_domains=tuple(args.unverified_domain or ["unverified.example.net"]),
        host=args.host, graph_port=args.graph_port, authority_port=args.authority_port,
        tls_dir=args.tls_dir,
    )
    emulator.set_write_quota(enabled=not args.no_write_quota, scale=args.write_quota_scale,
                             retry_after_mode=args.retry_after_mode)
    emulator.set_knobs(latency_ms=args.latency_ms, token_lifetime_s=args.token_lifetime,
                       signed_in_user=args.signed_in_user)
    return emulator


def main(argv: list[str] | None = None) -> int:
    emulator = build(parse_args(argv)).start()
    for name, value in emulator.env().items():
        print(f"{name}={value}")
    print(f"# admin: {emulator.admin_url}  (Ctrl-C to stop)", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    emulator.stop()
    return 0


def read_env(lines: Iterable[str]) -> dict[str, str]:
    """What main() prints before its "# admin" line, as the SCIM2ENTRA_* variables (for
    callers running the emulator as a process)."""
    env: dict[str, str] = {}
    for line in lines:
        if line.startswith("#"):
            break
        name, _, value = line.strip().partition("=")
        env[name] = value
    return env


if __name__ == "__main__":
    sys.exit(main())
