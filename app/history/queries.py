"""Read waste now and over time, from the roll-ups.

"Now" sums the clusters' ``WasteCurrent`` rows (a few dozen per cluster), then takes the ignored
part live from the findings that are ignored at this moment (few, and indexed), so adding an
ignore rule or reaching its expiry changes the figures at once. Trends read the daily rows;
a day without a row (no scan that day) carries the previous day's value forward, and today's
point is "now".
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clouds.models import Cluster, ClusterState
from app.findings.ignores import ignored_now
from app.history.models import ClusterDailyWaste, OrgDailyWaste, ResolvedFinding, WasteCurrent
from app.history.rollups import CLUSTER, KIND, NAMESPACE, PROVIDER, RULE, TOTAL, Totals
from app.scans.models import Finding

OTHER = "other"
K = TypeVar("K")


@dataclass
class Breakdown:
    """Current waste of an organisation (or some of its clusters), split every way."""

    total: Totals = field(default_factory=Totals)
    by_provider: dict[str, Totals] = field(default_factory=dict)
    by_cluster: dict[uuid.UUID, Totals] = field(default_factory=dict)
    by_kind: dict[str, Totals] = field(default_factory=dict)
    by_namespace: dict[tuple[uuid.UUID, str], Totals] = field(default_factory=dict)
    by_rule: dict[str, Totals] = field(default_factory=dict)

    def _targets(
        self, cluster_id: uuid.UUID, provider: str, dimension: str, key: str
    ) -> list[Totals]:
        if dimension == TOTAL:
            return [
                self.total,
                _slot(self.by_provider, provider),
                _slot(self.by_cluster, cluster_id),
            ]
        if dimension == KIND:
            return [_slot(self.by_kind, key)]
        if dimension == NAMESPACE:
            return [_slot(self.by_namespace, (cluster_id, key))]
        if dimension == RULE:
            return [_slot(self.by_rule, key)]
        return []


def _slot(mapping: dict[K, Totals], key: K) -> Totals:
    totals = mapping.get(key)
    if totals is None:
        totals = mapping[key] = Totals()
    return totals


def breakdown(
    session: Session,
    org_id: uuid.UUID,
    *,
    now: datetime,
    cluster_ids: Collection[uuid.UUID] | None = None,
) -> Breakdown:
    """Waste now: the organisation's active clusters, or exactly ``cluster_ids`` (any state)."""
    out = Breakdown()
    providers: dict[uuid.UUID, str] = {}
    stmt = (
        select(
            WasteCurrent.cluster_id,
            Cluster.provider,
            WasteCurrent.dimension,
            WasteCurrent.key,
            WasteCurrent.cost,
            WasteCurrent.findings,
        )
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(WasteCurrent.org_id == org_id)
    )
    if cluster_ids is None:
        stmt = stmt.where(Cluster.state == ClusterState.active.value)
    else:
        stmt = stmt.where(WasteCurrent.cluster_id.in_(list(cluster_ids)))
    for cluster_id, provider, dimension, key, cost, count in session.execute(stmt):
        providers[cluster_id] = provider
        for totals in out._targets(cluster_id, provider, dimension, key):
            totals.cost += Decimal(cost)
            totals.findings += count
    ignored = (
        select(
            Finding.cluster_id,
            Finding.kind,
            Finding.namespace,
            Finding.rule,
            func.sum(Finding.monthly_cost_usd),
            func.count(),
        )
        .where(Finding.org_id == org_id, Finding.counts_in_total.is_(True), ignored_now(now))
        .group_by(Finding.cluster_id, Finding.kind, Finding.namespace, Finding.rule)
    )
    for cluster_id, kind, namespace, rule, cost, count in session.execute(ignored):
        owner = providers.get(cluster_id)
        if owner is None:
            continue  # a gone cluster, or one outside ``cluster_ids``
        keys = ((TOTAL, ""), (KIND, kind), (NAMESPACE, namespace or ""), (RULE, rule))
        for dimension, key in keys:
            for totals in out._targets(cluster_id, owner, dimension, key):
                totals.ignored_cost += Decimal(cost)
                totals.ignored_findings += count
    return out


@dataclass(frozen=True)
class Series:
    key: str
    values: tuple[Decimal, ...]


@dataclass(frozen=True)
class Trend:
    """Daily waste from ``days[0]`` to today; ``series`` stack to ``total`` (largest first)."""

    days: tuple[date, ...]
    total: tuple[Decimal, ...]
    series: tuple[Series, ...]


TrendRows = Iterable[tuple[date, str, str, Decimal, Decimal]]  # day, dimension, key, cost, ignored


def _carry_forward(
    rows: TrendRows, *, start: date, today: date
) -> tuple[list[date], list[dict[str, Decimal]]]:
    """Per day from ``start`` to ``today``: {key: waste}, a missing day repeating the last."""
    by_day: dict[date, dict[str, Decimal]] = {}
    for day, _dimension, key, cost, ignored in rows:
        by_day.setdefault(day, {})[key] = Decimal(cost) - Decimal(ignored)
    before = [d for d in by_day if d < start]
    last: dict[str, Decimal] = by_day[max(before)] if before else {}
    days, values = [], []
    day = start
    while day <= today:
        last = by_day.get(day, last)
        days.append(day)
        values.append(last)
        day += timedelta(days=1)
    return days, values


