"""Write the roll-ups: a cluster's current breakdown, its day, and its organisation's day.

``refresh_cluster`` re-sums one cluster's findings (a few thousand rows at most) into
``WasteCurrent`` and today's ``ClusterDailyWaste``; ``refresh_org_day`` re-sums the
organisation's ``WasteCurrent`` rows (tens of rows per cluster) into today's
``OrgDailyWaste``. Both run inside the caller's transaction — the scan publish, an ignore-rule
change, a cluster gone — so roll-ups and findings change together. ``refresh_org_day`` locks
the organisation row (FOR NO KEY UPDATE): two clusters publishing at once take turns, and the
second sees the first's rows (READ COMMITTED reads the latest committed data per statement).

``aggregate`` is pure and shared with the demo seeder, which writes whole histories at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.accounts.models import Organisation
from app.clouds.models import Cluster, ClusterState
from app.findings.ignores import ignored_now
from app.history.models import ClusterDailyWaste, OrgDailyWaste, WasteCurrent
from app.scans.models import Finding

TOTAL = "total"
KIND = "kind"
NAMESPACE = "namespace"
RULE = "rule"
PROVIDER = "provider"
CLUSTER = "cluster"
CLUSTER_DIMENSIONS = (TOTAL, KIND, NAMESPACE, RULE)
DAILY_DIMENSIONS = (TOTAL, KIND, NAMESPACE)  # what cluster trends stack by; rules stay current
ORG_DIMENSIONS = (TOTAL, PROVIDER, CLUSTER, KIND)
KEY_WIDTH = 300


@dataclass(slots=True)
class Totals:
    """Counted findings and their monthly cost; the ignored part kept beside them."""

    cost: Decimal = Decimal(0)
    findings: int = 0
    ignored_cost: Decimal = Decimal(0)
    ignored_findings: int = 0

    def add(self, cost: Decimal, count: int, *, ignored: bool) -> None:
        self.cost += cost
        self.findings += count
        if ignored:
            self.ignored_cost += cost
            self.ignored_findings += count

    def merge(self, other: Totals) -> None:
        self.cost += other.cost
        self.findings += other.findings
        self.ignored_cost += other.ignored_cost
        self.ignored_findings += other.ignored_findings

    @property
    def waste(self) -> Decimal:
        """What counts: the cost of the findings that are not ignored."""
        return self.cost - self.ignored_cost

    @property
    def counted(self) -> int:
        return self.findings - self.ignored_findings


class Group(NamedTuple):
    """Counted findings of one (kind, namespace, rule), ignored or not, summed."""

    kind: str
    namespace: str | None
    rule: str
    ignored: bool
    cost: Decimal
    findings: int


Key = tuple[str, str]  # (dimension, key)


def aggregate(groups: Iterable[Group]) -> dict[Key, Totals]:
    """A cluster's totals per dimension (total, kind, namespace, rule) from its groups."""
    out: dict[Key, Totals] = {(TOTAL, ""): Totals()}
    for g in groups:
        cost = Decimal(g.cost)
        for key in ((TOTAL, ""), (KIND, g.kind), (NAMESPACE, g.namespace or ""), (RULE, g.rule)):
            totals = out.get(key)
            if totals is None:
                totals = out[key] = Totals()
            totals.add(cost, g.findings, ignored=g.ignored)
    return out


def _groups(session: Session, cluster_id: uuid.UUID, *, now: datetime) -> list[Group]:
    ignored = ignored_now(now).label("ignored")
    stmt = (
        select(
            Finding.kind,
            Finding.namespace,
            Finding.rule,
            ignored,
            func.coalesce(func.sum(Finding.monthly_cost_usd), 0),
            func.count(),
        )
        .where(Finding.cluster_id == cluster_id, Finding.counts_in_total.is_(True))
        .group_by(Finding.kind, Finding.namespace, Finding.rule, ignored)
    )
    return [
        Group(kind, namespace, rule, bool(ign), Decimal(cost), int(count))
        for kind, namespace, rule, ign, cost, count in session.execute(stmt)
    ]


def rows_for(totals: dict[Key, Totals], **columns: Any) -> list[dict[str, Any]]:
    """Insertable roll-up rows: one per (dimension, key), with the given fixed columns."""
    return [
        {
            **columns,
            "dimension": dimension,
            "key": key[:KEY_WIDTH],
            "cost": t.cost,
            "findings": t.findings,
            "ignored_cost": t.ignored_cost,
            "ignored_findings": t.ignored_findings,
        }
        for (dimension, key), t in totals.items()
    ]


