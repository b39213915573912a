"""The demo banner: on every signed-in page of a demo organisation, nowhere else, and never an
error when the page context has no organisation (error pages) or an organisation view without
the flag."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from app.web import ENV

BANNER = "Demo organisation</strong> — generated data, not a real cluster"


def page(org: Any) -> str:
    context: dict[str, Any] = {
        "user": SimpleNamespace(id=uuid.uuid4(), email="ada@example.com", display_name="Ada"),
        "org": org,
        "role": "owner",
        "memberships": [],
        "csrf_token": "tok",
        "nav": "dashboard",
    }
    return ENV.get_template("errors/404.html").render(context)


def test_a_demo_organisation_says_so_on_every_page() -> None:
    html = page(SimpleNamespace(id=uuid.uuid4(), name="Demo", is_demo=True))
    assert BANNER in html
    assert 'class="demo-banner" role="note"' in html
    assert "leftover demo" in html
    # Above the page's main content, inside the app shell.
    assert html.index(BANNER) < html.index('<main id="main"')


@pytest.mark.parametrize(
    "org",
    [
        SimpleNamespace(id=uuid.uuid4(), name="Acme", is_demo=False),
        SimpleNamespace(id=uuid.uuid4(), name="Acme"),  # a view without the flag
        None,
    ],
)
def test_other_organisations_have_no_banner(org: Any) -> None:
    assert "demo-banner" not in page(org)


def test_public_pages_have_no_banner() -> None:
    html = ENV.get_template("errors/404.html").render({})
    assert "demo-banner" not in html
