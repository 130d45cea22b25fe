"""The Docker image and the compose stack, validated without a Docker engine.

`docker compose config` (or Debian's docker-compose 1.29, which scripts/test installs) parses
and validates docker-compose.yml with the example env file; then every app service's command
and healthcheck run here as subprocesses, the way the container would run them: the image's
ENV, the env file and the service's environment, the Dockerfile's COPY paths mapped back to
the repository, our PostgreSQL schema and Redis in place of the compose services.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL
from tests.test_scim_users import new_user

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
APP_SERVICES = ("migrate", "web", "worker", "scheduler")


def compose_tool() -> list[str]:
    for candidate in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(candidate[0]) and subprocess.run(
                [*candidate, "version"], capture_output=True).returncode == 0:
            return candidate
    pytest.fail("neither `docker compose` nor `docker-compose` is installed "
                "(scripts/test installs Debian's docker-compose)")


@pytest.fixture(scope="module")
def compose_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("compose")
    shutil.copy(ROOT / "docker-compose.yml", folder / "docker-compose.yml")
    shutil.copy(ROOT / ".env.example", folder / ".env")
    done = subprocess.run([*compose_tool(), "config"], cwd=folder, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


def test_compose_config_is_valid_and_complete(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert set(services) == {*APP_SERVICES, "redis", "postgres"}
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("web", "worker", "scheduler", "redis", "postgres"):
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    for name in ("web", "worker", "scheduler"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["postgres"]["condition"] == deps["redis"]["condition"] == "service_healthy"
        assert services[name]["environment"]["SCIM2ENTRA_DATABASE_URL"].startswith(
            "postgresql+psycopg://")
    assert {"pg-data", "redis-data", "metrics", "instance"} <= set(compose_config["volumes"])
    assert services["web"]["ports"]


def test_dockerfile_is_slim_non_root_and_compiled() -> None:
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert bases and all(base.endswith("-slim") for base in bases)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert any("compileall" in line for line in lines)
    assert "PYTHONDONTWRITEBYTECODE=1" in (ROOT / "Dockerfile").read_text()


# --- each service's command, run outside Docker ----------------------------------------------

def dockerfile_env_and_copies() -> tuple[dict[str, str], dict[str, str]]:
    """The final stage's ENV values and COPY destinations (image path → repository path)."""
    text_ = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final = text_.split("\nFROM ")[-1]
    env: dict[str, str] = {}
    copies: dict[str, str] = {}
    for line in final.splitlines():
        words = line.split()
        if words[:1] == ["ENV"]:
            env.update(word.split("=", 1) for word in words[1:] if "=" in word)
        if words[:1] == ["COPY"] and not words[1].startswith("--from"):
            copies[words[2]] = str(ROOT / words[1])
    return env, copies


def env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines()
             if line.strip() and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    """The compose services as local processes, wired to the test's database and Redis."""

    def __init__(self, config: dict[str, Any], folder: Path, database_url: str,
                 redis_url: str) -> None:
        self.services = config["services"]
        self.folder = folder
        image_env, self.copies = dockerfile_env_and_copies()
        self.port = free_port()
        self.env = {
            **os.environ, **image_env, **env_file(ROOT / ".env.example"),
            **self.services["web"]["environment"],
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
            "SCIM2ENTRA_DATABASE_URL": database_url, "SCIM2ENTRA_REDIS_URL": redis_url,
            "SCIM2ENTRA_QUEUE_NAME": f"s2e-compose-{uuid.uuid4().hex[:8]}",
            "SCIM2ENTRA_INSTANCE_PATH": str(folder / "instance"),
            "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
            "PORT": str(self.port),
        }
        (folder / "metrics").mkdir()
        self.procs: list[subprocess.Popen[bytes]] = []

    def argv(self, words: list[str]) -> list[str]:
        programs = {"python": sys.executable, "scim2entra": str(BIN / "scim2entra"),
                    "gunicorn": str(BIN / "gunicorn")}
        return [programs.get(words[0], words[0])] + [self.copies.get(w, w) for w in words[1:]]

    def run(self, words: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.argv(words), env=self.env, cwd=self.folder, text=True,
                              capture_output=True, timeout=timeout)

    def start(self, service: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"{service}.log").open("wb")
        proc = subprocess.Popen(self.argv(self.services[service]["command"]), env=self.env,
                                cwd=self.folder, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def healthy(self, service: str, within: float = 30) -> None:
        test = self.services[service]["healthcheck"]["test"]
        deadline = time.monotonic() + within
        while True:
            done = self.run(test[1:], timeout=30)
            if done.returncode == 0:
                return
            assert time.monotonic() < deadline, f"{service} unhealthy: {done.stderr}"
            time.sleep(0.5)

    def log(self, service: str) -> str:
        return (self.folder / f"{service}.log").read_text(errors="replace")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def fresh_schema() -> Iterator[str]:
    """An empty PostgreSQL schema: the migrate service creates every table in it."""
    schema = f"s2e_compose_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def stack(compose_config: dict[str, Any], tmp_path: Path, fresh_schema: str,
          redis_url: str) -> Iterator[Stack]:
    running = Stack(compose_config, tmp_path, fresh_schema, redis_url)
    yield running
    running.stop()


def test_services_run_outside_docker(stack: Stack) -> None:
    migrated = stack.run(stack.services["migrate"]["command"])
    assert migrated.returncode == 0, migrated.stderr
    worker = stack.start("worker")
    web = stack.start("web")
    stack.healthy("worker")
    stack.healthy("web")  # /readyz: database, Redis and the worker's heartbeat
    token = stack.run(["scim2entra", "token", "create", "compose"]).stdout.splitlines()[-1]
    base = f"http://127.0.0.1:{stack.port}"
    created = httpx.post(f"{base}/scim/v2/Users", json=new_user(),
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert created.status_code == 201, created.text
    # No tenant credentials in the example env: the worker plans the writes (dry-run).
    deadline = time.monotonic() + 30
    while 'result="planned"' not in (metrics := httpx.get(f"{base}/metrics").text):
        assert time.monotonic() < deadline, metrics
        time.sleep(0.3)
    # one scrape of the web service sums the web workers' and the RQ worker's files
    assert 'scim2entra_scim_requests_total{method="POST",status="201"} 1.0' in metrics
    assert 'scim2entra_sync_attempts_total{kind="user",result="planned"} 1.0' in metrics
    assert "scim2entra_workers{" in metrics
    assert worker.poll() is None and web.poll() is None
    worker_lines = [line for line in stack.log("worker").splitlines() if line.startswith("{")]
    assert any('"event": "sync_attempt"' in line for line in worker_lines)
    assert token not in stack.log("web") + stack.log("worker")


def test_scheduler_service_runs_outside_docker(stack: Stack) -> None:
    known = stack.run(["scim2entra", "--help"])
    if "scheduler" not in known.stdout:
        pytest.xfail("`scim2entra scheduler` is not built yet (issue: full sync)")
    assert stack.run(stack.services["migrate"]["command"]).returncode == 0
    scheduler = stack.start("scheduler")
    stack.healthy("scheduler")
    time.sleep(2)
    assert scheduler.poll() is None, stack.log("scheduler")
