"""The rows the dashboard names: the organisation's clusters and its costliest findings.

The costliest findings are the one read of the findings table: the ten that count now, in
cost order, which the ``(org_id, monthly_cost_usd)`` index serves without a sort.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clouds.models import Cluster, ClusterState
from app.findings.ignores import counted
from app.scans.models import Finding

TOP_FINDINGS = 10
REASON_CHARS = 110


@dataclass(frozen=True, slots=True)
class ClusterName:
    id: uuid.UUID
    name: str
    label: str  # the name, with the region when two clusters share it
    provider: str
    active: bool


@dataclass(frozen=True, slots=True)
class TopFinding:
    id: uuid.UUID
    kind: str
    namespace: str | None
    name: str
    cluster: ClusterName
    reason: str
    monthly_cost_usd: Decimal
    cost_basis: str | None  # what the cost is made of (shown on hover)
    cost_assumed: bool  # a fallback price, not a list one
    confidence: str
    security_risk: bool


def cluster_names(session: Session, org_id: uuid.UUID) -> dict[uuid.UUID, ClusterName]:
    """Every cluster of the organisation (gone ones too: history may name them)."""
    rows = session.execute(
        select(Cluster.id, Cluster.name, Cluster.region, Cluster.provider, Cluster.state).where(
            Cluster.org_id == org_id
        )
    ).all()
    seen: dict[str, int] = {}
    for row in rows:
        seen[row.name] = seen.get(row.name, 0) + 1
    return {
        row.id: ClusterName(
            id=row.id,
            name=row.name,
            label=f"{row.name} ({row.region})" if seen[row.name] > 1 and row.region else row.name,
            provider=row.provider,
            active=row.state == ClusterState.active.value,
        )
        for row in rows
    }


def top_findings(
    session: Session, org_id: uuid.UUID, clusters: dict[uuid.UUID, ClusterName], *, now: datetime
) -> tuple[TopFinding, ...]:
    """The costliest findings that count now, on clusters still found (none costing nothing)."""
    stmt = (
        select(
            Finding.id,
            Finding.cluster_id,
            Finding.kind,
            Finding.namespace,
            Finding.name,
            Finding.reason,
            Finding.monthly_cost_usd,
            Finding.cost_basis,
            Finding.cost_assumed,
            Finding.confidence,
            Finding.security_risk,
        )
        .join(Cluster, Cluster.id == Finding.cluster_id)
        .where(
            Finding.org_id == org_id,
            Cluster.state == ClusterState.active.value,
            Finding.monthly_cost_usd > 0,
            counted(now),
        )
        .order_by(Finding.monthly_cost_usd.desc())
        .limit(TOP_FINDINGS)
    )
    out = []
    for row in session.execute(stmt):
        reason = row.reason if len(row.reason) <= REASON_CHARS else row.reason[:REASON_CHARS] + "…"
        out.append(
            TopFinding(
                id=row.id,
                kind=row.kind,
                namespace=row.namespace,
                name=row.name,
                cluster=clusters[row.cluster_id],
                reason=reason,
                monthly_cost_usd=Decimal(row.monthly_cost_usd),
                cost_basis=row.cost_basis,
                cost_assumed=row.cost_assumed,
                confidence=row.confidence,
                security_risk=row.security_risk,
            )
        )
    # Equal costs in a stable order, whatever order the index returned them in.
    out.sort(key=lambda f: (-f.monthly_cost_usd, f.kind, f.namespace or "", f.name, str(f.id)))
    return tuple(out)
