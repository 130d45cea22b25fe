"""Run modes: the RQ worker on real Redis, the embedded queue, and `scim2entra run`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.test_scim_users import new_user
from webapp.extensions import db
from webapp.models import SyncState


def states(app: Any) -> list[tuple[str, str, str]]:
    with app.app_context():
        db.session.expire_all()
        rows = db.session.scalars(select(SyncState)).all()
        return [(r.kind, r.object_id, r.status) for r in rows]


def test_worker_burst_runs_the_enqueued_job(app: Any, scim: Any, runner: Any) -> None:
    user_id = scim.post("/Users", new_user()).get_json()["id"]
    assert states(app) == []
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    # No tenant credentials: dry-run, so the create is planned, not sent.
    assert states(app) == [("user", user_id, "planned")]
    from jobs.queue import handle
    from webapp.models import PlanEntry

    with app.app_context():
        assert handle(app).queue.count == 0
        plans = db.session.scalars(select(PlanEntry)).all()
        assert [(p.method, p.path) for p in plans] == [("POST", "/users")]
        assert plans[0].body["passwordProfile"]["password"] == "***"


def test_embedded_queue_runs_jobs_in_process(database_url: str, tmp_path: Any) -> None:
    from jobs.queue import handle
    from jobs.worker import start_embedded
    from tests.conftest import ScimClient, _empty_tables, make_app
    from webapp.tokens import create_token

    app = make_app(database_url, None, str(tmp_path))
    _empty_tables(app)
    assert handle(app).embedded
    start_embedded(app)
    with app.app_context():
        scim = ScimClient(app.test_client(), create_token("embedded"))
    user_id = scim.post("/Users", new_user()).get_json()["id"]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not states(app):
        time.sleep(0.05)
    assert states(app) == [("user", user_id, "planned")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_command_serves_scim_with_first_token(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCIM2ENTRA_")}
    env["SCIM2ENTRA_INSTANCE_PATH"] = str(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "webapp", "run", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        lines = []
        assert proc.stdout is not None
        while not any(line.startswith("s2e_") for line in lines):
            line = proc.stdout.readline()
            assert line, "run exited early:\n" + "".join(lines)
            lines.append(line)
        token = next(line.strip() for line in lines if line.startswith("s2e_"))
        assert any(f"http://127.0.0.1:{port}" in line for line in lines)
        assert any("dry-run" in line for line in lines)
        base = f"http://127.0.0.1:{port}"
        _wait_for(base + "/healthz")
        headers = {"Authorization": f"Bearer {token}"}
        created = httpx.post(f"{base}/scim/v2/Users", json=new_user(), headers=headers)
        assert created.status_code == 201
        assert httpx.get(f"{base}/readyz").status_code == 200
        assert (tmp_path / "scim2entra.db").exists()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
