"""A publish writes history in the same transaction: the cluster's current breakdown and day,
the organisation's day, findings cleaned up since the last scan (resolved waste), and the
organisation's ignore rules applied to findings that are new."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope, utcnow
from app.findings import ignores
from app.findings.ignores import IgnoreScope, NewRule
from app.history import queries
from app.history.models import ClusterDailyWaste, OrgDailyWaste, ResolvedFinding, WasteCurrent
from app.scans.service import Outcome, run_scan
from tests.fakes.kube_api import FakeKubeAPI
from tests.scans.conftest import TOKEN, add_cluster, cluster_objects, findings, queue, repoint

PVC = "PersistentVolumeClaim shop/data"


def test_publish_rolls_up_resolves_and_ignores(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    assert run_scan(factory, str(queue(factory, ref)), settings=settings) == Outcome.succeeded
    today = utcnow().date()
    with factory() as session:
        current = session.scalars(
            select(WasteCurrent).where(WasteCurrent.cluster_id == ref.cluster_id)
        ).all()
        by_key = {(r.dimension, r.key): r for r in current}
        assert by_key[("total", "")].cost == Decimal("8.0000")
        assert by_key[("kind", "PersistentVolumeClaim")].cost == Decimal("8.0000")
        assert ("namespace", "shop") in by_key
        day = session.scalars(
            select(ClusterDailyWaste).where(
                ClusterDailyWaste.cluster_id == ref.cluster_id,
                ClusterDailyWaste.dimension == "total",
            )
        ).one()
        assert (day.day, day.cost) == (today, Decimal("8.0000"))
        org_day = session.scalars(
            select(OrgDailyWaste).where(
                OrgDailyWaste.org_id == ref.org_id, OrgDailyWaste.dimension == "provider"
            )
        ).one()
        assert (org_day.key, org_day.cost) == ("kubeconfig", Decimal("8.0000"))

    with session_scope(factory) as session:
        ignores.create_rule(
            session,
            ref.org_id,
            NewRule(
                IgnoreScope.name_pattern,
                "kept for the audit",
                namespace="shop",
                name_pattern="unused-*",
            ),
            user_id=None,
            user_email="ops@acme.test",
            now=utcnow(),
        )

    # The volume was deleted, unused-b too, unused-c appeared.
    port = api.port
    api.stop()
    objects = [
        o
        for o in cluster_objects(("unused-a", "unused-c"))
        if o["kind"] not in ("PersistentVolumeClaim", "PersistentVolume")
    ]
    with FakeKubeAPI(objects, token=TOKEN, port=port) as again:
        repoint(factory, settings, ref, again)
        assert run_scan(factory, str(queue(factory, ref)), settings=settings) == Outcome.succeeded

    after = findings(factory, ref)
    assert PVC not in after
    assert after["ConfigMap shop/unused-c"].ignore_rule_id is not None, "a new finding is ignored"
    with factory() as session:
        resolved = session.scalars(
            select(ResolvedFinding).where(ResolvedFinding.cluster_id == ref.cluster_id)
        ).all()
        assert [(r.kind, r.name, r.monthly_cost_usd) for r in resolved] == [
            ("PersistentVolumeClaim", "data", Decimal("8.0000"))
        ], "ignored findings that went away are not counted as cleaned up"
        got = queries.resolved_since(session, ref.org_id, utcnow().replace(hour=0, minute=0))
        assert got.monthly_cost == Decimal("8.0000")
        now = queries.breakdown(session, ref.org_id, now=utcnow())
        assert now.total.waste == Decimal(0)
        assert queries.org_waste_on(session, ref.org_id, today) == Decimal(0)
