"""Failed sign-ins slow down: per client IP and per account, counted in Redis.

After FREE_ATTEMPTS failures the next attempt is refused (429) until a wait that doubles with
every further failure has passed, capped at MAX_WAIT. Refusing instead of sleeping keeps web
workers free: a sleeping worker would let a guesser tie up the whole server (OWASP
"Blocking Brute Force Attacks": progressive delays). Counters expire after WINDOW.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from redis import Redis

from jobs.queue import handle

FREE_ATTEMPTS = 3
BASE_WAIT = 2.0  # seconds after the first failure beyond the free ones
MAX_WAIT = 300.0
WINDOW = 3600  # seconds a failure is remembered


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def _redis() -> Redis:
    return handle().redis


def _key(scope: str, ident: str) -> str:
    # The queue name namespaces the keys: deployments (and test runs) sharing a Redis differ.
    return f"{current_app.config['SCIM2ENTRA']['QUEUE_NAME']}:login:{scope}:{ident}"


def _keys(ip: str, account: str) -> list[str]:
    return [_key("ip", ip), _key("account", account)]


def check(ip: str, account: str) -> Verdict:
    """May this client try to sign in to this account now?"""
    now = time.time()
    waits = []
    for key in _keys(ip, account):
        blocked_until = _redis().hget(key, "until")
        if blocked_until is not None and float(blocked_until) > now:
            waits.append(float(blocked_until) - now)
    if waits:
        return Verdict(False, int(max(waits)) + 1)
    return Verdict(True)


def wait_after(failures: int) -> float:
    if failures <= FREE_ATTEMPTS:
        return 0.0
    return float(min(BASE_WAIT * 2 ** (failures - FREE_ATTEMPTS - 1), MAX_WAIT))


def failed(ip: str, account: str) -> None:
    """Count one failure for the IP and for the account; set their next allowed time."""
    redis = _redis()
    for key in _keys(ip, account):
        failures = int(redis.hincrby(key, "failures", 1))
        wait = wait_after(failures)
        if wait:
            redis.hset(key, "until", str(time.time() + wait))
        redis.expire(key, WINDOW)


def succeeded(ip: str, account: str) -> None:
    _redis().delete(*_keys(ip, account))


def clear_all() -> None:
    """Forget every counter of this deployment (tests; an admin locked out by a guesser)."""
    redis = _redis()
    for key in redis.scan_iter(match=_key("*", "*"), count=1000):
        redis.delete(key)
