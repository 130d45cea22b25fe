"""The dashboard in headless Chromium: both ways to sign in, the overview, an error's detail,
retry after fixing its cause, and the activity chart. A screenshot is kept at every step."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import ADMIN_PASSWORD, ADMIN_ROLE, Live, Shot, sign_in_with_password
from tests.test_scim_users import new_user

ENTRA_BUTTON = "Sign in with Microsoft Entra"


def test_sign_in_with_the_admin_password(live: Live, page: Page, shot: Shot) -> None:
    page.goto(live.base_url + "/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.get_by_role("link", name=ENTRA_BUTTON)).to_be_visible()
    shot("1-login")
    page.get_by_label("Admin password").fill("not-the-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("Wrong password.")
    shot("2-wrong-password")
    page.get_by_label("Admin password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(live.base_url + "/")
    expect(page.get_by_role("heading", name="Provisioning overview")).to_be_visible()
    expect(page.locator("header .who")).to_have_text("admin")
    expect(page.locator("table.counts")).to_contain_text("Users")
    shot("3-overview")


def test_sign_in_with_entra_through_its_login_form(live: Live, page: Page, shot: Shot) -> None:
    user = live.entra.state.seed_user("ada@example.com", displayName="Ada Lovelace",
                                      password="Ada-Passw0rd!")
    admins = live.entra.state.seed_group("scim2entra admins", members=[user["id"]])
    live.app.config["SCIM2ENTRA"]["ADMIN_GROUP"] = admins["id"]  # admin by group this time
    page.goto(live.base_url + "/objects")
    page.get_by_role("link", name=ENTRA_BUTTON).click()
    page.wait_for_url(live.entra.authority_url + "/**")
    shot("1-entra-form")
    page.get_by_label("Username").fill("ada@example.com")
    page.get_by_label("Password").fill("Ada-Passw0rd!")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(live.base_url + "/objects")  # back where the admin wanted to go
    expect(page.locator("header .who")).to_have_text("ada@example.com")
    shot("2-signed-in")


def test_sign_in_with_entra_as_an_app_role_holder(live: Live, page: Page, shot: Shot) -> None:
    live.entra.state.seed_user("grace@example.com")
    live.entra.sign_in_as("grace@example.com", roles=[ADMIN_ROLE])
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.post_data or "") if (
        r.method == "POST" and "/auth/oidc/callback" in r.url) else None)
    page.goto(live.base_url + "/login")
    page.get_by_role("link", name=ENTRA_BUTTON).click()
    page.wait_for_url(live.base_url + "/")
    # Entra's cross-site POST came without the session cookie; our page posted it again.
    assert len(callbacks) == 2 and "s2e_hop=1" in callbacks[1]
    expect(page.get_by_role("heading", name="Provisioning overview")).to_be_visible()
    expect(page.locator("header .who")).to_have_text("grace@example.com")
    shot("1-overview")


def test_entra_user_who_is_no_admin_is_refused(live: Live, page: Page, shot: Shot) -> None:
    live.entra.state.seed_user("mallory@example.com")
    live.entra.sign_in_as("mallory@example.com", roles=["Reader"])
    page.goto(live.base_url + "/login")
    page.get_by_role("link", name=ENTRA_BUTTON).click()
    expect(page.get_by_role("heading", name="Not a scim2entra admin")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("mallory@example.com")
    shot("1-refused")
    page.goto(live.base_url + "/")
    expect(page).to_have_url(re.compile(r"/login"))


def _verify_domain(live: Live, name: str) -> None:
    """What an Entra admin does in the portal: the domain becomes verified."""
    with live.entra.state.lock:
        for domain in live.entra.state.domains:
            if domain["id"] == name:
                domain["isVerified"] = True


def test_error_detail_retry_and_chart(live: Live, page: Page, shot: Shot) -> None:
    created = live.scim.post("/Users", new_user("bob@unverified.example.net"))
    assert created.status_code == 201, created.get_json()
    bob = created.get_json()["id"]
    live.drain()
    assert live.state("user", bob).status == "error"

    sign_in_with_password(page, live)
    errors = page.locator("table.counts a[href*='kind=user'][href*='state=error']")
    expect(errors).to_have_text("1")
    shot("1-overview-with-error")
    errors.click()
    page.get_by_role("link", name="bob@unverified.example.net").click()
    facts = page.locator("table.facts")
    expect(facts).to_contain_text("error")
    expect(facts).to_contain_text("verified domain")
    shot("2-error-detail")

    _verify_domain(live, "unverified.example.net")
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Retry of this user queued.")).to_be_visible()
    shot("3-retry-queued")
    live.drain()
    page.reload()
    expect(facts.locator("td.state-synced")).to_have_text("synced")
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)
    shot("4-synced")
    assert live.entra.state.find_user("bob@unverified.example.net") is not None

    page.goto(live.base_url + "/")
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    heights = chart.locator("rect.attempts").evaluate_all(
        "bars => bars.map(bar => parseFloat(bar.getAttribute('height')))")
    error_heights = chart.locator("rect.errors").evaluate_all(
        "bars => bars.map(bar => parseFloat(bar.getAttribute('height')))")
    assert len(heights) == 24 and max(heights) > 0 and max(error_heights) > 0
    overview = shot("5-overview-chart")
    chart.screenshot(path=str(overview.with_name(overview.name.replace("5-overview-", "6-"))))
