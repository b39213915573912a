"""Prices kept in the database, combined with the embedded book, and organisations' overrides.

The book a scan prices findings with is built in three layers: the embedded
``default_prices.json``; ``PriceDefault`` rows the operator-enabled refresh task wrote (global:
value, source and date replace the embedded entry's); then the organisation's ``PriceOverride``
rows (``PriceBook.with_overrides``: source "organisation override"). A database row naming an
id the embedded file no longer has is skipped, never fatal: removing an entry from the file must
not break every scan of every organisation that once overrode it.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from sqlalchemy import Table, delete, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.db import utcnow
from app.pricing.book import PriceBook, PriceEntry, load_default_price_book
from app.pricing.models import PriceDefault, PriceOverride

log = logging.getLogger("leftover.pricing")

PRICE_PLACES = 6  # the columns are Numeric(16, 6)
MAX_PRICE = Decimal(1_000_000)
_QUANTUM = Decimal(1).scaleb(-PRICE_PLACES)


class PriceInputError(ValueError):
    """A price someone typed cannot be used; ``message`` says why in plain words."""

    def __init__(self, price_id: str, message: str) -> None:
        super().__init__(f"{price_id}: {message}")
        self.price_id = price_id
        self.message = message


class PriceInputErrors(ValueError):
    """Several typed prices were refused; ``errors`` maps price id to its plain message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


@dataclass(frozen=True, slots=True)
class OverrideInfo:
    """An organisation's own price for one entry, and who set it when."""

    price_id: str
    value: Decimal
    updated_by: str | None  # the member's name or email; None once the user is deleted
    updated_at: datetime


# --- validation ---------------------------------------------------------------------------------


def parse_price(price_id: str, raw: str | int | float | Decimal) -> Decimal:
    """A price someone typed, as the Decimal stored; PriceInputError for an unknown id or a
    value that is not a plain non-negative number of at most six decimals under a million."""
    entry = load_default_price_book().get(price_id)
    if entry is None:
        raise PriceInputError(price_id, f"There is no price called {price_id!r}.")
    if isinstance(raw, bool):
        raise PriceInputError(price_id, "Enter a number, like 0.08.")
    text = raw.strip().removeprefix("$").strip().replace(",", "") if isinstance(raw, str) else raw
    if text == "":
        raise PriceInputError(price_id, "Enter a number, like 0.08.")
    try:
        value = Decimal(text) if not isinstance(text, float) else Decimal(repr(text))
    except (InvalidOperation, ValueError):
        raise PriceInputError(price_id, "Enter a number, like 0.08.") from None
    if not value.is_finite():
        raise PriceInputError(price_id, "Enter a number, like 0.08.")
    if value < 0:
        raise PriceInputError(price_id, "A price cannot be negative.")
    if value > MAX_PRICE:
        raise PriceInputError(
            price_id,
            f"{value:,} is more than a million — check the unit, which is {entry.unit}.",
        )
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -PRICE_PLACES and value != value.quantize(_QUANTUM):
        raise PriceInputError(price_id, f"Use at most {PRICE_PLACES} decimal places.")
    return (value + 0).quantize(_QUANTUM)  # + 0: "-0" is stored as 0


def _usable(value: Decimal | None) -> bool:
    return value is not None and math.isfinite(float(value)) and value >= 0


# --- reading ------------------------------------------------------------------------------------


def default_price_book(session: Session) -> PriceBook:
    """The embedded defaults with the refreshed ``PriceDefault`` rows applied (no overrides)."""
    base = load_default_price_book()
    rows = session.scalars(select(PriceDefault)).all()
    refreshed: dict[str, PriceDefault] = {}
    for row in rows:
        if base.get(row.price_id) is None:
            log.warning("refreshed price %r is not in the embedded book; skipped", row.price_id)
        elif not _usable(row.value):
            log.warning("refreshed price %r has an unusable value; skipped", row.price_id)
        else:
            refreshed[row.price_id] = row
    if not refreshed:
        return base
    return PriceBook(tuple(_refreshed(e, refreshed.get(e.id)) for e in base.entries()))


