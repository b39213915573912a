"""What a namespace's page shows: its waste now by kind, its trend, whether the namespace itself
is abandoned (and why), its findings, and the ignore rules written for it.

The page's URL names the namespace; ``-`` stands for the cluster's cluster-scoped objects
(PersistentVolumes, StorageClasses, …), which no namespace holds. A namespace with no current
findings (cleaned up, never scanned, or mistyped) is a page saying so, not an error.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.clouds.models import Cluster
from app.clusters.waste import (
    CLUSTER_SCOPED_LABEL,
    CLUSTER_SCOPED_PATH,
    AbandonedNamespace,
    abandoned,
    namespace_findings,
    namespace_path,
)
from app.dashboard.shares import Split, split
from app.findings.ignore_view import Held, RuleRow, namespace_rules, rule_rows
from app.findings.ignores import ignored_now
from app.history.chart import Chart, build_chart
from app.history.namespace import CLUSTER_SCOPED, in_namespace, namespace_now, namespace_trend
from app.history.queries import Totals
from app.scans.models import Finding

FINDINGS_SHOWN = 200
PERIODS = (30, 90, 365)


def namespace_key(segment: str) -> str:
    """The roll-ups' key for the URL's namespace segment ('' for the cluster-scoped objects)."""
    return CLUSTER_SCOPED if segment == CLUSTER_SCOPED_PATH else segment


@dataclass(frozen=True)
class NamespacePage:
    key: str
    label: str
    cluster_scoped: bool
    now: Totals
    kinds: Split
    abandoned: AbandonedNamespace | None
    findings: list[Finding]
    findings_total: int
    chart: Chart
    days: int
    rules: list[RuleRow]
    held_here: dict[uuid.UUID, Held]
    href: str
    explorer_href: str
    new_rule_href: str


def _findings(session: Session, cluster_id: uuid.UUID, key: str) -> tuple[list[Finding], int]:
    where = (Finding.cluster_id == cluster_id, in_namespace(key))
    total = session.scalar(select(func.count()).select_from(Finding).where(*where)) or 0
    stmt = (
        select(Finding)
        .where(*where)
        .order_by(Finding.monthly_cost_usd.desc(), Finding.kind, Finding.name, Finding.rule)
        .limit(FINDINGS_SHOWN)
    )
    return list(session.scalars(stmt)), int(total)


def _held_here(
    session: Session, cluster_id: uuid.UUID, key: str, *, now: datetime
) -> dict[uuid.UUID, Held]:
    """Per rule: the findings of this namespace it holds now (counted cost beside)."""
    stmt = (
        select(
            Finding.ignore_rule_id,
            func.count(),
            func.coalesce(func.sum(Finding.monthly_cost_usd), 0),
        )
        .where(
            Finding.cluster_id == cluster_id,
            in_namespace(key),
            ignored_now(now),
            Finding.counts_in_total.is_(True),
        )
        .group_by(Finding.ignore_rule_id)
    )
    return {
        rule_id: Held(int(count), Decimal(cost))
        for rule_id, count, cost in session.execute(stmt)
        if rule_id is not None
    }


def build(
    session: Session, cluster: Cluster, segment: str, *, now: datetime, days: int
) -> NamespacePage:
    """The namespace page of ``segment`` in ``cluster`` at ``now``."""
    key = namespace_key(segment)
    current = namespace_now(session, cluster.id, key, now=now)
    findings, total = _findings(session, cluster.id, key)
    own = namespace_findings(session, cluster.id, name=key) if key else []
    trend = namespace_trend(
        session, cluster.id, key, today=now.date(), days=days, now=current.total.waste
    )
    label = key or CLUSTER_SCOPED_LABEL
    title = "Cluster-scoped objects" if not key else f"Namespace {key}"
    rules = namespace_rules(session, cluster.org_id, cluster.id, key or None)
    explorer = {"cluster": str(cluster.id), "namespace": key or CLUSTER_SCOPED_PATH}
    new_rule = {"cluster": str(cluster.id), "namespace": key or CLUSTER_SCOPED_PATH}
    return NamespacePage(
        key=key,
        label=label,
        cluster_scoped=not key,
        now=current.total,
        kinds=split(
            current.by_kind,
            current.total.waste,
            describe=lambda kind: (kind, None),
            limit=max(len(current.by_kind), 1),
        ),
        abandoned=abandoned(own[0], current.total, cluster_id=cluster.id, now=now) if own else None,
        findings=findings,
        findings_total=total,
        chart=build_chart(
            trend,
            title=f"Monthly waste of {title.lower() if not key else title} in {cluster.name},"
            f" day by day: the last {days} days",
            labels={"total": f"{label} waste"},
            chart_id="trend",
        ),
        days=days,
        rules=rule_rows(session, cluster.org_id, rules, now=now),
        held_here=_held_here(session, cluster.id, key, now=now),
        href=namespace_path(cluster.id, key),
        explorer_href="/findings?" + urlencode(explorer),
        new_rule_href="/ignores?" + urlencode(new_rule) + "#new-rule",
    )
