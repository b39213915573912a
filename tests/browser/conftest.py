"""Fixtures for the browser journeys: the real app served by uvicorn, and headless Chromium.

- ``live_server``: the app served by uvicorn (a thread) on a free 127.0.0.1 port, in local mode
  (mail stays in the database, /dev/outbox shows it; jobs collect in ``app.state.sent_jobs``)
  with a tmp data dir, on a migrated database from ``database_url`` (a fresh SQLite file, and
  the session's PostgreSQL database, emptied, when reachable).
- ``chromium``: Debian's Chromium driven by Playwright, launched once for the package.
- ``visitor``: a fresh browser context (own cookies) per call; every page it opens is watched,
  and any console error, uncaught exception or CSP violation fails the test at teardown.

Without Chromium or Playwright the tests skip, unless ``LEFTOVER_REQUIRE_SERVICES=1`` (CI):
then they fail. ``playwright install`` is never needed: the system Chromium is used.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
import uvicorn
from fastapi import FastAPI

from app.config import Settings
from tests.conftest import build_app, free_port, make_settings, services_required
from tests.ops.conftest import wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    # No internet here: keep Chromium from phoning home (refused connections are noise).
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000


def missing(what: str) -> NoReturn:
    """Skip with the reason, or fail when the run promised everything (CI)."""
    if services_required():
        pytest.fail(f"{what} is required for the browser tests (LEFTOVER_REQUIRE_SERVICES=1)")
    pytest.skip(f"{what} is not available; the browser tests need it")


def chromium_path() -> str | None:
    return shutil.which("chromium") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None
    )


# --- the server --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: FastAPI

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.state.settings
        return settings


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """The app (``build_app``: create_app in local mode) served by uvicorn from a thread on a
    free 127.0.0.1 port, over a migrated, empty database; stopped after the test."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # base_url: links in mail (verification, invitations) must point at this server.
    app = build_app(make_settings(tmp_path / "data", database_url, base_url=url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    try:
        if not wait_until(lambda: server.started or not thread.is_alive(), timeout=20):
            pytest.fail(f"uvicorn did not start on {url}")
        if not server.started:
            pytest.fail(f"uvicorn stopped while starting on {url} (see the captured log)")
        yield LiveServer(url=url, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium, shared by the package (each test gets its own contexts)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        missing("Chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ConsoleWatch:
    """Console errors, uncaught exceptions and CSP violations of every page in a test."""

    problems: list[str] = field(default_factory=list)
    expected: dict[str, int] = field(default_factory=dict)

    def watch(self, page: Page, label: str) -> None:
        def on_console(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                where = message.location.get("url", "") if message.location else ""
                self.problems.append(f"[{label}] console.{message.type}: {message.text} {where}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.problems.append(f"[{label}] uncaught: {exc}"))

    def expect(self, fragment: str) -> None:
        """Allow one console error containing ``fragment`` (e.g. an intended 422 page)."""
        self.expected[fragment] = self.expected.get(fragment, 0) + 1

    def unexpected(self) -> list[str]:
        left = dict(self.expected)
        found = []
        for problem in self.problems:
            allowed = next((f for f, n in left.items() if n and f in problem), None)
            if allowed is None:
                found.append(problem)
            else:
                left[allowed] -= 1
        found += [f"expected a console error with {f!r}, none came" for f, n in left.items() if n]
        return found


@pytest.fixture
def console() -> ConsoleWatch:
    return ConsoleWatch()


Visitor = Callable[..., "Page"]


@pytest.fixture
def visitor(
    request: pytest.FixtureRequest,
    chromium: Browser,
    live_server: LiveServer,
    console: ConsoleWatch,
    tmp_path: Path,
) -> Generator[Visitor, None, None]:
    """``visitor()`` opens a page in a new browser context (a new person, own cookies) on the
    live server; ``visitor(viewport=PHONE, is_mobile=True)`` for a phone."""
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def open_page(*, viewport: ViewportSize = DESKTOP, **options: Any) -> Page:
        context = chromium.new_context(
            base_url=live_server.url, viewport=viewport, locale="en-GB", **options
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        console.watch(page, f"visitor {len(contexts)}")
        pages.append(page)
        return page

    yield open_page
    if _failed(request.node):
        for number, page in enumerate(pages, start=1):
            with contextlib.suppress(Exception):
                page.screenshot(path=tmp_path / f"failure-visitor-{number}.png", full_page=True)
    for context in contexts:
        context.close()
    problems = console.unexpected()
    if problems and _failed(request.node):
        print("--- browser console ---\n" + "\n".join(problems))
    elif problems:
        pytest.fail("browser console problems:\n" + "\n".join(problems), pytrace=False)


# --- knowing whether the test failed (to keep screenshots) ----------------------------------------

_CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


def _failed(node: Any) -> bool:
    return bool(node.stash.get(_CALL_FAILED, False))
