"""Do the dashboard's lists stay fast with 100k objects? (prints, asserts nothing)

    python bench/dashboard_lists.py [--objects 100000] [--rounds 15] [--dialect postgresql]

Seeds N users with sync states (90% synced, 5% error, 3% skipped, 2% never synced) by bulk
insert into a scratch PostgreSQL schema (or a SQLite file), then renders pages through the
Flask test client, signed in. Prints the median ms per page and its ratio to a baseline from
the same run: an empty list page (a search that matches nothing), i.e. the fixed cost of a
request, the sign-in check and the template.
Environment: SCIM2ENTRA_TEST_PG_URL, SCIM2ENTRA_TEST_REDIS_URL (the test suite's defaults).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from sqlalchemy import create_engine, insert, text

PG_URL = os.environ.get("SCIM2ENTRA_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SCIM2ENTRA_TEST_REDIS_URL", "redis://127.0.0.1:6379") + "/7"
CHUNK = 5000


def status_of(i: int) -> str | None:
    slot = i % 100
    if slot < 5:
        return "error"
    if slot < 8:
        return "skipped"
    if slot < 10:
        return None
    return "synced"


def seed(app: Any, count: int) -> None:
    from webapp.extensions import db
    from webapp.models import ScimUser, SyncState, utcnow

    now = utcnow()
    with app.app_context():
        for start in range(0, count, CHUNK):
            users, states = [], []
            for i in range(start, min(start + CHUNK, count)):
                object_id = str(uuid.UUID(int=i))
                name = f"user.{i:06d}@example.com"
                users.append({"id": object_id, "user_name": name, "user_name_key": name,
                              "display_name": f"User {i}", "active": True, "version": 1,
                              "data": {"userName": name}, "created": now,
                              "last_modified": now})
                status = status_of(i)
                if status is not None:
                    states.append({
                        "kind": "user", "object_id": object_id, "status": status,
                        "entra_id": str(uuid.uuid4()) if status == "synced" else None,
                        "last_error": "Property userPrincipalName is invalid"
                        if status == "error" else None,
                        "skipped_reason": "service account" if status == "skipped" else None,
                        "attempts": 0, "deleted_locally": False, "create_attempted": False,
                        "updated_at": now})
            db.session.execute(insert(ScimUser), users)
            db.session.execute(insert(SyncState), states)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()


def timed(client: Any, url: str, rounds: int) -> float:
    response = client.get(url)  # warm-up (and a check that the page works)
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def pages(count: int) -> list[tuple[str, str]]:
    middle = f"user.{count // 2:06d}@example.com"
    return [
        ("first page, all users", "/objects"),
        ("middle page (keyset)", f"/objects?after={middle}"),
        ("search 'user.05' (prefix)", "/objects?q=user.05"),
        ("errors, first page", "/objects?state=error"),
        ("errors, middle page", f"/objects?state=error&after={middle}"),
        ("never synced (pending)", "/objects?state=pending"),
        ("overview (counts)", "/"),
        ("overview fragment", "/fragments/overview"),
    ]


def run(database_url: str, count: int, rounds: int) -> None:
    from webapp import create_app
    from webapp.store import upgrade_database

    instance = tempfile.mkdtemp(prefix="s2e-bench-")
    app = create_app({"DATABASE_URL": database_url, "REDIS_URL": REDIS_URL,
                      "QUEUE_NAME": f"s2e-bench-{uuid.uuid4().hex[:8]}",
                      "SECRET_KEY": "bench", "INSTANCE_PATH": instance})
    upgrade_database(app)
    started = time.perf_counter()
    seed(app, count)
    print(f"seeded {count} users + states in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    with client.session_transaction() as session:
        session["admin"] = {"name": "bench", "method": "password", "at": "now"}
    base = timed(client, "/objects?q=zzz-matches-nothing", rounds)
    print(f"{'baseline: empty list page':32} {base:8.2f} ms   1.00x")
    for label, url in pages(count):
        ms = timed(client, url, rounds)
        print(f"{label:32} {ms:8.2f} ms {ms / base:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--dialect", choices=["postgresql", "sqlite"], default="postgresql")
    args = parser.parse_args()
    if args.dialect == "sqlite":
        folder = tempfile.mkdtemp(prefix="s2e-bench-db-")
        run(f"sqlite:///{folder}/bench.db", args.objects, args.rounds)
        return
    schema = f"s2e_bench_{uuid.uuid4().hex[:10]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        run(f"{PG_URL}?options=-csearch_path%3D{schema}", args.objects, args.rounds)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
