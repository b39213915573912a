"""Shared fixtures for web and service tests: real databases, the app, and browser helpers.

- ``database_url``: each test using it runs on SQLite (a fresh file) and on PostgreSQL (one
  throwaway database per test session on 127.0.0.1:5432, migrated once, emptied after each
  test). PostgreSQL tests skip when the server is unreachable, unless
  ``LEFTOVER_REQUIRE_SERVICES=1`` (then they fail).
- ``settings`` / ``app`` / ``client``: ``create_app`` in local mode on a migrated database.
  Jobs are not sent to a broker: they collect in ``app.state.sent_jobs`` after each commit.
- ``Browser``: a TestClient that reads CSRF tokens from pages and signs up / signs in.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import make_engine

REPO = Path(__file__).resolve().parents[1]
PG_HOST, PG_PORT = "127.0.0.1", 5432
PG_ADMIN = f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres"
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379
SECRET = "test-secret-key-" + "k" * 40
PASSWORD = "correct horse battery staple"
TEST_ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE"  # 32 bytes, tests only
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- services ----------------------------------------------------------------------------------


def services_required() -> bool:
    return os.environ.get("LEFTOVER_REQUIRE_SERVICES") == "1"


def skip_or_fail(what: str) -> None:
    """Skip, or fail when the run promised the services (LEFTOVER_REQUIRE_SERVICES=1)."""
    if services_required():
        pytest.fail(f"{what} is required (LEFTOVER_REQUIRE_SERVICES=1) but unreachable")
    pytest.skip(f"{what} is not reachable")


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def throwaway_postgres(prefix: str = "leftover_test") -> Iterator[str]:
    """CREATE an empty PostgreSQL database, yield its URL, DROP it afterwards."""
    if not reachable(PG_HOST, PG_PORT):
        skip_or_fail(f"PostgreSQL on {PG_HOST}:{PG_PORT}")
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic_upgrade(url: str, revision: str = "head") -> None:
    """Run the project's migrations (settings from pyproject.toml) against ``url``."""
    from alembic import command
    from alembic.config import Config

    config = Config(toml_file=str(REPO / "pyproject.toml"))
    config.attributes["url"] = url
    command.upgrade(config, revision)


@pytest.fixture(scope="session")
def migrated_postgres() -> Iterator[str]:
    """One migrated PostgreSQL database for the test session."""
    with throwaway_postgres() as url:
        alembic_upgrade(url)
        yield url


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is faster)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "leftover.db"
    alembic_upgrade(f"sqlite:///{path}")
    return path


def empty_all_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            names = [n for n in inspect(conn).get_table_names() if n != "alembic_version"]
            if names:
                conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database: a fresh SQLite file, or the session's PostgreSQL database
    (emptied after the test)."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("migrated_sqlite_template")
        target = tmp_path / "leftover.db"
        shutil.copyfile(template, target)
        yield f"sqlite:///{target}"
        return
    url: str = request.getfixturevalue("migrated_postgres")
    empty_all_tables(url)
    try:
        yield url
    finally:
        empty_all_tables(url)


# --- the app -----------------------------------------------------------------------------------


def make_settings(data_dir: Path, database_url: str = "", **values: Any) -> Settings:
    """Settings for a test: local mode in ``data_dir`` (its own SQLite file unless
    ``database_url`` says otherwise), no .env file."""
    values.setdefault("mode", "local")
    values.setdefault("secret_key", SECRET)
    values.setdefault("base_url", "http://testserver")
    if values["mode"] == "production":
        values.setdefault("redis_url", "redis://127.0.0.1:6379/15")
        values.setdefault("encryption_keys", TEST_ENCRYPTION_KEY)
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, database_url=database_url, **values
    )


def build_app(settings: Settings) -> FastAPI:
    """create_app(settings), with jobs collected in ``app.state.sent_jobs`` instead of sent."""
    from app import jobs
    from app.main import create_app

    app = create_app(settings)
    sent: list[tuple[str, dict[str, Any]]] = []
    factory = app.state.sessionmaker
    info = dict(factory.kw.get("info") or {})
    info.update(jobs.sender_info(lambda name, kwargs: sent.append((name, kwargs))))
    factory.configure(info=info)
    app.state.sent_jobs = sent
    return app


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    made = build_app(settings)
    yield made
    made.state.engine.dispose()


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    """A session on the app's database for arranging and checking (commit explicitly)."""
    session: Session = app.state.sessionmaker()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


class Browser(TestClient):
    """One visitor: keeps its cookies, reads CSRF tokens from pages, fills in forms."""

    def csrf(self, path: str = "/password/forgot") -> str:
        """The CSRF token this visitor's pages carry (read from a rendered form)."""
        page = self.get(path)
        match = CSRF_INPUT.search(page.text)
        assert match, f"no csrf_token input on {path} ({page.status_code})"
        return match.group(1)

    def submit(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        htmx: bool = False,
        csrf: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """POST ``data`` as a form with this visitor's CSRF token (HTMX: in the header)."""
        token = csrf if csrf is not None else self.csrf()
        headers = dict(kwargs.pop("headers", {}) or {})
        form = dict(data or {})
        if htmx:
            headers.update({"HX-Request": "true", "X-CSRF-Token": token})
        else:
            form.setdefault("csrf_token", token)
        kwargs.setdefault("follow_redirects", False)
        return self.post(path, data=form, headers=headers, **kwargs)

    def sign_up(
        self,
        email: str = "owner@example.com",
        *,
        password: str = PASSWORD,
        org: str = "Acme",
        name: str = "",
    ) -> httpx.Response:
        response = self.submit(
            "/signup",
            {"email": email, "password": password, "org_name": org, "display_name": name},
        )
        assert response.status_code == 303, response.text
        return response

    def sign_in(self, email: str, *, password: str = PASSWORD) -> httpx.Response:
        response = self.submit("/signin", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response

    def sign_out(self) -> httpx.Response:
        return self.submit("/signout")


BrowserFactory = Callable[..., Browser]


@pytest.fixture
def browser(app: FastAPI) -> Iterator[BrowserFactory]:
    """Make visitors: ``browser()`` or ``browser(address="10.0.0.7")`` (the client address)."""
    made: list[Browser] = []

    def make(*, address: str = "testclient", base_url: str = "http://testserver") -> Browser:
        client = Browser(app, base_url=base_url, client=(address, 50000))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def client(browser: BrowserFactory) -> Browser:
    return browser()


# --- route enumeration -------------------------------------------------------------------------


def api_routes(app: FastAPI) -> list[tuple[str, set[str], Any]]:
    """Every API route of ``app`` as (path, methods, route), through included routers."""
    from fastapi.routing import APIRoute

    found: list[tuple[str, set[str], Any]] = []

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                found.append((prefix + route.path, set(route.methods), route))
            elif hasattr(route, "original_router"):  # FastAPI's included router
                context = getattr(route, "include_context", None)
                walk(route.original_router.routes, prefix + getattr(context, "prefix", ""))

    walk(list(app.routes), "")
    return found


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With LEFTOVER_REQUIRE_SERVICES=1 (CI) a skipped test fails the run: a skip there means
    something the suite promises was not checked."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if not services_required() or reporter is None:
        return
    skipped = reporter.stats.get("skipped", [])
    if skipped and exitstatus == 0:
        reporter.write_line(
            f"{len(skipped)} test(s) skipped under LEFTOVER_REQUIRE_SERVICES=1; "
            "every test must run in CI",
            red=True,
        )
        session.exitstatus = 1
