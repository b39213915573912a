"""Alembic environment: the URL comes from ``-x url=...`` or the app's settings.

Every ``app/<domain>/models.py`` (and ``app/mail.py``) is imported so autogenerate and the
"models equal migrations" test see all tables. SQLite uses batch mode for ALTERs.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from alembic import context

import app
from app.config import get_settings
from app.db import Base, UTCDateTime, autogenerate_filter, make_engine


def import_models() -> None:
    """Import every module that declares tables, so Base.metadata is complete."""
    importlib.import_module("app.mail")
    for info in pkgutil.iter_modules(app.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"app.{info.name}.models")
            except ModuleNotFoundError as exc:
                if exc.name != f"app.{info.name}.models":
                    raise


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


import_models()
target_metadata = Base.metadata
config = context.config


def database_url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url")
    return url or config.attributes.get("url") or get_settings().database


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
        include_object=autogenerate_filter(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
