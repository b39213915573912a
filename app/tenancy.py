"""Tenant isolation, in one place: every lookup of organisation-owned rows goes through here.

A tenant-owned model has an ``org_id`` column (``OrgScoped`` adds it). The organisation always
comes from the signed-in session, never from the request; a row of another organisation is
indistinguishable from a row that does not exist (404), so ids leak nothing.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from fastapi import HTTPException
from sqlalchemy import ForeignKey, Select
from sqlalchemy.orm import Mapped, Session, mapped_column

T = TypeVar("T")
S = TypeVar("S", bound=Select[Any])


class OrgScoped:
    """Mixin for tenant-owned tables: an indexed ``org_id`` that cascades with the organisation."""

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )


def _org_column(model: Any) -> Any:
    column = getattr(model, "org_id", None)
    if column is None:
        raise TypeError(f"{model!r} is not tenant-scoped (no org_id column)")
    return column


def scoped(stmt: S, org_id: uuid.UUID) -> S:
    """``stmt`` restricted to rows of ``org_id`` for every tenant-owned entity it selects from."""
    entities = [d.get("entity") for d in stmt.column_descriptions]
    models = [m for m in dict.fromkeys(entities) if m is not None]
    if not models:
        raise TypeError("scoped() needs a select of a mapped model")
    for model in models:
        stmt = stmt.where(_org_column(model) == org_id)
    return stmt


def get_for_org(session: Session, model: type[T], id_: Any, org_id: uuid.UUID) -> T:
    """The row ``id_`` of ``model`` if it belongs to ``org_id``; 404 otherwise (or if malformed)."""
    if not isinstance(id_, uuid.UUID):
        try:
            id_ = uuid.UUID(str(id_))
        except ValueError:
            raise HTTPException(status_code=404) from None
    row = session.get(model, id_)
    if row is None or _org_column(model) is None or getattr(row, "org_id", None) != org_id:
        raise HTTPException(status_code=404)
    return row
