"""One namespace of one cluster: its waste now (by kind) and its daily trend.

"Now" sums the namespace's findings directly (a namespace holds few; the
``(cluster_id, namespace)`` index finds them), with the ignored part taken at this moment, so it
agrees with ``queries.breakdown``. The trend reads the cluster's daily ``namespace`` roll-up rows
for this key. A day on which the cluster was rolled up but the namespace had no row is a day
without waste there (its findings were gone), not a day to carry forward: which days were
rolled up comes from the cluster's ``total`` rows, written on every refresh.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app.findings.ignores import ignored_now
from app.history.models import ClusterDailyWaste
from app.history.queries import Series, Trend
from app.history.rollups import NAMESPACE, TOTAL, Totals
from app.scans.models import Finding

CLUSTER_SCOPED = ""  # the roll-ups' key for objects in no namespace


@dataclass
class NamespaceNow:
    """A namespace's counted findings now, in total and by kind (ignored part beside)."""

    total: Totals = field(default_factory=Totals)
    by_kind: dict[str, Totals] = field(default_factory=dict)


def in_namespace(key: str) -> ColumnElement[bool]:
    """Findings in the namespace ``key`` ('' for cluster-scoped objects)."""
    if key == CLUSTER_SCOPED:
        return Finding.namespace.is_(None)
    return Finding.namespace == key


def namespace_now(
    session: Session, cluster_id: uuid.UUID, key: str, *, now: datetime
) -> NamespaceNow:
    """Waste now of the namespace ``key`` of one cluster, live from its findings."""
    ignored = ignored_now(now).label("ignored")
    stmt = (
        select(
            Finding.kind,
            ignored,
            func.coalesce(func.sum(Finding.monthly_cost_usd), 0),
            func.count(),
        )
        .where(
            Finding.cluster_id == cluster_id,
            in_namespace(key),
            Finding.counts_in_total.is_(True),
        )
        .group_by(Finding.kind, ignored)
    )
    out = NamespaceNow()
    for kind, ign, cost, count in session.execute(stmt):
        amount = Decimal(cost)
        out.total.add(amount, int(count), ignored=bool(ign))
        slot = out.by_kind.get(kind)
        if slot is None:
            slot = out.by_kind[kind] = Totals()
        slot.add(amount, int(count), ignored=bool(ign))
    return out


def namespace_trend(
    session: Session,
    cluster_id: uuid.UUID,
    key: str,
    *,
    today: date,
    days: int,
    now: Decimal | None = None,
) -> Trend:
    """Daily waste of one namespace over ``days`` days; ``now`` replaces today's stored point."""
    start = today - timedelta(days=days - 1)
    table = ClusterDailyWaste
    anchor = session.scalar(
        select(func.max(table.day)).where(
            table.cluster_id == cluster_id, table.dimension == TOTAL, table.day < start
        )
    )
    stmt = select(table.day, table.dimension, table.cost, table.ignored_cost).where(
        table.cluster_id == cluster_id,
        table.day >= (anchor or start),
        or_(table.dimension == TOTAL, and_(table.dimension == NAMESPACE, table.key == key)),
    )
    rolled: dict[date, Decimal] = {}
    for day, dimension, cost, ignored in session.execute(stmt):
        if dimension == TOTAL:
            rolled.setdefault(day, Decimal(0))
        else:
            rolled[day] = Decimal(cost) - Decimal(ignored)
    before = [d for d in rolled if d < start]
    last = rolled[max(before)] if before else Decimal(0)
    dates: list[date] = []
    values: list[Decimal] = []
    day = start
    while day <= today:
        last = rolled.get(day, last)
        dates.append(day)
        values.append(last)
        day += timedelta(days=1)
    if now is not None and values:
        values[-1] = now
    series = (Series(TOTAL, tuple(values)),)
    return Trend(tuple(dates), tuple(values), series)


__all__ = ["CLUSTER_SCOPED", "NamespaceNow", "in_namespace", "namespace_now", "namespace_trend"]
