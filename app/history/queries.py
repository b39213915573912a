"""Read waste now and over time, from the roll-ups.

"Now" sums the clusters' ``WasteCurrent`` rows (a few dozen per cluster), then takes the ignored
part live from the findings that are ignored at this moment (few, and indexed), so adding an
ignore rule or reaching its expiry changes the figures at once. Trends read the daily rows;
a day without a row (no scan that day) carries the previous day's value forward, and today's
point is "now".
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import ColumnElement, func, select
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
    """Current waste of an organisation (or some of its clusters), split every way.

    ``by_namespace`` holds every namespace, or only the costliest when the caller asked for a
    limit; ``namespaces_wasting`` counts the namespaces with any waste either way."""

    total: Totals = field(default_factory=Totals)
    by_provider: dict[str, Totals] = field(default_factory=dict)
    by_cluster: dict[uuid.UUID, Totals] = field(default_factory=dict)
    by_kind: dict[str, Totals] = field(default_factory=dict)
    by_namespace: dict[tuple[uuid.UUID, str], Totals] = field(default_factory=dict)
    namespaces_wasting: int = 0


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
    namespaces: int | None = None,
) -> Breakdown:
    """Waste now: the organisation's active clusters, or exactly ``cluster_ids`` (any state).

    The database does the summing: a row per cluster, the kinds and rules summed across
    clusters, the ignored part live from the findings ignored at ``now`` (few, and indexed),
    and with ``namespaces`` only that many costliest namespaces ranked by the database — so
    an organisation of 200 clusters costs a few hundred rows, not every namespace's row."""
    out = Breakdown()
    scope: list[ColumnElement[bool]] = [WasteCurrent.org_id == org_id]
    if cluster_ids is None:
        scope.append(Cluster.state == ClusterState.active.value)
    else:
        scope.append(WasteCurrent.cluster_id.in_(list(cluster_ids)))
    providers: dict[uuid.UUID, str] = {}
    clusters = (
        select(WasteCurrent.cluster_id, Cluster.provider, WasteCurrent.cost, WasteCurrent.findings)
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(*scope, WasteCurrent.dimension == TOTAL)
    )
    for cluster_id, provider, cost, count in session.execute(clusters):
        providers[cluster_id] = provider
        for totals in (
            out.total,
            _slot(out.by_provider, provider),
            _slot(out.by_cluster, cluster_id),
        ):
            totals.cost += Decimal(cost)
            totals.findings += count
    if not providers:
        return out
    summed = (
        select(
            WasteCurrent.dimension,
            WasteCurrent.key,
            func.sum(WasteCurrent.cost),
            func.sum(WasteCurrent.findings),
        )
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(*scope, WasteCurrent.dimension == KIND)
        .group_by(WasteCurrent.dimension, WasteCurrent.key)
    )
    for _dimension, key, cost, count in session.execute(summed):
        out.by_kind[key] = Totals(cost=Decimal(cost), findings=int(count))
    ignored_by_namespace = _ignored(session, org_id, out, providers, now=now)
    if namespaces is None:
        _all_namespaces(session, scope, out, ignored_by_namespace)
    else:
        _top_namespaces(session, scope, out, ignored_by_namespace, limit=namespaces)
    return out


def _ignored(
    session: Session,
    org_id: uuid.UUID,
    out: Breakdown,
    providers: dict[uuid.UUID, str],
    *,
    now: datetime,
) -> dict[tuple[uuid.UUID, str], Totals]:
    """Take the findings ignored now off every figure; the ignored part per namespace."""
    stmt = (
        select(
            Finding.cluster_id,
            Finding.kind,
            Finding.namespace,
            func.sum(Finding.monthly_cost_usd),
            func.count(),
        )
        .where(Finding.org_id == org_id, Finding.counts_in_total.is_(True), ignored_now(now))
        .group_by(Finding.cluster_id, Finding.kind, Finding.namespace)
    )
    by_namespace: dict[tuple[uuid.UUID, str], Totals] = {}
    for cluster_id, kind, namespace, cost, count in session.execute(stmt):
        provider = providers.get(cluster_id)
        if provider is None:
            continue  # a gone cluster, or one outside ``cluster_ids``
        targets = (
            out.total,
            _slot(out.by_provider, provider),
            _slot(out.by_cluster, cluster_id),
            _slot(out.by_kind, kind),
            _slot(by_namespace, (cluster_id, namespace or "")),
        )
        for totals in targets:
            totals.ignored_cost += Decimal(cost)
            totals.ignored_findings += count
    return by_namespace


