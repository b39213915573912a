"""What people do in the first minutes, in a real browser: sign up, sign out and in, a form
error, inviting a teammate through the mailed link, switching organisation, and the phone menu.

Real clicks and typing with accessible locators (labels, roles, names), waiting on real
navigations and HTMX swaps. The ``visitor`` fixture fails a test whose pages logged a console
error, an uncaught exception or a CSP violation.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.conftest import PHONE, ConsoleWatch, LiveServer, Visitor
from tests.conftest import PASSWORD

with contextlib.suppress(ImportError):  # then the fixtures skip (or, in CI, fail) with the reason
    from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page, Request

pytestmark = pytest.mark.browser


def at(path: str) -> re.Pattern[str]:
    """The page URL is exactly ``path`` on the live server (query string included)."""
    return re.compile(r"^http://127\.0\.0\.1:\d+" + re.escape(path) + "$")


def section(page: Page, heading: str) -> Locator:
    """The card whose heading is ``heading``."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading))


def is_htmx_post(path: str) -> Callable[[Request], bool]:
    """Matches the POST htmx sends to ``path`` (a plain form post would lack HX-Request)."""

    def match(request: Request) -> bool:
        return (
            request.method == "POST"
            and request.url.endswith(path)
            and request.headers.get("hx-request") == "true"
        )

    return match


def expect_dashboard(page: Page, org: str) -> None:
    """The dashboard of ``org``: its heading, the org in the subtitle and in the shell."""
    expect(page).to_have_url(at("/"))
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text(f"What the clusters of {org} leave behind")
    expect(page.get_by_role("banner")).to_contain_text(org)


def fill_sign_up(page: Page, *, email: str, password: str, org: str, name: str = "") -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    if name:
        page.get_by_label("Your name").fill(name)
    page.get_by_label("Organisation name").fill(org)
    page.get_by_role("button", name="Create account").click()


def sign_up(page: Page, *, email: str, org: str) -> None:
    page.goto("/signup")
    fill_sign_up(page, email=email, password=PASSWORD, org=org)
    expect_dashboard(page, org)
    page.wait_for_load_state()  # htmx (deferred) is ready for what comes next


