"""Dashboard pages and fragments: what they show, lists with filters / search / paging,
and secrets that never appear in any page."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import ScimClient
from tests.dashboard_support import add_attempt, set_state, signed_in
from tests.test_scim_users import new_user
from webapp.extensions import db
from webapp.models import PlanEntry, SyncControl, utcnow


@pytest.fixture
def admin(client: FlaskClient, app: Flask) -> FlaskClient:
    return signed_in(client, app)


def create_user(scim: ScimClient, name: str) -> str:
    response = scim.post("/Users", new_user(name))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def create_group(scim: ScimClient, name: str) -> str:
    response = scim.post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                     "displayName": name})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def text(response: Any) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return str(response.get_data(as_text=True))


def test_every_page_and_fragment_renders(admin: FlaskClient, app: Flask,
                                         scim: ScimClient) -> None:
    user = create_user(scim, "page@example.com")
    set_state(app, "user", user, "error", last_error="boom", attempts=2)
    add_attempt(app, "user", user, "error", message="boom")
    with app.app_context():
        db.session.add(PlanEntry(kind="user", object_id=user, method="POST", path="/users",
                                 body={"displayName": "Page"}))
        db.session.commit()
    for path in ["/", "/fragments/overview", "/fragments/chart", "/objects",
                 "/objects?kind=group", "/objects?state=error", "/objects?state=skipped",
                 "/fragments/objects?state=error", f"/objects/user/{user}",
                 f"/fragments/objects/user/{user}/state", "/plan", "/preview", "/config",
                 "/tokens"]:
        page = text(admin.get(path))
        assert "</html>" in page or path.startswith("/fragments")


def test_pages_forbid_framing_and_outside_sources(admin: FlaskClient) -> None:
    response = admin.get("/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    page = response.get_data(as_text=True)
    assert "http://" not in page and "https://" not in page  # nothing from a CDN


def test_overview_counts_states_and_shows_queue(admin: FlaskClient, app: Flask,
                                                scim: ScimClient) -> None:
    ids = [create_user(scim, f"u{i}@example.com") for i in range(4)]
    set_state(app, "user", ids[0], "synced", entra_id="e-0")
    set_state(app, "user", ids[1], "error", last_error="bad")
    set_state(app, "user", ids[2], "skipped", skipped_reason="service account")
    # ids[3] has no state: pending
    page = text(admin.get("/fragments/overview"))
    for state, n in (("synced", 1), ("pending", 1), ("error", 1), ("skipped", 1)):
        assert f'kind=user&amp;state={state}">{n}</a>' in page, state
    assert 'id="queue-depth">4<' in page  # four SCIM creates, four sync jobs waiting
    assert "Full sync: never run" in page


def test_overview_shows_pause_banner_with_the_error(admin: FlaskClient, app: Flask) -> None:
    from jobs.sync import control

    with app.app_context():
        control.pause("mapping", mapping="user/10-broken.py", line=2,
                      message="KeyError: 'department'")
    page = text(admin.get("/"))
    assert "Sync paused" in page and "user/10-broken.py" in page and "line 2" in page
    assert "KeyError: &#39;department&#39;" in page


def test_overview_shows_full_sync_progress_and_last_run(admin: FlaskClient,
                                                        app: Flask) -> None:
    with app.app_context():
        db.session.add(SyncControl(key="full_sync", value={
            "run_id": "r2", "state": "running", "started": "2026-11-22T10:00:00+00:00",
            "finished": None, "phases": {"users": {"done": 420, "total": 1000}},
            "error": None}))
        db.session.add(SyncControl(key="full_sync_last", value={
            "run_id": "r1", "state": "failed", "started": "2026-11-22T06:00:00+00:00",
            "finished": "2026-11-22T06:10:00+00:00", "phases": {},
            "error": "credentials refused"}))
        db.session.commit()
    page = text(admin.get("/fragments/overview"))
    assert "users: 420 / 1000" in page and 'value="420"' in page
    assert "Last run: failed" in page and "credentials refused" in page
    assert "never run" not in page


def test_throttling_seen_counts_the_last_day(admin: FlaskClient, app: Flask) -> None:
    add_attempt(app, "user", "a", "retry", message="Throttled: 429 Too Many Requests")
    add_attempt(app, "user", "b", "retry", message="HTTP 429")
    add_attempt(app, "user", "c", "retry", message="Throttled",
                at=utcnow() - timedelta(hours=30))
    add_attempt(app, "user", "d", "error", message="Request_BadRequest")
    page = text(admin.get("/fragments/overview"))
    assert re.search(r'<span class="figure">2</span> attempts met Graph throttling', page)


def test_chart_counts_attempts_and_errors_per_hour(admin: FlaskClient, app: Flask) -> None:
    now = utcnow()
    for _ in range(3):
        add_attempt(app, "user", "x", "synced", at=now)
    add_attempt(app, "user", "x", "error", at=now)
    add_attempt(app, "user", "x", "error", at=now - timedelta(hours=2))
    add_attempt(app, "user", "x", "synced", at=now - timedelta(hours=25))  # out of range
    page = text(admin.get("/fragments/chart"))
    hour = now.strftime("%H:00")
    earlier = (now - timedelta(hours=2)).strftime("%H:00")
    assert f"<title>{hour}: 4 attempts, 1 errors</title>" in page
    assert f"<title>{earlier}: 1 attempts, 1 errors</title>" in page
    assert page.count("<title>") == 24
    assert sum(int(n) for n in re.findall(r": (\d+) attempts", page)) == 5


def test_error_and_skipped_lists_show_reasons(admin: FlaskClient, app: Flask,
                                              scim: ScimClient) -> None:
    bad = create_user(scim, "bad@example.com")
    skipped = create_user(scim, "svc@example.com")
    fine = create_user(scim, "fine@example.com")
    set_state(app, "user", bad, "error", last_error="Domain not verified")
    set_state(app, "user", skipped, "skipped", skipped_reason="service account")
    set_state(app, "user", fine, "synced")
    errors = text(admin.get("/objects?state=error"))
    assert "bad@example.com" in errors and "Domain not verified" in errors
    assert "svc@example.com" not in errors and "fine@example.com" not in errors
    assert "Retry all errors" in errors
    skips = text(admin.get("/objects?state=skipped"))
    assert "svc@example.com" in skips and "service account" in skips
    assert "bad@example.com" not in skips
    create_user(scim, "never@example.com")
    set_state(app, "user", create_user(scim, "retrying@example.com"), "retrying")
    pending = text(admin.get("/objects?state=pending"))
    assert "never@example.com" in pending and "retrying@example.com" in pending
    for other in ("bad@", "svc@", "fine@"):
        assert other not in pending



def test_list_filters_by_kind_and_searches_by_prefix(admin: FlaskClient,
                                                     scim: ScimClient) -> None:
    create_user(scim, "Alice@example.com")
    create_user(scim, "alfred@example.com")
    create_user(scim, "bob@example.com")
    create_user(scim, "al_x@example.com")
    create_group(scim, "Alpha Team")
    found = text(admin.get("/objects?q=AL"))
    assert "Alice@example.com" in found and "alfred@example.com" in found
    assert "bob@example.com" not in found and "Alpha Team" not in found
    # LIKE wildcards in the search are plain characters
    underscore = text(admin.get("/objects?q=al_"))
    assert "al_x@example.com" in underscore and "alfred@example.com" not in underscore
    groups = text(admin.get("/objects?kind=group&q=alp"))
    assert "Alpha Team" in groups and "Alice" not in groups


def test_list_pages_forward_and_back_without_gaps(admin: FlaskClient, app: Flask) -> None:
    from scim import store
    from scim.schemas import USER

    with app.app_context():
        for i in range(120):
            store.write(USER, None, new_user(f"user{i:03d}@example.com"))
        db.session.commit()
    seen: list[str] = []
    url: str | None = "/objects"
    pages = []
    while url:
        page = text(admin.get(url))
        pages.append(url)
        seen += re.findall(r">(user\d{3}@example.com)</a>", page)
        found = re.search(r'<a rel="next" href="([^"]+)"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(pages) == 3
    assert seen == sorted(f"user{i:03d}@example.com" for i in range(120))
    last = text(admin.get(pages[-1]))
    back = re.search(r'<a rel="prev" href="([^"]+)"', last)
    assert back is not None
    middle = text(admin.get(back.group(1).replace("&amp;", "&")))
    assert re.findall(r">(user\d{3}@example.com)</a>", middle) == seen[50:100]


@pytest.mark.parametrize("query", ["kind=robot", "state=weird", "q=" + "x" * 300])
def test_bad_list_filters_are_a_clear_400(admin: FlaskClient, query: str) -> None:
    response = admin.get(f"/objects?{query}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "must be" in page or "limited to" in page
    assert "Sign out" in page  # the dashboard's own page, not a bare error


def test_plan_page_rejects_a_bad_cursor(admin: FlaskClient) -> None:
    assert admin.get("/plan?before=abc").status_code == 400


def test_object_page_shows_data_state_payload_and_attempts(admin: FlaskClient, app: Flask,
                                                           scim: ScimClient) -> None:
    user = create_user(scim, "obj@example.com")
    set_state(app, "user", user, "error", entra_id="entra-123", last_error="Graph said no",
              attempts=3)
    add_attempt(app, "user", user, "error", message="Graph said no")
    page = text(admin.get(f"/objects/user/{user}"))
    assert "obj@example.com" in page and "entra-123" in page and "Graph said no" in page
    assert '"userPrincipalName": "obj@example.com"' in page  # mapped payload
    assert '"userName": "obj@example.com"' in page  # SCIM data
    assert "Retry" in page and "Sync now" in page


def test_unknown_object_is_404(admin: FlaskClient) -> None:
    assert admin.get("/objects/user/no-such-id").status_code == 404
    assert admin.get("/objects/robot/x").status_code == 404


def test_plan_page_lists_planned_writes(admin: FlaskClient, app: Flask) -> None:
    with app.app_context():
        for i in range(55):
            db.session.add(PlanEntry(kind="user", object_id=f"id-{i}", method="PATCH",
                                     path=f"/users/e-{i}", body={"n": i}))
        db.session.commit()
    page = text(admin.get("/plan"))
    # newest first, 50 a page: e-54 … e-5 here, e-4 … e-0 on the next
    assert "PATCH /users/e-54</code>" in page and "PATCH /users/e-5</code>" in page
    assert "PATCH /users/e-4</code>" not in page
    older = re.search(r'<a rel="next" href="([^"]+)"', page)
    assert older is not None
    rest = text(admin.get(older.group(1)))
    assert "PATCH /users/e-4</code>" in rest and "PATCH /users/e-0</code>" in rest
    assert "/users/e-54" not in rest and "older" not in rest


SECRET_VALUES = {"CLIENT_SECRET": "client-secret-value-9f8e",
                 "ADMIN_PASSWORD": "admin-password-value-7d6c"}


def test_configuration_page_shows_settings_but_never_secrets(admin: FlaskClient,
                                                             app: Flask) -> None:
    app.config["SCIM2ENTRA"].update(TENANT_ID="tenant-abc", CLIENT_ID="client-def",
                                    CLIENT_SECRET=SECRET_VALUES["CLIENT_SECRET"])
    page = text(admin.get("/config"))
    assert "tenant-abc" in page and "client-def" in page
    assert re.search(r"SCIM2ENTRA_CLIENT_SECRET</th><td class=\"secret\">set<", page)
    assert SECRET_VALUES["CLIENT_SECRET"] not in page
    assert "test-secret-key" not in page
    assert "user/10-default.py" in page or "10-default" in page  # mappings in use


def test_secrets_never_appear_in_any_page(client: FlaskClient, app: Flask,
                                          scim: ScimClient) -> None:
    admin = signed_in(client, app)
    app.config["SCIM2ENTRA"]["ADMIN_PASSWORD"] = SECRET_VALUES["ADMIN_PASSWORD"]
    app.config["SCIM2ENTRA"]["CLIENT_SECRET"] = SECRET_VALUES["CLIENT_SECRET"]
    user = create_user(scim, "sec@example.com")
    scim.patch(f"/Users/{user}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                  "Operations": [{"op": "replace", "path": "password",
                                                  "value": "Scim-Secret-Passw0rd!"}]})
    secrets = [*SECRET_VALUES.values(), "test-secret-key", "Scim-Secret-Passw0rd!",
               scim.headers["Authorization"].removeprefix("Bearer ")]
    for path in ["/", "/fragments/overview", "/objects", f"/objects/user/{user}", "/plan",
                 "/config", "/tokens", "/fragments/chart"]:
        page = text(admin.get(path))
        for secret in secrets:
            assert secret not in page, (path, secret)
    preview = admin.post("/preview", data={"kind": "user", "ident": user,
                                           "csrf_token": re.search(
                                               r'name="csrf_token" value="([^"]+)"',
                                               text(admin.get("/preview"))).group(1)})
    for secret in secrets:
        assert secret not in text(preview)
