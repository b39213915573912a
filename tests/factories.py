"""Arrange organisations' cloud accounts, clusters, runs and findings directly in the database.

Page and service tests build exactly the rows they need with these, then check everything
through real requests or the public services. ``refresh`` writes the roll-ups the way a scan
publish does."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Membership, User
from app.clouds.models import CloudAccount, Cluster
from app.db import utcnow
from app.history.rollups import refresh_cluster, refresh_org_day
from app.scans.models import Finding, ScanRun
from app.scans.service import finding_identity


def add_account(
    db: Session, org_id: uuid.UUID, name: str, *, provider: str = "aws", status: str = "connected"
) -> CloudAccount:
    account = CloudAccount(
        org_id=org_id, provider=provider, name=name, config={}, status=status, discovery_warnings=[]
    )
    db.add(account)
    db.flush()
    return account


def add_cluster(
    db: Session,
    account: CloudAccount,
    name: str,
    *,
    region: str = "eu-west-1",
    version: str | None = "1.33",
    nodes: int | None = 3,
    gone: bool = False,
) -> Cluster:
    now = utcnow()
    cluster = Cluster(
        org_id=account.org_id,
        account_id=account.id,
        provider=account.provider,
        external_id=f"{account.provider}:{name}:{uuid.uuid4()}",
        name=name,
        region=region,
        kubernetes_version=version,
        endpoint=f"https://{uuid.uuid4().hex[:8]}.api.example.test:443",
        node_count=nodes,
        cloud_status="ACTIVE",
        details={},
        state="gone" if gone else "active",
        first_seen_at=now - timedelta(days=30),
        last_seen_at=now,
        gone_at=now - timedelta(days=2) if gone else None,
    )
    db.add(cluster)
    db.flush()
    return cluster


def add_run(
    db: Session,
    cluster: Cluster,
    *,
    status: str = "succeeded",
    trigger: str = "schedule",
    age: timedelta = timedelta(hours=1),
    findings: int | None = None,
    cost: Decimal | None = None,
    error: str | None = None,
    warnings: list[str] | None = None,
) -> ScanRun:
    created = utcnow() - age
    finished = status in ("succeeded", "failed")
    run = ScanRun(
        org_id=cluster.org_id,
        cluster_id=cluster.id,
        trigger=trigger,
        status=status,
        attempts=1 if status != "queued" else 0,
        created_at=created,
        started_at=created + timedelta(seconds=5) if status != "queued" else None,
        finished_at=created + timedelta(seconds=47) if finished else None,
        objects_scanned=1234 if status == "succeeded" else None,
        api_requests=40 if status == "succeeded" else None,
        findings_count=findings,
        monthly_cost_usd=cost,
        by_kind={},
        warnings=warnings or [],
        error=error,
    )
    db.add(run)
    db.flush()
    return run


def add_finding(
    db: Session,
    run: ScanRun,
    *,
    kind: str,
    name: str,
    cost: str,
    namespace: str | None = "shop",
    rule: str = "unused",
    reason: str = "Nothing mounts or references it.",
    basis: str | None = None,
    confidence: str = "high",
    api_version: str = "v1",
    cascade_from: Iterable[dict[str, str | None]] = (),
    evidence: Iterable[str] = (),
    owner: str | None = None,
    age_days: int | None = 90,
    first_seen: datetime | None = None,
    counts_in_total: bool | None = None,
) -> Finding:
    now = utcnow()
    finding = Finding(
        org_id=run.org_id,
        cluster_id=run.cluster_id,
        scan_run_id=run.id,
        identity=finding_identity(kind, namespace, name, rule),
        kind=kind,
        api_version=api_version,
        namespace=namespace,
        name=name,
        rule=rule,
        reason=reason,
        confidence=confidence,
        cascade_from=list(cascade_from),
        evidence=list(evidence),
        monthly_cost_usd=Decimal(cost),
        cost_basis=basis,
        cost_assumed=False,
        counts_in_total=confidence != "low" if counts_in_total is None else counts_in_total,
        security_risk=False,
        age_days=age_days,
        owner=owner,
        first_seen_at=first_seen or now,
        last_seen_at=now,
    )
    db.add(finding)
    db.flush()
    return finding


def refresh(
    db: Session, org_id: uuid.UUID, *clusters: Cluster, now: datetime | None = None
) -> None:
    """Roll the clusters' findings up as a scan publish does (then the organisation's day)."""
    when = now or utcnow()
    for cluster in clusters:
        refresh_cluster(db, cluster.id, org_id, now=when)
    refresh_org_day(db, org_id, now=when)
    db.flush()


def org_id_of(db: Session, email: str) -> uuid.UUID:
    """The organisation ``email`` signed up with (their first membership)."""
    org_id = db.scalar(
        select(Membership.org_id)
        .join(User, User.id == Membership.user_id)
        .where(User.email == email)
        .order_by(Membership.created_at)
        .limit(1)
    )
    assert org_id is not None
    return org_id


def set_role(db: Session, org_id: uuid.UUID, role: str) -> None:
    """Every membership of the organisation gets ``role`` (committed)."""
    db.execute(update(Membership).where(Membership.org_id == org_id).values(role=role))
    db.commit()
