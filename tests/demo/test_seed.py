"""The demo organisation as ``leftover demo`` stores it: labelled, on three clouds, filled with
the engine's findings and a daily history that adds up, replaced (never doubled) when run
again, open to the installation's users, and never scanned or discovered by the workers."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.accounts import service
from app.accounts.models import Membership, Organisation, Role
from app.analysis import Options, analyze
from app.clouds.base import CredentialsRefused, ProviderError
from app.clouds.models import AccountStatus, CloudAccount, Cluster
from app.clouds.service import accounts_due_for_discovery, cluster_access_for, run_discovery
from app.db import make_engine, make_sessionmaker, session_scope
from app.demo.generate import demo_cluster
from app.demo.seed import DEMO_ORG_NAME, DemoError, DemoReport, seed_demo
from app.demo.seed_rows import Bulk
from app.history.models import ClusterDailyWaste, OrgDailyWaste, ResolvedFinding, WasteCurrent
from app.history.rollups import TOTAL
from app.ops import migrate
from app.pricing.book import load_default_price_book
from app.scans.models import Finding, ScanRun, ScanStatus
from app.scans.recovery import schedule_due
from app.scans.service import finding_identity
from tests.conftest import PASSWORD, REPO, free_port, make_settings
from tests.ops.conftest import child_env

NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
CLUSTERS, DAYS = 3, 10
Sent = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def sent() -> Sent:
    return []


@pytest.fixture
def factory(database_url: str, sent: Sent) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    made = make_sessionmaker(engine)
    made.configure(info=jobs.sender_info(lambda name, kwargs: sent.append((name, kwargs))))
    yield made
    engine.dispose()


def _user(factory: sessionmaker[Session], email: str) -> uuid.UUID:
    with session_scope(factory) as session:
        user, _org = service.create_user_with_org(
            session, email=email, password=PASSWORD, org_name=f"{email}'s"
        )
        return user.id


def _seed(factory: sessionmaker[Session], **kwargs: Any) -> DemoReport:
    return seed_demo(factory, clusters=CLUSTERS, days=DAYS, seed=7, now=NOW, **kwargs)


def _count(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _counts(session: Session) -> dict[str, int]:
    models = (Cluster, CloudAccount, Finding, ScanRun, ResolvedFinding, ClusterDailyWaste)
    return {m.__tablename__: _count(session, m) for m in (*models, OrgDailyWaste, WasteCurrent)}


def test_a_labelled_demo_organisation_on_three_clouds_with_nothing_to_sign_in_with(
    factory: sessionmaker[Session],
) -> None:
    report = _seed(factory)
    with factory() as session:
        org = session.get_one(Organisation, report.org_id)
        assert (org.name, org.is_demo) == (DEMO_ORG_NAME, True)
        clusters = session.scalars(select(Cluster).where(Cluster.org_id == org.id)).all()
        assert sorted(c.provider for c in clusters) == ["aws", "azure", "gcp"]
        assert all(c.endpoint is None and c.ca_data is None for c in clusters)
        assert all(c.details["demo"] is True and c.kubernetes_version for c in clusters)
        accounts = session.scalars(select(CloudAccount).where(CloudAccount.org_id == org.id))
        for account in accounts:
            assert account.status == AccountStatus.connected.value
            assert account.secret_ciphertext is None
            assert account.provider in ("aws", "gcp", "azure")
            assert account.config, "a plausible account id, project or subscription"
    assert report.providers == {"aws": 1, "gcp": 1, "azure": 1}
    assert "Demo organisation seeded" in "\n".join(report.lines())


def test_findings_are_the_engines_for_the_generated_snapshots(
    factory: sessionmaker[Session],
) -> None:
    report = _seed(factory)
    prices = load_default_price_book()
    with factory() as session:
        for index in range(CLUSTERS):
            demo = demo_cluster(index, seed=7, scale=1, now=NOW)
            options = Options(provider=demo.provider, region=demo.region)
            result = analyze(demo.snapshot, prices=prices, options=options, now=NOW)
            expected = {
                finding_identity(f.kind, f.namespace, f.name, f.rule): f for f in result.findings
            }
            cluster = session.scalars(
                select(Cluster).where(Cluster.org_id == report.org_id, Cluster.name == demo.name)
            ).one()
            rows = session.scalars(select(Finding).where(Finding.cluster_id == cluster.id)).all()
            assert {row.identity for row in rows} == set(expected)
            for row in rows:
                found = expected[row.identity]
                assert (row.reason, row.confidence) == (found.reason, found.confidence.label)
                assert row.monthly_cost_usd == Decimal(str(round(found.cost.monthly_usd, 4)))
                assert row.cost_basis == (found.cost.basis or None)
                assert row.last_seen_at == NOW
                assert NOW - timedelta(days=DAYS - 1) <= row.first_seen_at <= NOW
            assert any(row.first_seen_at < NOW - timedelta(days=1) for row in rows)
            assert any(row.first_seen_at > NOW - timedelta(days=DAYS - 1) for row in rows)


def test_every_day_has_its_scan_and_roll_ups_and_today_adds_up(
    factory: sessionmaker[Session],
) -> None:
    report = _seed(factory)
    org_id = report.org_id
    first_day = (NOW - timedelta(days=DAYS - 1)).date()
    with factory() as session:
        clusters = session.scalars(select(Cluster.id).where(Cluster.org_id == org_id)).all()
        for cluster_id in clusters:
            runs = session.scalars(
                select(ScanRun).where(ScanRun.cluster_id == cluster_id).order_by(ScanRun.created_at)
            ).all()
            assert len(runs) == DAYS
            assert {r.status for r in runs} == {ScanStatus.succeeded.value}
            assert [r.finished_at.date() for r in runs if r.finished_at] == [
                first_day + timedelta(days=n) for n in range(DAYS)
            ]
            current = session.scalars(
                select(Finding.scan_run_id).where(Finding.cluster_id == cluster_id).distinct()
            ).all()
            assert current == [runs[-1].id], "current findings belong to today's scan"
            assert runs[-1].findings_count == _count(
                session, Finding, Finding.cluster_id == cluster_id
            )
            days = session.scalars(
                select(ClusterDailyWaste.day)
                .where(
                    ClusterDailyWaste.cluster_id == cluster_id, ClusterDailyWaste.dimension == TOTAL
                )
                .order_by(ClusterDailyWaste.day)
            ).all()
            assert days == [first_day + timedelta(days=n) for n in range(DAYS)]
        org_days = session.execute(
            select(OrgDailyWaste.day, OrgDailyWaste.cost, OrgDailyWaste.findings)
            .where(OrgDailyWaste.org_id == org_id, OrgDailyWaste.dimension == TOTAL)
            .order_by(OrgDailyWaste.day)
        ).all()
        assert [d for d, _, _ in org_days] == [first_day + timedelta(days=n) for n in range(DAYS)]
        for day, cost, count in org_days:
            cluster_cost, cluster_count = session.execute(
                select(
                    func.sum(ClusterDailyWaste.cost), func.sum(ClusterDailyWaste.findings)
                ).where(
                    ClusterDailyWaste.org_id == org_id,
                    ClusterDailyWaste.day == day,
                    ClusterDailyWaste.dimension == TOTAL,
                )
            ).one()
            assert (cost, count) == (cluster_cost, cluster_count), day
        counted = session.execute(
            select(func.sum(Finding.monthly_cost_usd), func.count()).where(
                Finding.org_id == org_id, Finding.counts_in_total.is_(True)
            )
        ).one()
        _, today_cost, today_count = org_days[-1]
        assert (today_cost, today_count) == (counted[0], counted[1])
        assert report.monthly_cost == counted[0]
        now_cost = session.execute(
            select(func.sum(WasteCurrent.cost)).where(
                WasteCurrent.org_id == org_id, WasteCurrent.dimension == TOTAL
            )
        ).scalar_one()
        assert now_cost == counted[0]
        costs = [cost for _, cost, _ in org_days]
        assert len(set(costs)) > 1, "waste changes over the history"


def test_findings_cleaned_up_during_the_history_are_recorded(
    factory: sessionmaker[Session],
) -> None:
    report = _seed(factory)
    with factory() as session:
        resolved = session.scalars(
            select(ResolvedFinding).where(ResolvedFinding.org_id == report.org_id)
        ).all()
    assert resolved
    assert len(resolved) == report.resolved
    start = NOW - timedelta(days=DAYS - 1)
    for row in resolved:
        assert start <= row.first_seen_at < row.resolved_at < NOW
        assert row.monthly_cost_usd >= 0


def test_running_again_replaces_the_demo_and_leaves_the_rest_alone(
    factory: sessionmaker[Session],
) -> None:
    _user(factory, "ada@example.com")
    first = _seed(factory)
    with factory() as session:
        before = _counts(session)
    second = _seed(factory)
    assert (first.replaced, second.replaced) == (0, 1)
    with factory() as session:
        demos = session.scalars(select(Organisation.id).where(Organisation.is_demo.is_(True)))
        assert list(demos) == [second.org_id]
        assert _counts(session) == before
        own = session.scalars(select(Organisation.name).where(Organisation.is_demo.is_(False)))
        assert list(own) == ["ada@example.com's"]


def test_every_user_becomes_an_admin_or_only_the_members_named(
    factory: sessionmaker[Session],
) -> None:
    ada, bob = _user(factory, "ada@example.com"), _user(factory, "bob@example.com")
    report = _seed(factory)
    assert report.members == ["ada@example.com", "bob@example.com"]
    with factory() as session:
        roles = session.execute(
            select(Membership.user_id, Membership.role).where(Membership.org_id == report.org_id)
        ).all()
    assert sorted(roles) == sorted([(ada, Role.admin.value), (bob, Role.admin.value)])

    only = _seed(factory, members=[" BOB@example.com "])
    with factory() as session:
        members = session.scalars(
            select(Membership.user_id).where(Membership.org_id == only.org_id)
        ).all()
    assert list(members) == [bob]

    with pytest.raises(DemoError, match=r"nobody@example\.com"):
        _seed(factory, members=["nobody@example.com"])
    with factory() as session:
        demo = session.scalars(select(Organisation.id).where(Organisation.is_demo.is_(True)))
        assert list(demo) == [only.org_id], "a refused run keeps the demo it would replace"


def test_the_workers_never_scan_or_discover_demo_clusters(
    factory: sessionmaker[Session], sent: Sent
) -> None:
    _seed(factory)
    later = NOW + timedelta(days=3)
    assert schedule_due(factory, now=later) == 0
    with factory() as session:
        assert accounts_due_for_discovery(session, now=later, interval=timedelta(hours=6)) == []
        assert _count(session, ScanRun, ScanRun.status != ScanStatus.succeeded.value) == 0
    assert sent == []


def test_leftover_demo_seeds_the_configured_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    env = child_env(settings)
    command = [sys.executable, "-m", "app.cli", "demo", "--clusters", "3", "--days", "5"]

    refused = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    assert refused.returncode == 2
    assert "run `leftover migrate` first" in refused.stderr
    assert "Traceback" not in refused.stderr

    migrate(settings)
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Demo organisation seeded" in done.stdout
    assert "3 clusters (aws 1, azure 1, gcp 1)" in done.stdout
    assert "demo: cluster 3/3" in done.stderr
    engine = make_engine(settings.database)
    try:
        with make_sessionmaker(engine)() as session:
            org = session.scalars(select(Organisation).where(Organisation.is_demo.is_(True))).one()
            assert _count(session, ScanRun, ScanRun.org_id == org.id) == 3 * 5
    finally:
        engine.dispose()

    bad = subprocess.run(
        [*command, "--days", "1"], env=env, cwd=REPO, capture_output=True, text=True
    )
    assert bad.returncode == 2
    assert "--days must be between 2" in bad.stderr


def _write(bulk: Bulk, model: Any, rows: list[dict[str, Any]]) -> None:
    bulk.add(model, rows)
    bulk.flush()


def test_a_failed_bulk_write_reaches_the_seeder_and_stops_the_writer(
    factory: sessionmaker[Session],
) -> None:
    report = _seed(factory)
    session = factory()
    try:
        bulk = Bulk(session, batch=2)
        cluster_id = uuid.uuid4()  # no such cluster: the foreign key refuses the rows
        row = {
            "id": uuid.uuid4(),
            "org_id": report.org_id,
            "cluster_id": cluster_id,
            "kind": "ConfigMap",
            "namespace": "shop",
            "name": "gone",
            "rule": "unused-configmap",
            "monthly_cost_usd": Decimal(0),
            "first_seen_at": NOW - timedelta(days=2),
            "resolved_at": NOW,
        }
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            _write(bulk, ResolvedFinding, [row, {**row, "id": uuid.uuid4()}])
        bulk.close(abort=True)
    finally:
        session.rollback()
        session.close()
    with factory() as check:
        assert _count(check, ResolvedFinding, ResolvedFinding.cluster_id == cluster_id) == 0
        assert _count(check, ResolvedFinding) == report.resolved


def test_demo_accounts_hold_nothing_a_worker_could_connect_with(
    factory: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    """Even asked by hand, discovery and cluster access refuse before any network call: every
    cloud endpoint here is a closed local port, which would fail differently."""
    report = _seed(factory)
    closed = f"https://127.0.0.1:{free_port()}"
    settings = make_settings(
        tmp_path,
        database_url,
        aws_endpoint_url=closed,
        aws_eks_endpoint_url=closed,
        aws_sts_endpoint_url=closed,
        gcp_container_endpoint=closed,
        gcp_token_uri=f"{closed}/token",
        azure_management_endpoint=closed,
        azure_authority=closed,
    )
    with factory() as session:
        accounts = session.scalars(
            select(CloudAccount.id).where(CloudAccount.org_id == report.org_id)
        ).all()
        for cluster in session.scalars(select(Cluster).where(Cluster.org_id == report.org_id)):
            # Refused (no credentials, or no endpoint), never "unavailable" (a call was tried).
            with pytest.raises((CredentialsRefused, ProviderError)):
                cluster_access_for(session, cluster, settings=settings)
    for account_id in accounts:
        assert run_discovery(factory, str(account_id), settings=settings) == "needs_attention"
