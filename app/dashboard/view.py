"""What the dashboard shows, read from the roll-ups with a handful of indexed queries.

Nothing here sums the findings table. "Now" comes from ``queries.breakdown`` with the top
namespaces ranked by the database (the clusters' ``WasteCurrent`` rows summed, ignored findings
taken off live), last week and last month from ``queries.org_waste_on`` (one indexed
row each), cleaned-up waste from ``queries.resolved_since`` and the trend from
``queries.org_trend`` (today's point live). The only read of findings is the ten costliest
that count now, which the ``(org_id, monthly_cost_usd)`` index serves in order.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from urllib.parse import quote

from sqlalchemy.orm import Session

from app.dashboard.rows import ClusterName, TopFinding, cluster_names, top_findings
from app.dashboard.shares import Share, Split, split
from app.history import queries
from app.history.chart import Chart, build_chart
from app.history.queries import CLUSTER, KIND, OTHER, TOTAL, Breakdown, Resolved

PERIODS = (30, 90, 365)
STACKS = ((TOTAL, "Total"), (CLUSTER, "By cluster"), (KIND, "By kind"))
TOP_CLUSTERS = 8
TOP_NAMESPACES = 10
TOP_KINDS = 10
RESOLVED_DAYS = 30
PROVIDER_NAMES = {
    "aws": "AWS",
    "gcp": "Google Cloud",
    "azure": "Azure",
    "kubeconfig": "Added by kubeconfig",
}
CENT = Decimal("0.01")


def parse_days(value: str | None) -> int:
    """The trend period: 30, 90 or 365 days; anything else is the default 30."""
    return int(value) if value in {str(p) for p in PERIODS} else PERIODS[0]


def parse_by(value: str | None) -> str:
    """How the trend stacks: total, cluster or kind; anything else is total."""
    return value if value in {key for key, _ in STACKS} else TOTAL


class State(StrEnum):
    no_clusters = "no_clusters"  # nothing connected (or every cluster is gone)
    not_scanned = "not_scanned"  # clusters, none published a scan yet
    ready = "ready"


@dataclass(frozen=True, slots=True)
class Change:
    """Waste now against an earlier day: up is worse."""

    amount: Decimal  # absolute, to the cent
    percent: Decimal | None  # None when the earlier value was zero
    direction: str  # "up" | "down" | "same"

    @property
    def percent_text(self) -> str:
        if self.percent is None:
            return "from $0" if self.direction == "up" else ""
        sign = "+" if self.direction == "up" else "−" if self.direction == "down" else ""
        return f"{sign}{abs(self.percent):.1f}%"


def change(now: Decimal, before: Decimal | None) -> Change | None:
    """How ``now`` compares with ``before``; None when there was no history then."""
    if before is None:
        return None
    delta = (now - before).quantize(CENT)
    direction = "up" if delta > 0 else "down" if delta < 0 else "same"
    percent = (delta / before * 100) if before > 0 else None
    return Change(amount=abs(delta), percent=percent, direction=direction)


@dataclass(frozen=True)
class Dashboard:
    state: State
    days: int
    by: str
    active_clusters: int
    gone_clusters: int
    scanned_clusters: int = 0
    now: Breakdown | None = None
    week: Change | None = None
    month: Change | None = None
    resolved: Resolved | None = None
    providers: Split | None = None
    clusters: Split | None = None
    kinds: Split | None = None
    namespaces: Split | None = None
    top: tuple[TopFinding, ...] = ()
    chart: Chart | None = None

    @property
    def waste(self) -> Decimal:
        return self.now.total.waste if self.now else Decimal(0)

    @property
    def findings(self) -> int:
        return self.now.total.counted if self.now else 0


def _splits(now: Breakdown, clusters: dict[uuid.UUID, ClusterName]) -> dict[str, Split]:
    total = now.total.waste

    def cluster_label(cluster_id: uuid.UUID) -> str:
        known = clusters.get(cluster_id)
        return known.label if known else "Removed cluster"

    def namespace(key: tuple[uuid.UUID, str]) -> tuple[str, str | None]:
        cluster_id, name = key
        if not name:
            return f"{cluster_label(cluster_id)} / (cluster-scoped)", None
        href = f"/clusters/{cluster_id}/namespaces/{quote(name, safe='')}"
        return f"{cluster_label(cluster_id)} / {name}", href

    return {
        "providers": split(
            now.by_provider,
            total,
            describe=lambda k: (PROVIDER_NAMES.get(k, k), None),
            limit=len(now.by_provider),
        ),
        "clusters": split(
            now.by_cluster,
            total,
            describe=lambda k: (cluster_label(k), f"/clusters/{k}"),
            limit=TOP_CLUSTERS,
            more_href="/clusters",
        ),
        "kinds": split(
            now.by_kind, total, describe=lambda k: (k, None), limit=TOP_KINDS, more_href="/findings"
        ),
        "namespaces": split(
            now.by_namespace,
            total,
            describe=namespace,
            limit=TOP_NAMESPACES,
            more_href="/findings",
            wasting=now.namespaces_wasting,
        ),
    }


def trend_chart(
    session: Session,
    org_id: uuid.UUID,
    *,
    now: datetime,
    days: int,
    by: str,
    breakdown: Breakdown,
    clusters: dict[uuid.UUID, ClusterName],
) -> Chart:
    """The organisation's trend over ``days`` days stacked ``by``, today's point live."""
    trend = queries.org_trend(session, org_id, today=now.date(), days=days, by=by, now=breakdown)
    labels: dict[str, str] = {}
    if by == CLUSTER:
        labels = {str(c.id): c.label for c in clusters.values()}
        labels[OTHER] = "Other clusters"
    elif by == KIND:
        labels[OTHER] = "Other kinds"
    stack = {CLUSTER: ", by cluster", KIND: ", by kind"}.get(by, "")
    return build_chart(
        trend,
        title=f"Monthly waste, day by day: the last {days} days{stack}",
        labels=labels,
        chart_id="trend",
    )


def build(session: Session, org_id: uuid.UUID, *, now: datetime, days: int, by: str) -> Dashboard:
    """Everything the dashboard of ``org_id`` shows at ``now``."""
    clusters = cluster_names(session, org_id)
    active = sum(1 for c in clusters.values() if c.active)
    gone = len(clusters) - active
    if active == 0:
        return Dashboard(State.no_clusters, days, by, active, gone)
    breakdown = queries.breakdown(session, org_id, now=now, namespaces=TOP_NAMESPACES)
    if not breakdown.by_cluster:
        return Dashboard(State.not_scanned, days, by, active, gone)
    today = now.date()
    waste = breakdown.total.waste
    splits = _splits(breakdown, clusters)
    return Dashboard(
        State.ready,
        days,
        by,
        active,
        gone,
        scanned_clusters=len(breakdown.by_cluster),
        now=breakdown,
        week=change(waste, queries.org_waste_on(session, org_id, today - timedelta(days=7))),
        month=change(waste, queries.org_waste_on(session, org_id, today - timedelta(days=30))),
        resolved=queries.resolved_since(session, org_id, now - timedelta(days=RESOLVED_DAYS)),
        providers=splits["providers"],
        clusters=splits["clusters"],
        kinds=splits["kinds"],
        namespaces=splits["namespaces"],
        top=top_findings(session, org_id, clusters, now=now),
        chart=trend_chart(
            session, org_id, now=now, days=days, by=by, breakdown=breakdown, clusters=clusters
        ),
    )


__all__ = [
    "PERIODS",
    "STACKS",
    "Change",
    "Dashboard",
    "Share",
    "Split",
    "State",
    "build",
    "change",
    "parse_by",
    "parse_days",
    "trend_chart",
]
