"""Scan runs and the findings they publish.

A ScanRun moves queued → running → succeeded | failed. At most one run per cluster is queued or
running (a partial unique index, so two workers cannot both start one). ``Finding`` rows are a
cluster's *current* findings: a successful run replaces them in the same transaction that marks
it succeeded, so readers see the previous scan's findings or the new ones, never a mixture.
A finding keeps its identity (cluster, kind, namespace, name, rule) across scans, which is what
``first_seen_at`` means.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin
from app.tenancy import OrgScoped


class ScanStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


ACTIVE = (ScanStatus.queued.value, ScanStatus.running.value)
_ACTIVE_SQL = text("status IN ('queued', 'running')")
_IGNORED_SQL = text("ignore_rule_id IS NOT NULL")


class ScanTrigger(StrEnum):
    schedule = "schedule"
    manual = "manual"
    discovery = "discovery"


class ScanRun(IdMixin, TimestampMixin, OrgScoped, Base):
    __tablename__ = "scan_runs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'succeeded', 'failed')", name="status"),
        Index(
            "uq_scan_runs_one_active_per_cluster",
            "cluster_id",
            unique=True,
            postgresql_where=_ACTIVE_SQL,
            sqlite_where=_ACTIVE_SQL,
        ),
        Index("ix_scan_runs_cluster_created", "cluster_id", "created_at"),
    )

    cluster_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=ScanStatus.queued.value)
    attempts: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    objects_scanned: Mapped[int | None]
    api_requests: Mapped[int | None]
    findings_count: Mapped[int | None]
    monthly_cost_usd: Mapped[Decimal | None] = mapped_column(Numeric(14, 4))
    by_kind: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Finding(IdMixin, OrgScoped, Base):
    __tablename__ = "findings"
    __table_args__ = (
        Index("uq_findings_identity", "cluster_id", "identity", unique=True),
        # The explorer's keyset pages: (filter, sort key, id) so a page is an index range.
        Index("ix_findings_org_cost", "org_id", "monthly_cost_usd", "id"),
        Index("ix_findings_org_kind_cost", "org_id", "kind", "monthly_cost_usd", "id"),
        Index("ix_findings_org_namespace_cost", "org_id", "namespace", "monthly_cost_usd", "id"),
        Index("ix_findings_cluster_cost", "cluster_id", "monthly_cost_usd", "id"),
        Index("ix_findings_org_first_seen", "org_id", "first_seen_at", "id"),
        Index("ix_findings_org_name", "org_id", "name", "id"),
        Index("ix_findings_org_age", "org_id", text("coalesce(age_days, -1)"), "id"),
        Index("ix_findings_cluster_namespace", "cluster_id", "namespace"),
        # Name search (``q``): trigram matching on PostgreSQL; SQLite scans, which is fine there.
        Index(
            "ix_findings_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
        Index(
            "ix_findings_org_ignored",
            "org_id",
            postgresql_where=_IGNORED_SQL,
            sqlite_where=_IGNORED_SQL,
        ),
    )

    cluster_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clusters.id", ondelete="CASCADE"))
    scan_run_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("scan_runs.id", ondelete="CASCADE"), index=True
    )
    identity: Mapped[str] = mapped_column(String(64))  # sha256 of kind/namespace/name/rule
    kind: Mapped[str] = mapped_column(String(100))
    api_version: Mapped[str] = mapped_column(String(100))
    namespace: Mapped[str | None] = mapped_column(String(253))
    name: Mapped[str] = mapped_column(String(253))
    uid: Mapped[str] = mapped_column(String(64), default="")
    rule: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    confidence: Mapped[str] = mapped_column(String(8))
    cascade_from: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    evidence: Mapped[list[str]] = mapped_column(JSON, default=list)
    monthly_cost_usd: Mapped[Decimal] = mapped_column(Numeric(14, 4), default=Decimal(0))
    cost_basis: Mapped[str | None] = mapped_column(Text)
    cost_assumed: Mapped[bool] = mapped_column(default=False)  # a fallback price, not a list one
    counts_in_total: Mapped[bool] = mapped_column(default=True)
    security_risk: Mapped[bool] = mapped_column(default=False)
    age_days: Mapped[int | None]
    owner: Mapped[str | None] = mapped_column(String(255))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    # The ignore rule that matched at the last publish or rule change, and its expiry
    # (None: no expiry). Whether it applies *now* is ``app.findings.ignores.ignored_now``.
    ignore_rule_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ignore_rules.id", ondelete="SET NULL")
    )
    ignored_until: Mapped[datetime | None]