def _all_namespaces(
    session: Session,
    scope: list[ColumnElement[bool]],
    out: Breakdown,
    ignored: dict[tuple[uuid.UUID, str], Totals],
) -> None:
    stmt = (
        select(WasteCurrent.cluster_id, WasteCurrent.key, WasteCurrent.cost, WasteCurrent.findings)
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(*scope, WasteCurrent.dimension == NAMESPACE)
    )
    for cluster_id, key, cost, count in session.execute(stmt):
        part = ignored.get((cluster_id, key), Totals())
        totals = Totals(Decimal(cost), int(count), part.ignored_cost, part.ignored_findings)
        out.by_namespace[(cluster_id, key)] = totals
        out.namespaces_wasting += totals.waste > 0


def _top_namespaces(
    session: Session,
    scope: list[ColumnElement[bool]],
    out: Breakdown,
    ignored: dict[tuple[uuid.UUID, str], Totals],
    *,
    limit: int,
) -> None:
    """The ``limit`` namespaces wasting most, read in cost order from the index.

    Ignoring only lowers the namespaces holding ignored findings (``ignored``, few), so the
    ``limit`` wasting most are among the ``limit + len(ignored)`` costliest before ignoring:
    the database returns those, the ignored part comes off here, and they are ranked again."""
    candidates = session.execute(
        select(WasteCurrent.cluster_id, WasteCurrent.key, WasteCurrent.cost, WasteCurrent.findings)
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(*scope, WasteCurrent.dimension == NAMESPACE, WasteCurrent.cost > 0)
        .order_by(WasteCurrent.cost.desc(), WasteCurrent.cluster_id, WasteCurrent.key)
        .limit(limit + len(ignored))
    ).all()
    ranked: list[tuple[tuple[uuid.UUID, str], Totals]] = []
    for cluster_id, key, cost, count in candidates:
        part = ignored.get((cluster_id, key), Totals())
        totals = Totals(Decimal(cost), int(count), part.ignored_cost, part.ignored_findings)
        if totals.waste > 0:
            ranked.append(((cluster_id, key), totals))
    ranked.sort(key=lambda item: (-item[1].waste, str(item[0][0]), item[0][1]))
    out.by_namespace = dict(ranked[:limit])
    costly = session.scalar(
        select(func.count())
        .select_from(WasteCurrent)
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(*scope, WasteCurrent.dimension == NAMESPACE, WasteCurrent.cost > 0)
    )
    # A namespace whose every counted finding is ignored wastes nothing now.
    out.namespaces_wasting = int(costly or 0) - _emptied(session, scope, ignored)


def _emptied(
    session: Session, scope: list[ColumnElement[bool]], ignored: dict[tuple[uuid.UUID, str], Totals]
) -> int:
    """How many namespaces with a cost have all of it ignored now."""
    if not ignored:
        return 0
    rows = session.execute(
        select(WasteCurrent.cluster_id, WasteCurrent.key, WasteCurrent.cost)
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(
            *scope,
            WasteCurrent.dimension == NAMESPACE,
            WasteCurrent.cost > 0,
            WasteCurrent.cluster_id.in_({cluster_id for cluster_id, _ in ignored}),
        )
    )
    return sum(
        1
        for cluster_id, key, cost in rows
        if (cluster_id, key) in ignored
        and Decimal(cost) - ignored[(cluster_id, key)].ignored_cost <= 0
    )


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


DailyTable = type[OrgDailyWaste] | type[ClusterDailyWaste]


