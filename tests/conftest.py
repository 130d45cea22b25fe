"""Fixtures: app → client → runner (flaskr's chain), on SQLite and on PostgreSQL, real Redis.

PostgreSQL and Redis are real servers (127.0.0.1). Each test session gets its own
PostgreSQL schema and Redis database per xdist worker, and every test starts from empty tables.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

pytest_plugins = ["tests.emulator.fixture"]

PG_URL = os.environ.get("SCIM2ENTRA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_BASE = os.environ.get("SCIM2ENTRA_TEST_REDIS_URL", "redis://127.0.0.1:6379")
DIALECTS = os.environ.get("SCIM2ENTRA_TEST_DIALECTS", "sqlite,postgresql").split(",")


# One queue name per test process: runs sharing the Redis server never see each other's jobs
# (job ids and lock keys carry object UUIDs, so they cannot collide either).
QUEUE_NAME = f"s2e-test-{uuid.uuid4().hex[:8]}"


def reset_queue(app: Flask) -> None:
    """Empty this run's queue and its registries (never FLUSHDB: other runs share Redis)."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from jobs.queue import handle

    queue = handle(app).queue
    queue.empty()
    for registry in (queue.scheduled_job_registry, queue.failed_job_registry,
                     queue.started_job_registry, queue.deferred_job_registry,
                     queue.finished_job_registry, queue.canceled_job_registry):
        for job_id in registry.get_job_ids():
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(job_id, connection=queue.connection).delete()
            # RQ 3's started registry refuses remove(); take the entry out by hand.
            queue.connection.zrem(registry.key, job_id)
    # The tenant facts workers share (each test's emulator tenant may differ).
    from jobs.sync.context import domains_key

    queue.connection.delete(domains_key(QUEUE_NAME))


def forget_mirrors(app: Flask) -> None:
    """The Entra objects full syncs keep between runs (each test's tenant starts empty)."""
    from jobs.queue import handle

    redis = handle(app).redis
    for key in redis.scan_iter(match=f"scim2entra:{QUEUE_NAME}:fullsync:mirror:*"):
        redis.delete(key)


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


@pytest.fixture(scope="session")
def redis_url() -> str:
    # Databases 8..15: one per xdist worker, away from anything using database 0.
    url = f"{REDIS_BASE}/{8 + _worker_index() % 8}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS_BASE}: {exc}")
    return url


@contextlib.contextmanager
def pg_schema(prefix: str) -> Iterator[str]:
    """A new PostgreSQL schema, dropped afterwards; yields the URL of connections in it."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_URL}: {exc}")
    try:
        # psycopg passes `options` to the server: every connection works inside the schema.
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    with pg_schema("s2e_test") as url:
        yield url


def _empty_tables(app: Flask) -> None:
    from webapp.extensions import db

    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        db.session.commit()


_migrated: dict[str, bool] = {}


def make_app(database_url: str, redis_url: str | None, instance: str, **extra: Any) -> Flask:
    from webapp import create_app
    from webapp.store import upgrade_database

    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret-key",
        "QUEUE_NAME": QUEUE_NAME,
        "INSTANCE_PATH": instance,
        **extra,
    }
    app = create_app(config)
    if not _migrated.get(database_url):
        upgrade_database(app)
        _migrated[database_url] = True
    return app


def close_app(app: Flask) -> None:
    """A test's app lets go of its database connections (every fixture building one)."""
    from webapp.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                 ) -> str:
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_schema_url")
        return url
    folder = tmp_path_factory.getbasetemp() / "sqlite"
    folder.mkdir(exist_ok=True)
    return f"sqlite:///{folder / 'store.db'}"


@pytest.fixture
def app(database_url: str, redis_url: str, tmp_path: Any) -> Iterator[Flask]:
    app = make_app(database_url, redis_url, str(tmp_path))
    _empty_tables(app)
    reset_queue(app)
    yield app
    close_app(app)


@pytest.fixture
def graph(entra: Any) -> Iterator[Any]:
    """The Graph boundary on the emulator, for the tests of jobs/graph."""
    from tests.test_graph_support import open_boundary

    yield from open_boundary(entra)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def token(app: Flask) -> str:
    from webapp.tokens import create_token

    with app.app_context():
        return create_token(f"test-{uuid.uuid4().hex[:6]}")


@pytest.fixture
def scim(client: FlaskClient, token: str) -> ScimClient:
    return ScimClient(client, token)


class ScimClient:
    """The test client with the bearer token and SCIM content type filled in."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        headers = {**self.headers, **kw.pop("headers", {})}
        if body is not None:
            kw["json"] = body
            headers.setdefault("Content-Type", "application/scim+json")
        return self.client.open(f"/scim/v2{path}", method=method, headers=headers, **kw)

    def get(self, path: str, **kw: Any) -> Any:
        return self.call("GET", path, **kw)

    def post(self, path: str, body: Any, **kw: Any) -> Any:
        return self.call("POST", path, body, **kw)

    def put(self, path: str, body: Any, **kw: Any) -> Any:
        return self.call("PUT", path, body, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> Any:
        return self.call("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Any:
        return self.call("DELETE", path, **kw)


# --- sync against the Entra emulator -------------------------------------------------------

def emulator_config(entra: Any) -> dict[str, str]:
    """The emulator's SCIM2ENTRA_* variables as create_app() overrides."""
    return {key.removeprefix("SCIM2ENTRA_"): value for key, value in entra.env().items()}


class SyncHarness:
    """An app wired to the emulator, its SCIM client, and a way to run the workers dry."""

    def __init__(self, app: Flask, entra: Any, token: str) -> None:
        self.app = app
        self.entra = entra
        self.scim = ScimClient(app.test_client(), token)

    def drain(self, max_wait: float = 30.0) -> None:
        from jobs.worker import drain

        drain(self.app, max_wait=max_wait)

    def state(self, kind: str, object_id: str) -> Any:
        from sqlalchemy import select

        from webapp.extensions import db
        from webapp.models import SyncState

        with self.app.app_context():
            db.session.expire_all()
            return db.session.scalar(select(SyncState).where(
                SyncState.kind == kind, SyncState.object_id == object_id))

    def configure(self, **settings: Any) -> None:
        """Change SCIM2ENTRA settings for the next jobs (as a restart with them would)."""
        from jobs.sync.context import EXTENSION

        self.app.config["SCIM2ENTRA"].update(settings)
        if "DRY_RUN" in settings:
            self.app.config["DRY_RUN"] = settings["DRY_RUN"] in (True, "true")
        self.app.extensions.pop(EXTENSION, None)


@pytest.fixture
def sync(database_url: str, redis_url: str, entra: Any, tmp_path: Any) -> Iterator[SyncHarness]:
    from webapp.tokens import create_token

    app = make_app(database_url, redis_url, str(tmp_path), **emulator_config(entra))
    _empty_tables(app)
    reset_queue(app)
    forget_mirrors(app)
    with app.app_context():
        token = create_token("sync-test")
    yield SyncHarness(app, entra, token)
    close_app(app)