def _trend(days: list[date], values: list[dict[str, Decimal]], *, top: int, stacked: bool) -> Trend:
    totals = tuple(sum(v.values(), Decimal(0)) for v in values)
    if not stacked:
        return Trend(tuple(days), totals, (Series(TOTAL, totals),))
    weight: dict[str, Decimal] = {}
    for v in values:
        for key, amount in v.items():
            weight[key] = weight.get(key, Decimal(0)) + amount
    ranked = sorted((k for k in weight if weight[k] > 0), key=lambda k: (-weight[k], k))
    shown, rest = ranked[:top], ranked[top:]
    series = [Series(k, tuple(v.get(k, Decimal(0)) for v in values)) for k in shown]
    if rest:
        other = tuple(sum((v.get(k, Decimal(0)) for k in rest), Decimal(0)) for v in values)
        series.append(Series(OTHER, other))
    return Trend(tuple(days), totals, tuple(series))


def org_trend(
    session: Session,
    org_id: uuid.UUID,
    *,
    today: date,
    days: int,
    by: str = TOTAL,
    now: Breakdown | None = None,
    top: int = 6,
) -> Trend:
    """The organisation's daily waste over ``days`` days, by ``total``, ``cluster`` or ``kind``.

    ``now`` (the live breakdown) replaces today's stored point."""
    if by not in (TOTAL, CLUSTER, KIND):
        raise ValueError(f"cannot stack the organisation trend by {by!r}")
    start = today - timedelta(days=days - 1)
    dimension = TOTAL if by == TOTAL else by
    table = OrgDailyWaste
    anchor = session.scalar(
        select(func.max(table.day)).where(
            table.org_id == org_id, table.dimension == TOTAL, table.day < start
        )
    )
    stmt = select(table.day, table.dimension, table.key, table.cost, table.ignored_cost).where(
        table.org_id == org_id, table.dimension == dimension, table.day >= (anchor or start)
    )
    dates, values = _carry_forward(session.execute(stmt).all(), start=start, today=today)
    if now is not None and values:
        values[-1] = _live_point(now, by)
    return _trend(dates, values, top=top, stacked=by != TOTAL)


def _live_point(now: Breakdown, by: str) -> dict[str, Decimal]:
    if by == CLUSTER:
        return {str(k): t.waste for k, t in now.by_cluster.items()}
    if by == KIND:
        return {k: t.waste for k, t in now.by_kind.items()}
    if by == NAMESPACE:
        return {k[1]: t.waste for k, t in now.by_namespace.items()}
    return {"": now.total.waste}


def cluster_trend(
    session: Session,
    cluster_id: uuid.UUID,
    *,
    today: date,
    days: int,
    by: str = TOTAL,
    now: Breakdown | None = None,
    top: int = 6,
) -> Trend:
    """One cluster's daily waste over ``days`` days, by ``total``, ``kind`` or ``namespace``."""
    if by not in (TOTAL, KIND, NAMESPACE):
        raise ValueError(f"cannot stack a cluster trend by {by!r}")
    start = today - timedelta(days=days - 1)
    table = ClusterDailyWaste
    anchor = session.scalar(
        select(func.max(table.day)).where(
            table.cluster_id == cluster_id, table.dimension == TOTAL, table.day < start
        )
    )
    stmt = select(table.day, table.dimension, table.key, table.cost, table.ignored_cost).where(
        table.cluster_id == cluster_id, table.dimension == by, table.day >= (anchor or start)
    )
    dates, values = _carry_forward(session.execute(stmt).all(), start=start, today=today)
    if now is not None and values:
        values[-1] = _live_point(now, by)
    return _trend(dates, values, top=top, stacked=by != TOTAL)


def org_waste_on(session: Session, org_id: uuid.UUID, day: date) -> Decimal | None:
    """The organisation's waste as it stood on ``day`` (its last roll-up then); None before."""
    row = session.execute(
        select(OrgDailyWaste.cost, OrgDailyWaste.ignored_cost)
        .where(
            OrgDailyWaste.org_id == org_id,
            OrgDailyWaste.dimension == TOTAL,
            OrgDailyWaste.day <= day,
        )
        .order_by(OrgDailyWaste.day.desc())
        .limit(1)
    ).first()
    return None if row is None else Decimal(row[0]) - Decimal(row[1])


def cluster_waste_on(session: Session, cluster_id: uuid.UUID, day: date) -> Decimal | None:
    """One cluster's waste as it stood on ``day``; None before its first scan."""
    row = session.execute(
        select(ClusterDailyWaste.cost, ClusterDailyWaste.ignored_cost)
        .where(
            ClusterDailyWaste.cluster_id == cluster_id,
            ClusterDailyWaste.dimension == TOTAL,
            ClusterDailyWaste.day <= day,
        )
        .order_by(ClusterDailyWaste.day.desc())
        .limit(1)
    ).first()
    return None if row is None else Decimal(row[0]) - Decimal(row[1])


@dataclass(frozen=True)
class Resolved:
    """Findings cleaned up in a period and the monthly cost they no longer incur."""

    findings: int
    monthly_cost: Decimal


def resolved_since(
    session: Session,
    org_id: uuid.UUID,
    since: datetime,
    *,
    cluster_ids: Collection[uuid.UUID] | None = None,
) -> Resolved:
    stmt = select(func.count(), func.coalesce(func.sum(ResolvedFinding.monthly_cost_usd), 0)).where(
        ResolvedFinding.org_id == org_id, ResolvedFinding.resolved_at >= since
    )
    if cluster_ids is not None:
        stmt = stmt.where(ResolvedFinding.cluster_id.in_(list(cluster_ids)))
    count, cost = session.execute(stmt).one()
    return Resolved(int(count), Decimal(cost))


__all__ = [
    "CLUSTER",
    "KIND",
    "NAMESPACE",
    "OTHER",
    "PROVIDER",
    "RULE",
    "TOTAL",
    "Breakdown",
    "Resolved",
    "Series",
    "Totals",
    "Trend",
    "breakdown",
    "cluster_trend",
    "cluster_waste_on",
    "org_trend",
    "org_waste_on",
    "resolved_since",
]
