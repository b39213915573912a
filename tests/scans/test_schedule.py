"""Scheduled scans: every active cluster once per its organisation's interval, never twice in
a period, never for a gone cluster or an account whose credentials were refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Organisation
from app.clouds.models import AccountStatus, CloudAccount, Cluster, ClusterState
from app.config import Settings
from app.db import session_scope, utcnow
from app.scans.models import ScanRun, ScanStatus, ScanTrigger
from app.scans.recovery import schedule_due
from tests.fakes.kube_api import FakeKubeAPI
from tests.scans.conftest import ClusterRef, Sent, add_cluster


def _runs(factory: sessionmaker[Session], ref: ClusterRef) -> list[ScanRun]:
    with factory() as session:
        stmt = select(ScanRun).where(ScanRun.cluster_id == ref.cluster_id)
        return list(session.scalars(stmt.order_by(ScanRun.created_at)))


def _finish_all(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as session:
        session.execute(update(ScanRun).values(status=ScanStatus.succeeded.value))


def test_each_cluster_is_scanned_once_per_interval(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    daily = add_cluster(factory, settings, api)
    hourly = add_cluster(factory, settings, api)
    with session_scope(factory) as session:
        session.execute(
            update(Organisation)
            .where(Organisation.id == hourly.org_id)
            .values(scan_interval_hours=1)
        )
    now = utcnow()
    assert schedule_due(factory, now=now) == 2, "never scanned: both due"
    assert [r.trigger for r in _runs(factory, daily)] == [ScanTrigger.schedule]
    assert schedule_due(factory, now=now) == 0, "a second beat in the same period"
    _finish_all(factory)
    assert schedule_due(factory, now=now + timedelta(minutes=30)) == 0
    assert schedule_due(factory, now=now + timedelta(minutes=61)) == 1
    assert len(_runs(factory, hourly)) == 2
    assert len(_runs(factory, daily)) == 1
    _finish_all(factory)
    assert schedule_due(factory, now=now + timedelta(hours=25)) == 2
    assert len(_runs(factory, daily)) == 2
    assert [name for name, _ in sent] == ["scans.run"] * 5


def test_a_manual_scan_counts_for_the_period_and_a_running_one_is_not_doubled(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    now = utcnow()
    with session_scope(factory) as session:
        session.add(
            ScanRun(
                org_id=ref.org_id,
                cluster_id=ref.cluster_id,
                trigger=ScanTrigger.manual.value,
                status=ScanStatus.running.value,
                created_at=now - timedelta(hours=30),
            )
        )
    assert schedule_due(factory, now=now) == 0, "still running from yesterday: not doubled"
    _finish_all(factory)
    assert schedule_due(factory, now=now) == 1


def test_gone_clusters_and_refused_accounts_are_skipped(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    gone = add_cluster(factory, settings, api)
    refused = add_cluster(factory, settings, api)
    with session_scope(factory) as session:
        session.execute(
            update(Cluster)
            .where(Cluster.id == gone.cluster_id)
            .values(state=ClusterState.gone.value, gone_at=utcnow())
        )
        session.execute(
            update(CloudAccount)
            .where(CloudAccount.id == refused.account_id)
            .values(status=AccountStatus.needs_attention.value)
        )
    assert schedule_due(factory, now=utcnow()) == 0
    assert _runs(factory, gone) == _runs(factory, refused) == []
