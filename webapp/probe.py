"""Container health probes (docker-compose.yml healthchecks, the Dockerfile's HEALTHCHECK).

`python -m webapp.probe web`: GET /readyz on this container's PORT answers 200.
`python -m webapp.probe worker`: an RQ worker on this host (container) has a recent heartbeat
  or is busy with a job.
`python -m webapp.probe deps`: the database and Redis answer (the scheduler).
Exit status 0 = healthy. Light on purpose: no app is built for the worker and deps probes.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from datetime import UTC, datetime

from webapp.config import read_environment


def probe_web() -> str | None:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=4) as answer:
            return None if answer.status == 200 else f"/readyz answered {answer.status}"
    except urllib.error.HTTPError as exc:
        return f"/readyz answered {exc.code}: {exc.read()[:300].decode(errors='replace')}"
    except OSError as exc:
        return f"/readyz unreachable: {exc}"


def _redis(settings: dict[str, str | None]) -> object:
    from redis import Redis

    if not settings["REDIS_URL"]:
        raise SystemExit("SCIM2ENTRA_REDIS_URL is not set")
    return Redis.from_url(str(settings["REDIS_URL"]), socket_connect_timeout=2,
                          socket_timeout=3)


def probe_worker(hostname: str | None = None) -> str | None:
    from rq import Queue, Worker

    settings = read_environment()
    connection = _redis(settings)
    queue = Queue(str(settings["QUEUE_NAME"]), connection=connection)  # type: ignore[arg-type]
    max_age = float(settings.get("WORKER_HEARTBEAT_MAX_AGE") or 60)
    host = hostname or socket.gethostname()
    now = datetime.now(UTC)
    mine = [w for w in Worker.all(queue=queue) if w.hostname == host]
    for worker in mine:
        beat = worker.last_heartbeat
        if beat is not None and beat.tzinfo is None:
            beat = beat.replace(tzinfo=UTC)
        if worker.get_state() == "busy" or (beat and (now - beat).total_seconds() <= max_age):
            return None
    return f"no worker on {host} with a heartbeat within {max_age:g} s ({len(mine)} found)"


def probe_deps() -> str | None:
    from sqlalchemy import create_engine, text

    settings = read_environment()
    try:
        _redis(settings).ping()  # type: ignore[attr-defined]
    except OSError as exc:
        return f"redis: {exc}"
    except Exception as exc:
        return f"redis: {type(exc).__name__}: {exc}"
    if settings["DATABASE_URL"]:
        engine = create_engine(str(settings["DATABASE_URL"]))
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return f"database: {type(exc).__name__}"
        finally:
            engine.dispose()
    return None


PROBES = {"web": probe_web, "worker": probe_worker, "deps": probe_deps}


def main(argv: list[str]) -> int:
    if len(argv) != 1 or argv[0] not in PROBES:
        print(f"usage: python -m webapp.probe {{{','.join(PROBES)}}}", file=sys.stderr)
        return 2
    problem = PROBES[argv[0]]()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
