"""Browser end-to-end fixtures: the app served over HTTP, driven by headless Chromium.

Playwright for Python drives Debian's Chromium (/usr/bin/chromium, installed by
scripts/chromium); it never downloads a browser of its own. The app runs in werkzeug's server
in a thread, wired to the Entra emulator like the `sync` fixture, on PostgreSQL (the browser
is what these tests are about; the store is covered on both dialects elsewhere).
Screenshots of every step go to test-artifacts/e2e/ (gitignored, kept by CI as artifacts).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from tests.conftest import SyncHarness, _empty_tables, emulator_config, make_app, reset_queue
from tests.emulator.server import EntraEmulator

CHROMIUM = os.environ.get("SCIM2ENTRA_TEST_CHROMIUM", "/usr/bin/chromium")
APP_HOST = "scim2entra.localhost"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-proxy-server",
    # The dashboard gets a host name of its own, so the emulator (127.0.0.1) is another site
    # to the browser, as login.microsoftonline.com is in production (SameSite cookies). A
    # *.localhost name is a secure context like the production https site: a plain http name
    # would get Chrome's "form is not secure" warning on Entra's form_post.
    f"--host-resolver-rules=MAP {APP_HOST} 127.0.0.1",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
ADMIN_PASSWORD = "e2e-admin-Passw0rd"
ADMIN_ROLE = "Scim2Entra.Admin"
CALL_FAILED = pytest.StashKey[bool]()


class Live(SyncHarness):
    """A SyncHarness whose app is also served over HTTP at `base_url`."""

    base_url: str


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed


@pytest.fixture
def page(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    """A fresh Chromium with a fresh profile (user-data-dir) per test.

    Playwright is started per test on purpose: while its sync API is active the thread has a
    running asyncio loop, so asyncio.run() in other tests of this worker process would fail.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run scripts/chromium")
    with sync_playwright() as driver:
        # The emulator's authority is HTTPS with a test CA the browser does not know; only
        # this test browser ignores that.
        context = driver.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, ignore_https_errors=True,
            viewport={"width": 1280, "height": 900})
        context.set_default_timeout(15_000)
        page = context.pages[0] if context.pages else context.new_page()
        yield page
        if request.node.stash.get(CALL_FAILED, False):  # what the browser showed at failure
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            page.screenshot(path=str(ARTIFACTS / f"{name}-FAILED.png"), full_page=True)
        context.close()


Shot = Callable[[str], Path]


@pytest.fixture
def shot(page: Page, request: pytest.FixtureRequest) -> Shot:
    """`shot("2-detail")` saves a full-page screenshot of this step of the test."""
    prefix = re.sub(r"[^\w.-]+", "_", request.node.name)

    def save(step: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{prefix}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save


@pytest.fixture
def live(pg_schema_url: str, redis_url: str, entra: EntraEmulator, tmp_path: Any
         ) -> Iterator[Live]:
    from webapp.extensions import db
    from webapp.tokens import create_token

    app = make_app(pg_schema_url, redis_url, str(tmp_path), **emulator_config(entra),
                   ADMIN_PASSWORD=ADMIN_PASSWORD, ADMIN_ROLE=ADMIN_ROLE)
    _empty_tables(app)
    reset_queue(app)
    with app.app_context():
        token = create_token("e2e")
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-app", daemon=True)
    thread.start()
    harness = Live(app, entra, token)
    harness.base_url = f"http://{APP_HOST}:{server.server_port}"
    try:
        yield harness
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def sign_in_with_password(page: Page, live: Live) -> None:
    page.goto(live.base_url + "/")
    page.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(live.base_url + "/")
