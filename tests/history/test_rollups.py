"""Roll-ups and the figures read from them: waste now (with ignores applied live), trends with
days carried forward, a past day's value, resolved waste; ignore rules matched in SQL."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.accounts.models import Organisation
from app.db import utcnow
from app.findings import ignores
from app.findings.ignores import IgnoreScope, NewRule, RuleError
from app.history import queries
from app.history.models import OrgDailyWaste, ResolvedFinding, WasteCurrent
from app.history.rollups import Group, aggregate, refresh_clusters
from app.scans.models import Finding
from tests.factories import add_account, add_cluster, add_finding, add_run, refresh


def _org(db: Session, name: str = "Acme") -> uuid.UUID:
    org = Organisation(name=name)
    db.add(org)
    db.flush()
    return org.id


def test_aggregate_sums_every_dimension() -> None:
    totals = aggregate(
        [
            Group("ConfigMap", "shop", "unused", False, Decimal("0"), 3),
            Group("PersistentVolumeClaim", "shop", "unbound", False, Decimal("8.5"), 1),
            Group("PersistentVolumeClaim", None, "unbound", True, Decimal("1.5"), 2),
        ]
    )
    assert totals[("total", "")].cost == Decimal("10.0")
    assert totals[("total", "")].findings == 6
    assert totals[("total", "")].waste == Decimal("8.5")
    assert totals[("total", "")].counted == 4
    assert totals[("kind", "PersistentVolumeClaim")].cost == Decimal("10.0")
    assert totals[("namespace", "")].ignored_findings == 2, "cluster-scoped under the '' key"
    assert totals[("rule", "unused")].findings == 3


def test_breakdown_counts_what_counts_and_ignores_live(db: Session) -> None:
    org_id = _org(db)
    aws = add_account(db, org_id, "prod", provider="aws")
    gcp = add_account(db, org_id, "data", provider="gcp")
    shop = add_cluster(db, aws, "shop")
    lake = add_cluster(db, gcp, "lake")
    old = add_cluster(db, aws, "retired", gone=True)
    r1, r2, r3 = add_run(db, shop), add_run(db, lake), add_run(db, old)
    add_finding(db, r1, kind="PersistentVolumeClaim", name="data", cost="8")
    cm = add_finding(db, r1, kind="ConfigMap", name="old", cost="0", namespace="web")
    add_finding(db, r1, kind="Service", name="lb", cost="16.43", namespace="web")
    add_finding(db, r1, kind="Secret", name="maybe", cost="5", confidence="low")
    add_finding(db, r2, kind="PersistentVolumeClaim", name="scratch", cost="17", namespace="etl")
    add_finding(db, r3, kind="PersistentVolumeClaim", name="gone", cost="100")
    refresh(db, org_id, shop, lake, old)

    now = utcnow()
    b = queries.breakdown(db, org_id, now=now)
    assert b.total.waste == Decimal("41.43"), "low confidence and the gone cluster left out"
    assert b.total.counted == 4
    assert b.by_provider["aws"].waste == Decimal("24.43")
    assert b.by_provider["gcp"].waste == Decimal("17")
    assert set(b.by_cluster) == {shop.id, lake.id}
    assert b.by_kind["PersistentVolumeClaim"].waste == Decimal("25")
    assert b.by_namespace[(shop.id, "web")].counted == 2

    rule, marked = ignores.create_rule(
        db,
        org_id,
        NewRule(
            IgnoreScope.kind,
            "load balancer kept for the migration",
            namespace="web",
            kind="Service",
            expires_at=now + timedelta(days=7),
        ),
        user_id=None,
        user_email="ops@acme.test",
        now=now,
    )
    assert marked == 1
    b = queries.breakdown(db, org_id, now=now)
    assert b.total.waste == Decimal("25.00"), "an ignored finding leaves the total at once"
    assert b.total.ignored_cost == Decimal("16.43")
    assert b.by_kind["Service"].waste == Decimal(0)
    assert ignores.rule_matches(rule, cm) is False

    later = now + timedelta(days=8)
    b = queries.breakdown(db, org_id, now=later)
    assert b.total.waste == Decimal("41.43"), "an expired rule stops applying by itself"

    touched = ignores.expire_rules(db, now=later)
    assert touched == {org_id: [shop.id]}
    assert db.scalar(select(Finding.ignore_rule_id).where(Finding.name == "lb")) is None

    only_one = queries.breakdown(db, org_id, now=now, cluster_ids=[old.id])
    assert only_one.total.waste == Decimal("100"), "a gone cluster's own page keeps its state"


def test_rules_match_by_scope_and_escape_like(db: Session) -> None:
    org_id = _org(db)
    cluster = add_cluster(db, add_account(db, org_id, "prod"), "shop")
    run = add_run(db, cluster)
    for name in ("backup-1", "backup-22", "backupx", "keep", "a_b", "axb"):
        add_finding(db, run, kind="ConfigMap", name=name, cost="1", namespace="ops")
    add_finding(db, run, kind="Secret", name="backup-9", cost="1", namespace="ops")
    add_finding(db, run, kind="ConfigMap", name="backup-3", cost="1", namespace="web")
    db.commit()
    now = utcnow()

    def rule(**fields: object) -> int:
        new = NewRule(reason="kept on purpose", **fields)  # type: ignore[arg-type]
        made, _ = ignores.create_rule(db, org_id, new, user_id=None, user_email="", now=now)
        count = len(db.scalars(select(Finding.name).where(ignores.rule_condition(made))).all())
        db.rollback()
        return count

    assert rule(scope=IgnoreScope.name_pattern, namespace="ops", name_pattern="backup-*") == 3
    assert (
        rule(
            scope=IgnoreScope.name_pattern,
            namespace="ops",
            name_pattern="backup-?",
            kind="ConfigMap",
        )
        == 1
    )
    assert rule(scope=IgnoreScope.kind, namespace="ops", kind="ConfigMap") == 6
    assert ignores.glob_to_like("a_b%") == "a\\_b\\%"


def test_rule_validation_messages(db: Session) -> None:
    org_id = _org(db)
    now = utcnow()
    cases = [
        (NewRule(IgnoreScope.kind, "  ", namespace="x", kind="Secret"), "Say why"),
        (NewRule(IgnoreScope.kind, "why", namespace="x"), "Choose the kind"),
        (
            NewRule(IgnoreScope.name_pattern, "why", namespace="x", name_pattern="Bad Name"),
            "lower-case",
        ),
        (
            NewRule(IgnoreScope.name_pattern, "why", namespace="x", name_pattern="**"),
            "whole namespace",
        ),
        (NewRule(IgnoreScope.finding, "why"), "Choose the finding"),
        (
            NewRule(IgnoreScope.kind, "why", namespace="x", kind="Secret", expires_at=now),
            "in the past",
        ),
    ]
    for new, message in cases:
        with pytest.raises(RuleError, match=message):
            ignores.create_rule(db, org_id, new, user_id=None, user_email="", now=now)


def test_deleting_a_rule_hands_findings_to_another(db: Session) -> None:
    org_id = _org(db)
    cluster = add_cluster(db, add_account(db, org_id, "prod"), "shop")
    run = add_run(db, cluster)
    add_finding(db, run, kind="ConfigMap", name="backup-1", cost="3", namespace="ops")
    refresh(db, org_id, cluster)
    now = utcnow()
    first, _ = ignores.create_rule(
        db, org_id, NewRule(IgnoreScope.kind, "ops configs", namespace="ops", kind="ConfigMap"),
        user_id=None, user_email="", now=now,
    )  # fmt: skip
    second, marked = ignores.create_rule(
        db, org_id,
        NewRule(IgnoreScope.name_pattern, "backups", namespace="ops", name_pattern="backup-*"),
        user_id=None, user_email="", now=now,
    )  # fmt: skip
    assert marked == 0, "already held by the first rule"
    refresh_clusters(db, org_id, ignores.delete_rule(db, first, now=now), now=now)
    held = db.scalar(select(Finding.ignore_rule_id))
    assert held == second.id
    current = db.scalar(
        select(WasteCurrent.ignored_cost).where(
            WasteCurrent.cluster_id == cluster.id, WasteCurrent.dimension == "total"
        )
    )
    assert current == Decimal("3")


def test_trend_carries_days_forward_and_today_is_live(db: Session) -> None:
    org_id = _org(db)
    cluster = add_cluster(db, add_account(db, org_id, "prod"), "shop")
    run = add_run(db, cluster)
    add_finding(db, run, kind="PersistentVolumeClaim", name="data", cost="30")
    refresh(db, org_id, cluster)
    today = utcnow().date()

    def day_row(
        day: date, dimension: str, key: str, cost: str, ignored: str = "0"
    ) -> dict[str, object]:
        return {"org_id": org_id, "day": day, "dimension": dimension, "key": key,
                "cost": Decimal(cost), "findings": 1, "ignored_cost": Decimal(ignored),
                "ignored_findings": 0}  # fmt: skip

    rows = [
        day_row(today - timedelta(days=40), "total", "", "5"),
        day_row(today - timedelta(days=5), "total", "", "12", ignored="2"),
        day_row(today - timedelta(days=2), "total", "", "20"),
        day_row(today - timedelta(days=40), "kind", "ConfigMap", "5"),
        day_row(today - timedelta(days=2), "kind", "ConfigMap", "4"),
        day_row(today - timedelta(days=2), "kind", "Service", "16"),
    ]
    db.execute(insert(OrgDailyWaste), rows)
    now = queries.breakdown(db, org_id, now=utcnow())
    trend = queries.org_trend(db, org_id, today=today, days=30, now=now)
    assert len(trend.days) == 30
    assert trend.days[-1] == today
    assert trend.total[0] == Decimal("5"), "carried from the day before the window"
    assert trend.total[-6] == Decimal("10"), "waste is cost minus the ignored part"
    assert trend.total[-4] == Decimal("10")
    assert trend.total[-3] == Decimal("20")
    assert trend.total[-1] == Decimal("30"), "today is the live figure"

    stacked = queries.org_trend(db, org_id, today=today, days=30, by="kind", now=now, top=1)
    keys = [s.key for s in stacked.series]
    assert keys[0] == "PersistentVolumeClaim" or keys[0] == "ConfigMap"
    assert keys[-1] == "other"
    for i in range(30):
        assert sum(s.values[i] for s in stacked.series) == stacked.total[i]

    assert queries.org_waste_on(db, org_id, today - timedelta(days=7)) == Decimal("5")
    assert queries.org_waste_on(db, org_id, today - timedelta(days=50)) is None


def test_resolved_since_sums_cleaned_up_findings(db: Session) -> None:
    org_id = _org(db)
    other = _org(db, "Other")
    cluster = add_cluster(db, add_account(db, org_id, "prod"), "shop")
    theirs = add_cluster(db, add_account(db, other, "prod"), "shop")
    now = utcnow()

    def resolved(cluster_id: uuid.UUID, owner: uuid.UUID, cost: str, days_ago: int) -> None:
        db.add(
            ResolvedFinding(
                org_id=owner, cluster_id=cluster_id, kind="PersistentVolume", namespace=None,
                name=f"pv-{uuid.uuid4().hex[:6]}", rule="released", monthly_cost_usd=Decimal(cost),
                first_seen_at=now - timedelta(days=90), resolved_at=now - timedelta(days=days_ago),
            )
        )  # fmt: skip

    resolved(cluster.id, org_id, "10", 3)
    resolved(cluster.id, org_id, "7.5", 20)
    resolved(cluster.id, org_id, "99", 45)
    resolved(theirs.id, other, "1000", 1)
    db.flush()
    got = queries.resolved_since(db, org_id, now - timedelta(days=30))
    assert got == queries.Resolved(2, Decimal("17.5"))