def _refreshed(entry: PriceEntry, row: PriceDefault | None) -> PriceEntry:
    if row is None:
        return entry
    return replace(entry, value=float(row.value), source=row.source, as_of=row.as_of)


def org_overrides(session: Session, org_id: uuid.UUID) -> dict[str, OverrideInfo]:
    """The organisation's overrides of ids the book knows, by price id."""
    base = load_default_price_book()
    stmt = (
        select(PriceOverride, User)
        .outerjoin(User, User.id == PriceOverride.updated_by_id)
        .where(PriceOverride.org_id == org_id)
        .order_by(PriceOverride.price_id)
    )
    found: dict[str, OverrideInfo] = {}
    for row, user in session.execute(stmt):
        if base.get(row.price_id) is None or not _usable(row.value):
            log.warning("override %r of org %s skipped (unknown id or value)", row.price_id, org_id)
            continue
        found[row.price_id] = OverrideInfo(
            price_id=row.price_id,
            value=Decimal(row.value),
            updated_by=user.label if user is not None else None,
            updated_at=row.updated_at,
        )
    return found


def effective_price_book(session: Session, org_id: uuid.UUID) -> PriceBook:
    """The book the organisation's findings are priced with: defaults, refreshed, overridden."""
    overrides = org_overrides(session, org_id)
    book = default_price_book(session)
    if not overrides:
        return book
    return book.with_overrides({k: float(v.value) for k, v in overrides.items()})


# --- writing ------------------------------------------------------------------------------------


def set_override(
    session: Session,
    org_id: uuid.UUID,
    price_id: str,
    value: str | int | float | Decimal,
    user_id: uuid.UUID | None,
) -> Decimal:
    """Set (insert or replace) the organisation's price for ``price_id``; the value stored.

    An upsert, so two admins saving the same price at once both succeed (the later wins)."""
    stored = parse_price(price_id, value)
    now = utcnow()
    insert = dialect_insert(session, cast(Table, PriceOverride.__table__)).values(
        org_id=org_id, price_id=price_id, value=stored, updated_by_id=user_id, updated_at=now
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["org_id", "price_id"],
            set_={"value": stored, "updated_by_id": user_id, "updated_at": now},
        )
    )
    return stored


def set_overrides(
    session: Session,
    org_id: uuid.UUID,
    values: Mapping[str, str | int | float | Decimal],
    user_id: uuid.UUID | None,
) -> dict[str, Decimal]:
    """Set several overrides, all or nothing: every value is checked before any is written.

    Raises ``PriceInputErrors`` naming every bad value; the stored values otherwise."""
    parsed: dict[str, Decimal] = {}
    errors: dict[str, str] = {}
    for price_id, raw in values.items():
        try:
            parsed[price_id] = parse_price(price_id, raw)
        except PriceInputError as exc:
            errors[price_id] = exc.message
    if errors:
        raise PriceInputErrors(errors)
    for price_id, value in parsed.items():
        set_override(session, org_id, price_id, value, user_id)
    return parsed


def clear_override(session: Session, org_id: uuid.UUID, price_id: str) -> bool:
    """Remove the organisation's price for ``price_id`` (the default applies again); whether
    there was one."""
    result = session.execute(
        delete(PriceOverride).where(
            PriceOverride.org_id == org_id, PriceOverride.price_id == price_id
        )
    )
    return bool(cast(Any, result).rowcount)


def clear_all_overrides(session: Session, org_id: uuid.UUID) -> int:
    """Remove every override of the organisation; how many there were."""
    result = session.execute(delete(PriceOverride).where(PriceOverride.org_id == org_id))
    return int(cast(Any, result).rowcount or 0)


def dialect_insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise RuntimeError(f"prices need PostgreSQL or SQLite, not {dialect}")