def refresh_cluster(
    session: Session, cluster_id: uuid.UUID, org_id: uuid.UUID, *, now: datetime
) -> dict[Key, Totals]:
    """Re-sum the cluster's findings into its current and today's roll-up rows."""
    totals = aggregate(_groups(session, cluster_id, now=now))
    today = now.date()
    session.execute(delete(WasteCurrent).where(WasteCurrent.cluster_id == cluster_id))
    session.execute(
        delete(ClusterDailyWaste).where(
            ClusterDailyWaste.cluster_id == cluster_id, ClusterDailyWaste.day == today
        )
    )
    base = {"org_id": org_id, "cluster_id": cluster_id}
    session.execute(insert(WasteCurrent), rows_for(totals, **base))
    daily = {key: t for key, t in totals.items() if key[0] in DAILY_DIMENSIONS}
    session.execute(insert(ClusterDailyWaste), rows_for(daily, **base, day=today))
    return totals


def org_totals(current: Iterable[tuple[uuid.UUID, str, str, str, Totals]]) -> dict[Key, Totals]:
    """An organisation's totals per dimension from its clusters' current rows.

    ``current`` holds (cluster id, provider, dimension, key, totals) of active clusters."""
    out: dict[Key, Totals] = {(TOTAL, ""): Totals()}
    for cluster_id, provider, dimension, key, totals in current:
        if dimension == TOTAL:
            cluster_key = str(cluster_id)
            targets: tuple[Key, ...] = ((TOTAL, ""), (PROVIDER, provider), (CLUSTER, cluster_key))
        elif dimension == KIND:
            targets = ((KIND, key),)
        else:
            continue
        for target in targets:
            into = out.get(target)
            if into is None:
                into = out[target] = Totals()
            into.merge(totals)
    return out


def _current_rows(
    session: Session, org_id: uuid.UUID
) -> Iterable[tuple[uuid.UUID, str, str, str, Totals]]:
    stmt = (
        select(
            WasteCurrent.cluster_id,
            Cluster.provider,
            WasteCurrent.dimension,
            WasteCurrent.key,
            WasteCurrent.cost,
            WasteCurrent.findings,
            WasteCurrent.ignored_cost,
            WasteCurrent.ignored_findings,
        )
        .join(Cluster, Cluster.id == WasteCurrent.cluster_id)
        .where(
            WasteCurrent.org_id == org_id,
            Cluster.state == ClusterState.active.value,
            WasteCurrent.dimension.in_((TOTAL, KIND)),
        )
    )
    for cluster_id, provider, dimension, key, cost, count, icost, icount in session.execute(stmt):
        yield cluster_id, provider, dimension, key, Totals(cost, count, icost, icount)


def refresh_org_day(session: Session, org_id: uuid.UUID, *, now: datetime) -> dict[Key, Totals]:
    """Re-sum the organisation's active clusters into today's organisation roll-up rows."""
    # FOR NO KEY UPDATE: the findings and roll-ups this transaction inserted hold KEY SHARE on
    # the organisation row (their foreign keys); FOR UPDATE would wait for another publisher's
    # KEY SHARE while it waits for ours — a deadlock. NO KEY UPDATE only queues publishers.
    session.execute(
        select(Organisation.id).where(Organisation.id == org_id).with_for_update(key_share=True)
    )
    totals = org_totals(_current_rows(session, org_id))
    write_org_day(session, org_id, now.date(), totals)
    return totals


def write_org_day(
    session: Session, org_id: uuid.UUID, day: date, totals: dict[Key, Totals]
) -> None:
    session.execute(
        delete(OrgDailyWaste).where(OrgDailyWaste.org_id == org_id, OrgDailyWaste.day == day)
    )
    session.execute(insert(OrgDailyWaste), rows_for(totals, org_id=org_id, day=day))


def refresh_clusters(
    session: Session, org_id: uuid.UUID, cluster_ids: Iterable[uuid.UUID], *, now: datetime
) -> None:
    """After an ignore-rule change or a cluster gone: the clusters, then the organisation."""
    for cluster_id in dict.fromkeys(cluster_ids):
        refresh_cluster(session, cluster_id, org_id, now=now)
    refresh_org_day(session, org_id, now=now)