def test_sign_up_sign_out_and_sign_in_again(visitor: Visitor, tmp_path: Path) -> None:
    page = visitor()
    page.goto("/")
    expect(page).to_have_url(at("/signup"))  # nobody has joined this instance yet
    expect(page.get_by_role("heading", name="Create your Leftover account")).to_be_visible()

    fill_sign_up(page, email="ada@example.com", password=PASSWORD, org="Acme", name="Ada")
    expect_dashboard(page, "Acme")
    expect(page.get_by_role("banner")).to_contain_text("Ada")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(at("/signin?notice=signed_out"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_dashboard(page, "Acme")

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 1000


def test_a_too_short_password_shows_the_field_error_and_keeps_the_email(
    visitor: Visitor, console: ConsoleWatch
) -> None:
    page = visitor()
    page.goto("/signup")
    console.expect("status of 422")  # the refused form comes back as 422 Unprocessable Content
    fill_sign_up(page, email="ada@example.com", password="short", org="Acme")

    password = page.get_by_label("Password")
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(re.compile(r"Use at least 10 characters"))
    expect(password).to_have_value("")  # never sent back
    expect(page.get_by_label("Email")).to_have_value("ada@example.com")
    expect(page.get_by_label("Organisation name")).to_have_value("Acme")
    expect(page.get_by_label("Email")).not_to_have_attribute("aria-invalid", "true")

    password.fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect_dashboard(page, "Acme")


def test_invite_a_member_who_joins_through_the_mailed_link(
    visitor: Visitor, live_server: LiveServer
) -> None:
    owner = visitor()
    sign_up(owner, email="owner@example.com", org="Acme")
    owner.get_by_role("navigation", name="Main").get_by_role("link", name="Settings").click()
    expect(owner.get_by_role("heading", name="Settings", level=1)).to_be_visible()
    owner.get_by_role("navigation", name="Settings").get_by_role("link", name="Members").click()
    expect(owner.get_by_role("heading", name="Members", level=1)).to_be_visible()
    owner.wait_for_load_state()

    invite = section(owner, "Invite someone")
    invite.get_by_label("Email").fill("bob@example.com")
    invite.get_by_label("Role").select_option("member")
    with owner.expect_request(is_htmx_post("/settings/members/invite")):
        invite.get_by_role("button", name="Send invitation").click()
    expect(owner.get_by_role("status")).to_contain_text("Invitation sent to bob@example.com.")
    expect(section(owner, "Pending invitations")).to_contain_text("bob@example.com")

    # The local-mode banner leads to the outbox; the invitation carries the link.
    owner.get_by_role("link", name="outbox").click()
    expect(owner.get_by_role("heading", name="Outbox", level=1)).to_be_visible()
    owner.get_by_role("row").filter(has_text="bob@example.com").get_by_role("link").click()
    expect(owner.get_by_role("heading", name=re.compile(r"invited you to Acme"))).to_be_visible()
    link = owner.get_by_role("link", name=f"{live_server.url}/invitations/")
    href = link.get_attribute("href")
    assert href is not None
    assert href.startswith(f"{live_server.url}/invitations/"), href

    bob = visitor()  # someone else, on another machine
    bob.goto(href)
    expect(bob.get_by_role("heading", name="Join Acme")).to_be_visible()
    expect(bob.get_by_role("main")).to_contain_text("bob@example.com")
    bob.get_by_label("Your name").fill("Bob")
    bob.get_by_label("Password").fill(PASSWORD)
    bob.get_by_role("button", name="Create account and join").click()
    expect_dashboard(bob, "Acme")
    expect(bob.get_by_role("banner")).to_contain_text("Member")

    owner.goto("/settings/members")
    row = section(owner, "People in Acme").get_by_role("row").filter(has_text="bob@example.com")
    expect(row).to_contain_text("Bob")
    expect(row.get_by_label("Role")).to_have_value("member")
    expect(section(owner, "Pending invitations")).to_contain_text("No pending invitations.")


def test_switch_organisation_in_the_shell(visitor: Visitor) -> None:
    page = visitor()
    sign_up(page, email="ada@example.com", org="Acme")
    switcher = page.get_by_role("combobox", name="Organisation")
    expect(switcher).to_have_count(0)  # one organisation: its name, nothing to switch

    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    page.wait_for_load_state()
    page.get_by_label("New organisation").fill("Globex")
    with page.expect_request(is_htmx_post("/orgs")):
        page.get_by_role("button", name="Create organisation").click()
    expect_dashboard(page, "Globex")
    expect(page.get_by_role("status")).to_contain_text("Globex is created; you are its owner.")
    expect(switcher.locator("option")).to_have_count(2)
    assert sorted(switcher.locator("option").all_inner_texts()) == ["Acme", "Globex"]
    expect(switcher.locator("option:checked")).to_have_text("Globex")

    # With the pointer, choosing an organisation switches at once (app.js auto-submits).
    page.wait_for_load_state()
    switcher.select_option(label="Acme")
    expect_dashboard(page, "Acme")
    expect(page.get_by_role("status")).to_contain_text("You are now in Acme.")
    expect(switcher.locator("option:checked")).to_have_text("Acme")

    # With the keyboard, type-ahead only selects; the visible button switches.
    page.wait_for_load_state()
    switcher.focus()
    page.keyboard.type("G")
    expect(switcher.locator("option:checked")).to_have_text("Globex")
    expect(page.get_by_role("main")).to_contain_text("What the clusters of Acme")
    page.get_by_role("button", name="Switch organisation").click()
    expect_dashboard(page, "Globex")
    expect(page.get_by_role("status")).to_contain_text("You are now in Globex.")


def test_the_phone_menu_opens_and_reaches_a_section(visitor: Visitor) -> None:
    page = visitor(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_up(page, email="ada@example.com", org="Acme")
    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    page.keyboard.press("Escape")  # closes again, focus back on the toggle
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()

    menu.tap()
    nav.get_by_role("link", name="Findings").tap()
    expect(page).to_have_url(at("/findings"))
    expect(page.get_by_role("heading", name="Findings", level=1)).to_be_visible()
    expect(nav).to_be_hidden()  # a new page starts with the menu closed
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
