"""What the cluster pages read about scans: run history, latest runs, current findings, totals.

Callers pass cluster ids they already loaded through the tenant guard (``get_for_org`` or a
``scoped`` list), so these functions filter by cluster only.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.scans.models import Finding, ScanRun, ScanStatus


def runs_for_cluster(session: Session, cluster_id: uuid.UUID, *, limit: int) -> list[ScanRun]:
    """The cluster's most recent runs, newest first (the scan history table)."""
    stmt = (
        select(ScanRun)
        .where(ScanRun.cluster_id == cluster_id)
        .order_by(ScanRun.created_at.desc(), ScanRun.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def latest_runs(session: Session, cluster_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ScanRun]:
    """Each cluster's newest run, whatever its status (the list's "last scan" column)."""
    return _latest(session, cluster_ids, succeeded_only=False)


def cluster_totals(
    session: Session, cluster_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, Decimal]]:
    """(findings, monthly cost) per cluster from its latest *succeeded* run.

    A failed or running scan never changes the numbers shown: they are those of the findings
    that were last published."""
    runs = _latest(session, cluster_ids, succeeded_only=True)
    return {
        cluster_id: (run.findings_count or 0, run.monthly_cost_usd or Decimal(0))
        for cluster_id, run in runs.items()
    }


def cluster_findings(session: Session, cluster_id: uuid.UUID, *, limit: int) -> list[Finding]:
    """The cluster's current findings, most expensive first, then by kind, namespace, name."""
    stmt = (
        select(Finding)
        .where(Finding.cluster_id == cluster_id)
        .order_by(
            Finding.monthly_cost_usd.desc(),
            Finding.kind,
            Finding.namespace,
            Finding.name,
            Finding.rule,
        )
        .limit(limit)
    )
    return list(session.scalars(stmt))


def _latest(
    session: Session, cluster_ids: Collection[uuid.UUID], *, succeeded_only: bool
) -> dict[uuid.UUID, ScanRun]:
    ids = list(dict.fromkeys(cluster_ids))
    if not ids:
        return {}
    ranked = select(
        ScanRun.id,
        func.row_number()
        .over(
            partition_by=ScanRun.cluster_id,
            order_by=(ScanRun.created_at.desc(), ScanRun.id.desc()),
        )
        .label("rank"),
    ).where(ScanRun.cluster_id.in_(ids))
    if succeeded_only:
        ranked = ranked.where(ScanRun.status == ScanStatus.succeeded.value)
    newest = ranked.subquery()
    stmt = select(ScanRun).join(newest, newest.c.id == ScanRun.id).where(newest.c.rank == 1)
    return {run.cluster_id: run for run in session.scalars(stmt)}
