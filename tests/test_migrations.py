"""Migrations: ``alembic upgrade head`` builds the whole schema on an empty SQLite and
PostgreSQL database, the result equals the models exactly, and downgrade/upgrade round-trips."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

import app
from app.db import Base, autogenerate_filter, make_engine
from tests.conftest import REPO, alembic_upgrade, throwaway_postgres


def import_all_models() -> None:
    """Every module that declares tables (the same discovery as migrations/env.py)."""
    importlib.import_module("app.mail")
    for info in pkgutil.iter_modules(app.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"app.{info.name}.models")
            except ModuleNotFoundError as exc:
                if exc.name != f"app.{info.name}.models":
                    raise


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with throwaway_postgres("leftover_migrations") as url:
        yield url


def _diffs(url: str) -> list[object]:
    import_all_models()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            include = autogenerate_filter(conn.dialect.name)
            opts = {"compare_type": True, "include_object": include}
            context = MigrationContext.configure(conn, opts=opts)
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_upgrade_head_on_empty_database_matches_the_models(empty_database: str) -> None:
    alembic_upgrade(empty_database)
    assert _diffs(empty_database) == []
    engine = make_engine(empty_database)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    expected = {
        "users",
        "organisations",
        "memberships",
        "invitations",
        "web_sessions",
        "email_tokens",
        "sign_in_attempts",
        "external_identities",
        "outgoing_mail",
        "alembic_version",
    }
    assert expected <= tables


def test_downgrade_to_base_and_back(empty_database: str) -> None:
    alembic_upgrade(empty_database)
    config = Config(toml_file=str(REPO / "pyproject.toml"))
    config.attributes["url"] = empty_database
    command.downgrade(config, "base")
    engine = make_engine(empty_database)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    alembic_upgrade(empty_database)
    assert _diffs(empty_database) == []


def test_versions_are_named_by_date_and_slug() -> None:
    versions = sorted((REPO / "migrations" / "versions").glob("*.py"))
    assert versions
    for path in versions:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}_[a-z0-9_]+\.py", path.name), path.name


def test_pyproject_configures_alembic() -> None:
    config = Config(toml_file=str(REPO / "pyproject.toml"))
    assert config.get_alembic_option("script_location") == "migrations"
