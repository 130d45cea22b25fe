"""Operations: /healthz, /readyz (with the worker heartbeat), /metrics, JSON logs, redaction."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.test_scim_users import new_user, patch_body
from webapp import logs


def scrape(client: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Every log record of the process, through the production formatter, into a buffer."""
    stream = io.StringIO()
    root = logging.getLogger()
    level = root.level
    handler = logs.configure_logging("DEBUG", stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# --- health ----------------------------------------------------------------------------------

def test_healthz_is_trivial(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_needs_a_worker_heartbeat(database_url: str, redis_url: str,
                                         tmp_path: Any) -> None:
    from jobs.worker import make_worker
    from tests.conftest import make_app

    # a queue of its own: other tests of this process may leave live workers on theirs
    app = make_app(database_url, redis_url, str(tmp_path),
                   QUEUE_NAME=f"s2e-ready-{uuid.uuid4().hex[:8]}")
    client = app.test_client()
    answer = client.get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert checks["database"] == "ok" and checks["redis"] == "ok"
    assert checks["worker"].startswith("error: no worker heartbeat")

    worker = make_worker(app)
    worker.register_birth()  # what `scim2entra worker` does first, then beats every 30 s
    try:
        assert client.get("/readyz").status_code == 200
        app.config["SCIM2ENTRA"]["WORKER_HEARTBEAT_MAX_AGE"] = "0.2"
        time.sleep(0.5)  # an idle worker whose last beat is older than the window
        assert client.get("/readyz").status_code == 503
        worker.heartbeat()
        assert client.get("/readyz").status_code == 200
    finally:
        worker.register_death()


def test_readyz_names_an_unreachable_redis(app: Any, client: Any) -> None:
    from redis import Redis

    from jobs.queue import handle

    queue_handle = handle(app)
    real = queue_handle.redis
    queue_handle.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        answer = client.get("/readyz")
    finally:
        queue_handle.redis = real
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["redis"].startswith("error: ")


# --- metrics ---------------------------------------------------------------------------------

def test_metrics_count_scim_requests_and_queue_depth(app: Any, client: Any, scim: Any) -> None:
    before = scrape(client)
    assert scim.post("/Users", new_user()).status_code == 201
    assert scim.get("/Users/does-not-exist").status_code == 404
    assert client.get("/scim/v2/Users").status_code == 401
    after = scrape(client)
    for method, status in (("POST", "201"), ("GET", "404"), ("GET", "401")):
        name = "scim2entra_scim_requests_total"
        assert value(after, name, method=method, status=status) == value(
            before, name, method=method, status=status) + 1
    from jobs.queue import handle

    queue = handle(app).queue.name
    assert value(after, "scim2entra_queue_depth", queue=queue, state="queued") == 1
    assert value(after, "scim2entra_scim_request_seconds_count", method="POST") >= 1


def test_metrics_after_a_sync(sync: Any) -> None:
    client = sync.app.test_client()
    before = scrape(client)
    sync.entra.add_fault("status", status=429, method="POST", path_re="^/users$", count=1,
                         retry_after=0.1)
    user = sync.scim.post("/Users", new_user()).get_json()["id"]
    bad = sync.scim.post("/Users", new_user("bob@unverified.example.net")).get_json()["id"]
    sync.drain()
    assert sync.state("user", user).status == "synced"
    assert sync.state("user", bad).status == "error"
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("scim2entra_sync_attempts_total", kind="user", result="synced") == 1
    assert delta("scim2entra_sync_attempts_total", kind="user", result="error") == 1
    assert delta("scim2entra_graph_throttled_total", method="POST") == 1
    assert delta("scim2entra_graph_requests_total", method="POST", status="429") == 1
    assert delta("scim2entra_graph_requests_total", method="POST", status="2xx") >= 1
    assert delta("scim2entra_graph_request_seconds_count", method="POST") >= 3
    assert delta("scim2entra_sync_attempt_seconds_count", kind="user") == 2
    queue = sync.app.config["SCIM2ENTRA"]["QUEUE_NAME"]
    assert value(after, "scim2entra_queue_depth", queue=queue, state="queued") == 0


def test_metrics_multiprocess_mode_sums_processes(tmp_path: Any) -> None:
    """Two processes write counters to PROMETHEUS_MULTIPROC_DIR; one scrape sums both."""
    import os
    import subprocess
    import sys

    code = ("from webapp import metrics; metrics.observe_sync('user', 'synced', 0.01); "
            "metrics.observe_graph('PATCH', '429', 0.2)")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    for _ in range(2):
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    scrape_code = (
        "from prometheus_client import CollectorRegistry, generate_latest, multiprocess\n"
        "r = CollectorRegistry(); multiprocess.MultiProcessCollector(r)\n"
        "print(generate_latest(r).decode())")
    text = subprocess.run([sys.executable, "-c", scrape_code], env=env, check=True,
                          capture_output=True, text=True, timeout=60).stdout
    assert 'scim2entra_sync_attempts_total{kind="user",result="synced"} 2.0' in text
    assert 'scim2entra_graph_throttled_total{method="PATCH"} 2.0' in text
    # file names carry host name and pid: containers sharing the volume do not collide
    assert all("_" in path.stem.split("_", 1)[1] for path in tmp_path.glob("*.db"))


# --- logs ------------------------------------------------------------------------------------

def test_one_json_line_per_scim_request_with_request_id(scim: Any, captured: Any) -> None:
    created = scim.post("/Users", new_user(), headers={"X-Request-Id": "req-123"})
    assert created.headers["X-Request-Id"] == "req-123"
    user_id = created.get_json()["id"]
    answer = scim.patch(f"/Users/{user_id}", patch_body(
        {"op": "replace", "path": "title", "value": "CTO"}), headers={"X-Request-Id": "bad id!"})
    generated = answer.headers["X-Request-Id"]
    assert generated != "bad id!" and len(generated) == 32
    requests = [e for e in lines(captured) if e.get("event") == "scim_request"]
    assert [(e["method"], e["status"], e["request_id"]) for e in requests] == [
        ("POST", 201, "req-123"), ("PATCH", 200, generated)]
    assert requests[1]["object_id"] == user_id
    assert requests[1]["level"] == "info" and requests[1]["duration_ms"] >= 0


def test_secrets_are_never_logged(sync: Any, captured: Any) -> None:
    password = "Pa55word-never-logged!"
    secret = sync.app.config["SCIM2ENTRA"]["CLIENT_SECRET"]
    token = sync.scim.headers["Authorization"].removeprefix("Bearer ")
    logs.remember_secrets(sync.app.config["SCIM2ENTRA"])
    user = sync.scim.post("/Users", new_user(password=password)).get_json()["id"]
    sync.scim.patch(f"/Users/{user}", patch_body(
        {"op": "replace", "path": "password", "value": password + "2"}))
    sync.scim.client.get("/scim/v2/Users", headers={"Authorization": "Bearer s2e_wrongtoken"})
    # a careless log call of a library must be redacted too
    logging.getLogger("some.library").info(
        "token request client_secret=%s Authorization: Bearer %s {'password': '%s'}",
        secret, token, password)
    sync.drain()
    text = captured.getvalue()
    attempts = [e for e in lines(captured) if e.get("event") == "sync_attempt"]
    assert attempts and attempts[-1]["object_id"] == user and attempts[-1]["entra_id"]
    for leaked in (password, secret, token, "s2e_wrongtoken"):
        assert leaked not in text
    assert text.count(logs.REDACTED) >= 3


def test_redaction_patterns() -> None:
    raw = ('GET postgresql+psycopg://app:hunter22@db/x Authorization="Basic dXNlcjpwdw==" '
           '{"password": "x1y2z3", "client_secret": "abc"} refresh_token=r0t&x=1')
    clean = logs.redact(raw)
    for leaked in ("hunter22", "dXNlcjpwdw", "x1y2z3", "abc", "r0t"):
        assert leaked not in clean
    assert "postgresql+psycopg://app:[redacted]@db/x" in clean and "x=1" in clean


@pytest.mark.parametrize("raw, leaked", [
    # One kind of secret per line, in unusual letter case: the words that let a pattern run
    # (logs._PATTERNS) must find each on its own.
    ("header BEARER abc.def-ghi", "abc.def-ghi"),
    ("header basic\\u0020dXNlcjpwdw==", "dXNlcjpwdw"),
    ("presented s2e_AbC-123 to us", "s2e_AbC-123"),
    ("AUTHORIZATION='opaque-value'", "opaque-value"),
    ("PASSWD : 'p1p2'", "p1p2"),
    ('{"Password":"p3p4"}', "p3p4"),
    ("Client_Assertion=eyJhbGci.x", "eyJhbGci.x"),
    ("ACCESS_TOKEN: t0k3n", "t0k3n"),
    ('{\\"client_secret\\": \\"s3cr3t\\"}', "s3cr3t"),
    ("HTTPS://user:p4ss@host/path", "p4ss"),
])
def test_each_redaction_pattern_runs_on_its_own(raw: str, leaked: str) -> None:
    assert leaked not in logs.redact(raw)
    assert logs.REDACTED in logs.redact(raw)


def test_logging_from_threads_keeps_lines_whole(captured: Any) -> None:
    log = logging.getLogger("scim2entra.test")

    def spam(n: int) -> None:
        for i in range(200):
            log.info("line %s-%s", n, i, extra={"object_id": f"{n}-{i}"})

    threads = [threading.Thread(target=spam, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = [e for e in lines(captured) if e["logger"] == "scim2entra.test"]
    assert len(entries) == 800


def test_metrics_show_full_sync_progress_and_last_duration(app: Any, client: Any) -> None:
    """Read from the rows jobs/fullsync/progress.py keeps (its documented shape)."""
    from webapp.extensions import db
    from webapp.models import SyncControl

    running = {"run_id": "r2", "state": "running", "started": "2026-01-01T10:00:00+00:00",
               "finished": None, "error": None,
               "phases": {"users": {"done": 400, "total": 1000},
                          "groups": {"done": 0, "total": 50}}}
    last = {"run_id": "r1", "state": "done", "started": "2026-01-01T06:00:00+00:00",
            "finished": "2026-01-01T06:02:05.500000+00:00", "error": None, "phases": {}}
    with app.app_context():
        db.session.add_all([SyncControl(key="full_sync", value=running),
                            SyncControl(key="full_sync_last", value=last)])
        db.session.commit()
    samples = scrape(client)
    assert value(samples, "scim2entra_full_sync_running") == 1
    assert value(samples, "scim2entra_full_sync_progress", phase="users", measure="done") == 400
    assert value(samples, "scim2entra_full_sync_progress", phase="users", measure="total") == 1000
    assert value(samples, "scim2entra_full_sync_last_duration_seconds") == 125.5
    assert value(samples, "scim2entra_full_sync_last_success") == 1
