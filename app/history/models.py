"""Roll-ups that make the dashboard and trend queries cheap however long the history.

- ``WasteCurrent``: each cluster's current findings summed per dimension (total, kind,
  namespace, rule), rewritten whenever the cluster publishes a scan or its ignore rules
  change. Summing it over an organisation's clusters gives "now" without reading findings.
- ``ClusterDailyWaste``: the same rows kept per day (total, kind, namespace; the last publish
  of the day wins). A day without rows repeats the previous day's (trends carry it forward),
  so a history may hold rows only for the days something changed.
- ``OrgDailyWaste``: per organisation and day, summed over its clusters' current rows
  (dimensions total, provider, cluster, kind), rewritten after every publish of that day.
- ``ResolvedFinding``: a counted finding that a later scan no longer found (cleaned up).

``cost``/``findings`` count every finding that counts in totals, ignored or not;
``ignored_cost``/``ignored_findings`` are the ignored part at the time of writing. A day's
waste is ``cost - ignored_cost``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin
from app.tenancy import OrgScoped


class _Totals:
    cost: Mapped[Decimal] = mapped_column(Numeric(16, 4), default=Decimal(0))
    findings: Mapped[int] = mapped_column(default=0)
    ignored_cost: Mapped[Decimal] = mapped_column(Numeric(16, 4), default=Decimal(0))
    ignored_findings: Mapped[int] = mapped_column(default=0)


class WasteCurrent(_Totals, OrgScoped, Base):
    __tablename__ = "waste_current"
    # "Now" reads one dimension of an organisation; the costliest namespaces in cost order.
    __table_args__ = (Index("ix_waste_current_org_dimension", "org_id", "dimension", "cost"),)

    cluster_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True
    )
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)


class ClusterDailyWaste(_Totals, OrgScoped, Base):
    __tablename__ = "waste_daily_cluster"
    __table_args__ = (
        Index("ix_waste_daily_cluster_dimension_day", "cluster_id", "dimension", "day"),
    )

    cluster_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)


class OrgDailyWaste(_Totals, Base):
    __tablename__ = "waste_daily_org"
    __table_args__ = (Index("ix_waste_daily_org_dimension_day", "org_id", "dimension", "day"),)

    org_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(300), primary_key=True)


class ResolvedFinding(IdMixin, OrgScoped, Base):
    __tablename__ = "resolved_findings"
    __table_args__ = (
        # "Cleaned up in the last 30 days" sums the cost from the index alone on PostgreSQL.
        Index(
            "ix_resolved_findings_org_resolved",
            "org_id",
            "resolved_at",
            postgresql_include=["monthly_cost_usd"],
        ),
    )

    cluster_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(100))
    namespace: Mapped[str | None] = mapped_column(String(253))
    name: Mapped[str] = mapped_column(String(253))
    rule: Mapped[str] = mapped_column(String(64))
    monthly_cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 4))
    first_seen_at: Mapped[datetime]
    resolved_at: Mapped[datetime]
