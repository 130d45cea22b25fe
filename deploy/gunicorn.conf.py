"""gunicorn settings for the `web` service (docker-compose.yml) and any production install:
gunicorn --config deploy/gunicorn.conf.py 'webapp:create_app()'.

Environment: PORT (8000), WEB_CONCURRENCY (workers, 2), FORWARDED_ALLOW_IPS (read by
gunicorn itself: addresses of the proxy in front), PROMETHEUS_MULTIPROC_DIR (metrics files).
"""

import os

bind = [f"0.0.0.0:{os.environ.get('PORT', '8000')}"]
# Sync workers: on two cores threads add no throughput and fight over SQLite's write lock
# (stack-facts.md, "Web ingress ceiling"); scale with WEB_CONCURRENCY or more web replicas.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 60  # a /Bulk of 1,000 operations stays well inside
graceful_timeout = 20
keepalive = 5
# No max_requests recycling: each new worker pid would leave its metrics files behind in
# PROMETHEUS_MULTIPROC_DIR (counters of dead processes are kept, by design).
# Our own JSON line per SCIM request (webapp/logs.py) replaces gunicorn's access log.
accesslog = None
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "webapp.logs.JsonFormatter"}},
    "handlers": {
        "json": {"class": "logging.StreamHandler", "formatter": "json",
                 "stream": "ext://sys.stderr"},
    },
    "root": {"level": "INFO", "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
    },
}


def on_starting(server):  # type: ignore[no-untyped-def]
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        os.makedirs(folder, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """prometheus-client multiprocess mode: a dead worker's live gauges go away."""
    from webapp.metrics import mark_process_dead

    mark_process_dead(worker.pid)
