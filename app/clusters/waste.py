"""What a cluster's page shows about its waste: the dashboard's views narrowed to one cluster.

Waste now is ``queries.breakdown`` of this cluster alone (its roll-ups, ignored findings taken
off live; a gone cluster keeps its last state), the change since last week
``queries.cluster_waste_on``, the clean-up of the last 30 days ``queries.resolved_since``, the
trend ``queries.cluster_trend`` (total, by kind or by namespace). Abandoned namespaces are the
engine's ``namespace-abandoned`` findings: such a finding does not count in totals, because the
namespace's cost is the sum of the findings inside it, shown here from the breakdown.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.analysis.engine import NAMESPACE_RULE
from app.clouds.models import Cluster
from app.dashboard.shares import Split, split
from app.dashboard.view import Change, change
from app.findings.filters import CLUSTER_SCOPED
from app.findings.ignores import is_ignored
from app.history import queries
from app.history.chart import Chart, build_chart
from app.history.queries import KIND, NAMESPACE, OTHER, TOTAL, Breakdown, Resolved, Totals
from app.scans.models import Finding

PERIODS = (30, 90, 365)
STACKS = ((TOTAL, "Total"), (KIND, "By kind"), (NAMESPACE, "By namespace"))
RESOLVED_DAYS = 30
TOP_KINDS = 12
TOP_NAMESPACES = 12
# The URL segment (and the explorer's namespace filter) for objects in no namespace.
CLUSTER_SCOPED_PATH = CLUSTER_SCOPED
CLUSTER_SCOPED_LABEL = "(cluster-scoped)"


def parse_days(value: str | None) -> int:
    """The trend period: 30, 90 or 365 days; anything else is 30."""
    return int(value) if value in {str(p) for p in PERIODS} else PERIODS[0]


def parse_by(value: str | None) -> str:
    """How the trend stacks: total, kind or namespace; anything else is total."""
    return value if value in {key for key, _ in STACKS} else TOTAL


def namespace_path(cluster_id: uuid.UUID, key: str) -> str:
    """The namespace page of ``key`` ('' is the cluster-scoped objects, at ``-``)."""
    segment = quote(key, safe="") if key else CLUSTER_SCOPED_PATH
    return f"/clusters/{cluster_id}/namespaces/{segment}"


def namespace_label(key: str) -> str:
    return key or CLUSTER_SCOPED_LABEL


@dataclass(frozen=True, slots=True)
class AbandonedNamespace:
    """A namespace where nothing runs or is scheduled to run, yet objects remain."""

    name: str
    href: str
    finding_id: uuid.UUID
    reason: str
    evidence: tuple[str, ...]
    confidence: str
    waste: Decimal  # the findings inside it that count now
    findings: int
    ignored: bool  # the namespace's own finding is ignored
    first_seen_at: datetime


@dataclass(frozen=True)
class ClusterWaste:
    """The waste views of one cluster; ``scanned`` False until its first publish."""

    scanned: bool
    days: int
    by: str
    now: Totals
    week: Change | None
    resolved: Resolved
    kinds: Split
    namespaces: Split
    abandoned: tuple[AbandonedNamespace, ...]
    chart: Chart


def namespace_findings(
    session: Session, cluster_id: uuid.UUID, *, name: str | None = None
) -> list[Finding]:
    """The engine's "abandoned namespace" findings of the cluster (of one name if given)."""
    stmt = select(Finding).where(
        Finding.cluster_id == cluster_id,
        Finding.namespace.is_(None),  # a Namespace is cluster-scoped: the index narrows to these
        Finding.kind == "Namespace",
        Finding.rule == NAMESPACE_RULE,
    )
    if name is not None:
        stmt = stmt.where(Finding.name == name)
    return list(session.scalars(stmt))


def abandoned(
    finding: Finding, inside: Totals, *, cluster_id: uuid.UUID, now: datetime
) -> AbandonedNamespace:
    """An abandoned namespace from its finding and the totals of the findings inside it."""
    return AbandonedNamespace(
        name=finding.name,
        href=namespace_path(cluster_id, finding.name),
        finding_id=finding.id,
        reason=finding.reason,
        evidence=tuple(finding.evidence or ()),
        confidence=finding.confidence,
        waste=inside.waste,
        findings=inside.counted,
        ignored=is_ignored(finding, now),
        first_seen_at=finding.first_seen_at,
    )


def abandoned_namespaces(
    session: Session, cluster_id: uuid.UUID, now_breakdown: Breakdown, *, now: datetime
) -> tuple[AbandonedNamespace, ...]:
    """The cluster's abandoned namespaces, costliest first, each priced by its findings."""
    out = [
        abandoned(
            f,
            now_breakdown.by_namespace.get((cluster_id, f.name), Totals()),
            cluster_id=cluster_id,
            now=now,
        )
        for f in namespace_findings(session, cluster_id)
    ]
    out.sort(key=lambda a: (-a.waste, a.name))
    return tuple(out)


def _chart(
    session: Session,
    cluster: Cluster,
    now_breakdown: Breakdown,
    *,
    now: datetime,
    days: int,
    by: str,
) -> Chart:
    trend = queries.cluster_trend(
        session, cluster.id, today=now.date(), days=days, by=by, now=now_breakdown
    )
    labels: dict[str, str] = {}
    if by == NAMESPACE:
        labels = {"": CLUSTER_SCOPED_LABEL, OTHER: "Other namespaces"}
    elif by == KIND:
        labels = {OTHER: "Other kinds"}
    stack = {KIND: ", by kind", NAMESPACE: ", by namespace"}.get(by, "")
    return build_chart(
        trend,
        title=f"Monthly waste of {cluster.name}, day by day: the last {days} days{stack}",
        labels=labels,
        chart_id="trend",
    )


def _kind_row(kind: str) -> tuple[str, str | None]:
    return kind, None


def build(session: Session, cluster: Cluster, *, now: datetime, days: int, by: str) -> ClusterWaste:
    """Everything the cluster page shows about ``cluster``'s waste at ``now``."""
    bd = queries.breakdown(session, cluster.org_id, now=now, cluster_ids=[cluster.id])
    total = bd.total.waste
    before = queries.cluster_waste_on(session, cluster.id, now.date() - timedelta(days=7))
    explorer = f"/findings?cluster={cluster.id}"
    kinds = split(bd.by_kind, total, describe=_kind_row, limit=TOP_KINDS, more_href=explorer)
    namespaces = split(
        {key: t for (_, key), t in bd.by_namespace.items()},
        total,
        describe=lambda key: (namespace_label(key), namespace_path(cluster.id, key)),
        limit=TOP_NAMESPACES,
        more_href=explorer,
    )
    return ClusterWaste(
        scanned=cluster.id in bd.by_cluster,
        days=days,
        by=by,
        now=bd.total,
        week=change(total, before),
        resolved=queries.resolved_since(
            session,
            cluster.org_id,
            now - timedelta(days=RESOLVED_DAYS),
            cluster_ids=[cluster.id],
        ),
        kinds=kinds,
        namespaces=namespaces,
        abandoned=abandoned_namespaces(session, cluster.id, bd, now=now),
        chart=_chart(session, cluster, bd, now=now, days=days, by=by),
    )
