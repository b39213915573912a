"""The Monday journey on the demo organisation, in a real browser: open its dashboard, narrow
the findings explorer (the table updates in place and the URL follows), open the costliest
finding, ignore it, and see the dashboard's total drop by exactly its cost.

The demo organisation is seeded by the real seeder (the engine run on generated clusters), so
the pages show what `leftover demo` shows."""

from __future__ import annotations

import contextlib
import re
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from app.db import utcnow
from app.demo.seed import DEMO_ORG_NAME, seed_demo
from tests.browser.conftest import LiveServer, Visitor
from tests.browser.test_journeys import at, sign_up

with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def dollars(text: str) -> Decimal:
    """``"$1,234.56"`` (anywhere in ``text``) as a Decimal."""
    match = re.search(r"\$([0-9,]+(?:\.[0-9]+)?)", text)
    assert match, text
    return Decimal(match[1].replace(",", ""))


def waste_now(page: Page) -> Decimal:
    return dollars(page.locator("#waste-now").inner_text())


def test_demo_dashboard_filter_open_ignore_and_the_total_drops(
    visitor: Visitor, live_server: LiveServer
) -> None:
    page = visitor()
    sign_up(page, email="ada@example.com", org="Acme")
    report = seed_demo(live_server.app.state.sessionmaker, clusters=3, days=14, now=utcnow())
    assert report.members == ["ada@example.com"]

    page.reload()
    page.wait_for_load_state()
    page.get_by_role("combobox", name="Organisation").select_option(label=DEMO_ORG_NAME)
    expect(page.get_by_role("main")).to_contain_text(f"What the clusters of {DEMO_ORG_NAME}")
    expect(page.get_by_text("Demo organisation — generated data").first).to_be_visible()
    before = waste_now(page)
    assert before > 0
    expect(page.locator("svg").first).to_be_visible()  # the trend chart

    # The explorer: a filter swaps the results in place and the URL follows (shareable).
    page.get_by_role("link", name="Findings", exact=True).first.click()
    expect(page).to_have_url(at("/findings"))
    page.wait_for_load_state()
    page.get_by_text("More filters").click()
    page.get_by_label("High").check()
    page.get_by_label("Minimum cost ($ / month)").fill("1")
    page.get_by_label("Minimum cost ($ / month)").press("Tab")
    expect(page).to_have_url(re.compile(r"/findings\?.*min_cost=1"))
    expect(page).to_have_url(re.compile(r"confidence=high"))
    expect(page.locator("#findings-total")).to_contain_text("estimated, list price")
    rows = page.locator("table.explorer-table tbody tr")
    expect(rows.first).to_be_visible()

    # The costliest high-confidence finding: its page, then ignore it.
    rows.first.locator("a.finding-link").click()
    expect(page).to_have_url(re.compile(r"/findings/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Remove it")).to_be_visible()
    expect(page.get_by_text("kubectl").first).to_be_visible()
    cost = dollars(page.locator(".finding-cost").inner_text())
    assert cost >= 1
    page.wait_for_load_state()
    page.get_by_label("Reason").fill("Kept for the storage migration in December")
    page.get_by_role("button", name="Ignore").click()
    expect(page.get_by_role("status")).to_contain_text("Ignored 1 finding")

    page.get_by_role("link", name="Dashboard", exact=True).first.click()
    expect(page).to_have_url(at("/"))
    assert waste_now(page) == before - cost
    expect(page.locator("#ignored")).to_contain_text(f"{cost:,.2f}")
