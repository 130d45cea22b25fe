"""Dashboard actions (retry, sync now, retry all errors, full sync, preview, tokens): each
changes what it should, forged forms change nothing, and SCIM still needs no CSRF token."""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import ScimClient
from tests.dashboard_support import csrf_from, job_ids, post_form, set_state, signed_in
from tests.test_dashboard_pages import create_user, text
from tests.test_sync_mappings import mappings_dir
from tests.test_sync_users import create
from webapp.extensions import db
from webapp.models import ScimToken, SyncState


@pytest.fixture
def admin(client: FlaskClient, app: Flask) -> FlaskClient:
    return signed_in(client, app)


def drop_jobs(app: Flask) -> None:
    from tests.conftest import reset_queue

    reset_queue(app)


def forget_full_sync(app: Flask) -> None:
    """Job ids are global in a Redis database: drop a "full-sync" record other tests left."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from jobs.queue import handle

    with contextlib.suppress(NoSuchJobError):
        Job.fetch("full-sync", connection=handle(app).redis).delete()


def state_of(app: Flask, kind: str, object_id: str) -> SyncState:
    with app.app_context():
        db.session.expire_all()
        found = db.session.scalar(select(SyncState).where(
            SyncState.kind == kind, SyncState.object_id == object_id))
        assert found is not None
        db.session.expunge(found)
        return found


def test_sync_now_enqueues_the_object_and_resets_attempts(admin: FlaskClient, app: Flask,
                                                          scim: ScimClient) -> None:
    user = create_user(scim, "now@example.com")
    set_state(app, "user", user, "error", last_error="x", attempts=5)
    drop_jobs(app)
    response = post_form(admin, f"/actions/sync/user/{user}", {"mode": "retry"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/objects/user/{user}"
    assert job_ids(app) == [f"sync-user-{user}"]
    assert state_of(app, "user", user).attempts == 0
    assert "Retry of this user queued" in text(admin.get(response.headers["Location"]))


def test_sync_now_of_a_deleted_object_carries_its_entra_id(admin: FlaskClient,
                                                           app: Flask) -> None:
    set_state(app, "user", "gone-id", "error", entra_id="entra-gone", deleted_locally=True)
    post_form(admin, "/actions/sync/user/gone-id")
    from rq.job import Job

    from jobs.queue import handle

    job = Job.fetch("sync-user-gone-id", connection=handle(app).redis)
    assert job.args == ("user", "gone-id", "entra-gone")


def test_sync_now_of_an_unknown_object_is_404(admin: FlaskClient, app: Flask) -> None:
    assert post_form(admin, "/actions/sync/user/nobody").status_code == 404
    assert job_ids(app) == []


def test_retry_all_errors_enqueues_every_error(admin: FlaskClient, app: Flask,
                                               scim: ScimClient) -> None:
    errors = [create_user(scim, f"err{i}@example.com") for i in range(3)]
    fine = create_user(scim, "fine@example.com")
    for object_id in errors:
        set_state(app, "user", object_id, "error", last_error="x", attempts=4)
    set_state(app, "user", fine, "synced")
    set_state(app, "group", "g-1", "error", last_error="y", entra_id="eg",
              deleted_locally=True)
    drop_jobs(app)
    response = post_form(admin, "/actions/retry-errors")
    assert response.status_code == 302
    assert sorted(job_ids(app)) == sorted([f"sync-user-{i}" for i in errors] + ["sync-group-g-1"])
    assert all(state_of(app, "user", i).attempts == 0 for i in errors)
    assert "4 objects in error queued" in text(admin.get(response.headers["Location"]))


def test_full_sync_is_queued_once(admin: FlaskClient, app: Flask) -> None:
    from rq.job import Job

    from jobs.queue import handle

    drop_jobs(app)
    forget_full_sync(app)
    first = post_form(admin, "/actions/full-sync")
    assert first.status_code == 302
    assert job_ids(app) == ["full-sync"]
    job = Job.fetch("full-sync", connection=handle(app).redis)
    assert job.func_name == "jobs.tasks.full_sync"
    assert "Full sync queued" in text(admin.get("/"))
    post_form(admin, "/actions/full-sync")
    assert job_ids(app) == ["full-sync"]
    assert "already queued or running" in text(admin.get("/"))


def test_a_failed_full_sync_does_not_block_the_next(admin: FlaskClient, app: Flask) -> None:
    from rq.job import Job, JobStatus

    from jobs.queue import handle

    drop_jobs(app)
    forget_full_sync(app)
    queue = handle(app).queue
    post_form(admin, "/actions/full-sync")
    # what a worker leaves behind when the run fails: the record, kept for failure_ttl
    job = Job.fetch("full-sync", connection=queue.connection)
    queue.remove(job)
    job.set_status(JobStatus.FAILED)
    assert job_ids(app) == []
    post_form(admin, "/actions/full-sync")
    assert job_ids(app) == ["full-sync"]
    assert "Full sync queued" in text(admin.get("/"))


@pytest.mark.parametrize("path", ["/actions/sync/user/{id}", "/actions/retry-errors",
                                  "/actions/full-sync"])
def test_forged_action_without_csrf_token_is_rejected(admin: FlaskClient, app: Flask,
                                                      scim: ScimClient, path: str) -> None:
    user = create_user(scim, "forged@example.com")
    set_state(app, "user", user, "error", attempts=3)
    drop_jobs(app)
    response = admin.post(path.format(id=user), data={"mode": "retry"})
    assert response.status_code == 400
    assert "Form expired or forged" in response.get_data(as_text=True)
    assert job_ids(app) == []
    assert state_of(app, "user", user).attempts == 3


def test_csrf_token_of_another_session_is_rejected(admin: FlaskClient, app: Flask) -> None:
    other = signed_in(app.test_client(), app)
    foreign = csrf_from(text(other.get("/")))
    drop_jobs(app)
    assert admin.post("/actions/full-sync", data={"csrf_token": foreign}).status_code == 400
    assert job_ids(app) == []


def test_forged_token_forms_change_nothing(admin: FlaskClient, app: Flask, token: str) -> None:
    assert admin.post("/tokens", data={"name": "forged"}).status_code == 400
    with app.app_context():
        names = set(db.session.scalars(select(ScimToken.name)))
    assert "forged" not in names
    victim = next(iter(names))
    assert admin.post("/tokens/revoke", data={"name": victim}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(ScimToken).where(ScimToken.name == victim))


def test_scim_and_health_need_no_csrf_token(client: FlaskClient, scim: ScimClient) -> None:
    assert scim.post("/Users", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                                "userName": "nocsrf@example.com"}).status_code == 201
    assert client.get("/healthz").status_code == 200


def test_new_token_is_shown_once_and_works(admin: FlaskClient, app: Flask) -> None:
    response = post_form(admin, "/tokens", {"name": "okta"}, page="/tokens")
    page = text(response)
    assert response.headers["Cache-Control"] == "no-store"
    found = re.search(r'<code class="token">(s2e_[^<]+)</code>', page)
    assert found is not None
    new_token = found.group(1)
    assert new_token not in text(admin.get("/tokens"))  # never again
    with admin.session_transaction() as session:
        assert new_token not in str(dict(session))
    scim = ScimClient(app.test_client(), new_token)
    assert scim.get("/Users").status_code == 200
    # revoke: the token stops working
    revoked = post_form(admin, "/tokens/revoke", {"name": "okta"}, page="/tokens")
    assert revoked.status_code == 302
    after = text(admin.get("/tokens"))
    assert "Token &#39;okta&#39; revoked" in after and 'value="okta"' not in after
    assert scim.get("/Users").status_code == 401


def test_token_errors_are_clear(admin: FlaskClient) -> None:
    post_form(admin, "/tokens", {"name": "dup"}, page="/tokens")
    again = post_form(admin, "/tokens", {"name": "dup"}, page="/tokens")
    assert again.status_code == 400 and "exists already" in again.get_data(as_text=True)
    empty = post_form(admin, "/tokens", {"name": "  "}, page="/tokens")
    assert empty.status_code == 400 and "needs a name" in empty.get_data(as_text=True)
    missing = post_form(admin, "/tokens/revoke", {"name": "nope"}, page="/tokens")
    assert missing.status_code == 404 and "no token named" in missing.get_data(as_text=True)


def preview(admin: FlaskClient, kind: str, ident: str) -> Any:
    return post_form(admin, "/preview", {"kind": kind, "ident": ident}, page="/preview")


def reload_mappings(app: Flask, root: Path) -> None:
    from jobs.sync.context import EXTENSION

    app.config["SCIM2ENTRA"]["MAPPINGS_DIR"] = str(root)
    app.extensions.pop(EXTENSION, None)


def test_preview_shows_the_payload_by_name_or_id(admin: FlaskClient, scim: ScimClient) -> None:
    user = create_user(scim, "Prev@example.com")
    by_name = text(preview(admin, "user", "prev@EXAMPLE.com"))
    assert '"userPrincipalName": "Prev@example.com"' in by_name
    assert f'href="/objects/user/{user}"' in by_name
    assert '"userPrincipalName"' in text(preview(admin, "user", user))


def test_preview_shows_the_skip_reason(admin: FlaskClient, app: Flask, scim: ScimClient,
                                       tmp_path: Path) -> None:
    skip = ('if request.user.username.startswith("test-"):\n'
            '    raise SkipObject("test accounts stay out of Entra")\n'
            'return None\n')
    root = mappings_dir(tmp_path, **{"20_skip": skip})
    shutil.copytree(Path("mappings/defaults/user"), root / "user", dirs_exist_ok=True)
    reload_mappings(app, root)
    create_user(scim, "test-bot@example.com")
    page = text(preview(admin, "user", "test-bot@example.com"))
    assert "Skipped" in page and "test accounts stay out of Entra" in page


def test_preview_shows_the_mapping_error(admin: FlaskClient, app: Flask, scim: ScimClient,
                                         tmp_path: Path) -> None:
    broken = 'user = {"display_name": request.user.name}\nreturn user["department"]\n'
    reload_mappings(app, mappings_dir(tmp_path, **{"10_broken": broken}))
    create_user(scim, "err@example.com")
    page = text(preview(admin, "user", "err@example.com"))
    assert "Mapping configuration error" in page and "10-broken.py" in page
    assert "line 2" in page


def test_preview_of_an_unknown_object_says_so(admin: FlaskClient) -> None:
    response = preview(admin, "user", "nobody@example.com")
    assert response.status_code == 404
    assert "No user with the id or name" in response.get_data(as_text=True)
    assert preview(admin, "robot", "x").status_code == 400


def test_retry_from_the_dashboard_syncs_a_real_object(sync: Any) -> None:
    """End to end: an error from the emulator, shown, retried from the page, synced."""
    app = sync.app
    admin = signed_in(app.test_client(), app)
    user = create(sync, "retry@unverified.example.net")
    sync.drain()
    assert sync.state("user", user).status == "error"
    errors = text(admin.get("/objects?state=error"))
    assert "retry@unverified.example.net" in errors
    # the admin verifies the domain in Entra, then retries from the object page
    for domain in sync.entra.state.domains:
        if domain["id"] == "unverified.example.net":
            domain["isVerified"] = True
    sync.configure()  # verified domains are cached for ten minutes; a restart re-reads them
    page = text(admin.get(f"/objects/user/{user}"))
    form_token = csrf_from(page)
    response = admin.post(f"/actions/sync/user/{user}",
                          data={"mode": "retry", "csrf_token": form_token})
    assert response.status_code == 302
    sync.drain()
    state = sync.state("user", user)
    assert state.status == "synced", state.last_error
    page = text(admin.get(f"/objects/user/{user}"))
    assert state.entra_id in page