def _daily(
    session: Session,
    table: DailyTable,
    owner: ColumnElement[bool],
    *,
    by: str,
    start: date,
    today: date,
    now: Breakdown | None,
    top: int,
) -> Trend:
    """The trend of one owner's daily rows (an organisation's or a cluster's).

    The database picks the ``top`` keys over the window and returns only their rows and the
    daily totals; everything else is "other" (total minus the top keys), so a year stacked by
    cluster reads a few thousand rows, not every cluster's every day. A day with a total row
    is a complete picture of that day; a day without one repeats the last."""
    waste = table.cost - table.ignored_cost
    anchor = session.scalar(
        select(func.max(table.day)).where(owner, table.dimension == TOTAL, table.day < start)
    )
    first = anchor or start
    totals: dict[date, Decimal] = {
        day: Decimal(value)
        for day, value in session.execute(
            select(table.day, waste).where(owner, table.dimension == TOTAL, table.day >= first)
        )
    }
    keys: list[str] = []
    parts: dict[date, dict[str, Decimal]] = {}
    if by != TOTAL:
        weight = func.sum(waste)
        keys = list(
            session.scalars(
                select(table.key)
                .where(owner, table.dimension == by, table.day >= first)
                .group_by(table.key)
                .having(weight > 0)
                .order_by(weight.desc(), table.key)
                .limit(top)
            )
        )
        if keys:
            rows = session.execute(
                select(table.day, table.key, waste).where(
                    owner, table.dimension == by, table.day >= first, table.key.in_(keys)
                )
            )
            for day, key, value in rows:
                parts.setdefault(day, {})[key] = Decimal(value)
    days: list[date] = []
    total_values: list[Decimal] = []
    key_values: list[dict[str, Decimal]] = []
    last_total, last_parts = Decimal(0), {}
    if anchor is not None:
        last_total, last_parts = totals.get(anchor, Decimal(0)), parts.get(anchor, {})
    day = start
    while day <= today:
        if day in totals:
            last_total, last_parts = totals[day], parts.get(day, {})
        days.append(day)
        total_values.append(last_total)
        key_values.append(last_parts)
        day += timedelta(days=1)
    if now is not None and days:
        live = _live_point(now, by)
        total_values[-1] = now.total.waste
        key_values[-1] = {k: live.get(k, Decimal(0)) for k in keys}
    if by == TOTAL:
        return Trend(tuple(days), tuple(total_values), (Series(TOTAL, tuple(total_values)),))
    series = [Series(k, tuple(v.get(k, Decimal(0)) for v in key_values)) for k in keys]
    other = tuple(
        total - sum(v.values(), Decimal(0))
        for total, v in zip(total_values, key_values, strict=True)
    )
    if any(other):
        series.append(Series(OTHER, other))
    return Trend(tuple(days), tuple(total_values), tuple(series))


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
    owner = OrgDailyWaste.org_id == org_id
    return _daily(session, OrgDailyWaste, owner, by=by, start=start, today=today, now=now, top=top)


def _live_point(now: Breakdown, by: str) -> dict[str, Decimal]:
    if by == CLUSTER:
        return {str(k): t.waste for k, t in now.by_cluster.items()}
    if by == KIND:
        return {k: t.waste for k, t in now.by_kind.items()}
    if by == NAMESPACE:
        return {k[1]: t.waste for k, t in now.by_namespace.items()}
    return {}


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
    owner = ClusterDailyWaste.cluster_id == cluster_id
    return _daily(
        session, ClusterDailyWaste, owner, by=by, start=start, today=today, now=now, top=top
    )


def org_waste_on(session: Session, org_id: uuid.UUID, day: date) -> Decimal | None:
    """The organisation's waste as it stood on ``day`` (its last roll-up then); None before."""
    return _waste_on(session, OrgDailyWaste, OrgDailyWaste.org_id == org_id, day)


def cluster_waste_on(session: Session, cluster_id: uuid.UUID, day: date) -> Decimal | None:
    """One cluster's waste as it stood on ``day``; None before its first scan."""
    return _waste_on(session, ClusterDailyWaste, ClusterDailyWaste.cluster_id == cluster_id, day)


def _waste_on(
    session: Session, table: DailyTable, owner: ColumnElement[bool], day: date
) -> Decimal | None:
    row = session.execute(
        select(table.cost, table.ignored_cost)
        .where(owner, table.dimension == TOTAL, table.day <= day)
        .order_by(table.day.desc())
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
