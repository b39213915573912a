"""Prices kept in the database: refreshed defaults (global) and organisations' overrides.

The embedded ``default_prices.json`` is the base. ``PriceDefault`` rows, written only by the
operator-enabled refresh task, replace an embedded entry's value, source and date for every
organisation. ``PriceOverride`` rows are one organisation's own figures and win over both.
``app.pricing.store.effective_price_book`` combines the three.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class PriceDefault(Base):
    """A default price refreshed from a provider's public price API."""

    __tablename__ = "price_defaults"

    price_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(16, 6))
    source: Mapped[str] = mapped_column(Text)
    as_of: Mapped[str] = mapped_column(String(10))  # the date the figure was fetched
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class PriceOverride(Base):
    """An organisation's own price for one entry of the book (negotiated rates, other regions)."""

    __tablename__ = "price_overrides"

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    price_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Decimal] = mapped_column(Numeric(16, 6))
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
