"""run_scan publishes a cluster's findings and totals in one transaction, keeps each finding's
identity across scans, and never lets a failed run replace what was published."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from app.clouds.models import AccountStatus, CloudAccount
from app.config import Settings
from app.scans.models import ScanStatus
from app.scans.queries import cluster_findings, cluster_totals, latest_runs, runs_for_cluster
from app.scans.service import UNEXPECTED, Outcome, finding_identity, run_scan
from tests.fakes.kube_api import FakeKubeAPI
from tests.scans.conftest import (
    TOKEN,
    Sent,
    add_cluster,
    cluster_objects,
    findings,
    load_run,
    published,
    queue,
    repoint,
)

PVC = "PersistentVolumeClaim shop/data"


def test_a_scan_publishes_findings_and_totals(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    assert sent == [("scans.run", {"run_id": str(run_id)})], "the job carries the run id only"

    assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded

    run = load_run(factory, run_id)
    assert run.status == ScanStatus.succeeded
    assert run.attempts == 1
    assert run.error is None
    assert run.objects_scanned == len(cluster_objects())
    assert run.api_requests is not None
    assert run.api_requests >= 20
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    published = findings(factory, ref)
    assert {"ConfigMap shop/unused-a", "ConfigMap shop/unused-b", PVC} <= set(published)
    assert "ConfigMap shop/used" not in published
    assert run.findings_count == len(published)
    assert run.monthly_cost_usd == Decimal("8.00"), "the unused 100 GiB gp3 volume"
    assert run.by_kind["PersistentVolumeClaim"] == {"findings": 1, "monthly_cost_usd": 8.0}
    pvc = published[PVC]
    assert pvc.monthly_cost_usd == Decimal("8.0000")
    assert pvc.cost_basis == "100 GiB gp3 × $0.08/GB-month"
    assert pvc.counts_in_total
    assert pvc.scan_run_id == run_id
    assert pvc.org_id == ref.org_id
    assert pvc.identity == finding_identity("PersistentVolumeClaim", "shop", "data", pvc.rule)
    assert pvc.first_seen_at == pvc.last_seen_at

    with factory() as session:
        top = cluster_findings(session, ref.cluster_id, limit=2)
        assert top[0].name == "data", "most expensive first"
        assert len(top) == 2
        assert cluster_totals(session, [ref.cluster_id]) == {
            ref.cluster_id: (len(published), Decimal("8.0000"))
        }
        assert latest_runs(session, [ref.cluster_id])[ref.cluster_id].id == run_id
        assert [r.id for r in runs_for_cluster(session, ref.cluster_id, limit=5)] == [run_id]


def test_no_secret_value_is_requested_or_stored(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
    secret_lists = [r for r in api.requests if r.path.endswith("/secrets")]
    assert secret_lists
    assert all("as=PartialObjectMetadataList" in r.headers["accept"] for r in secret_lists)
    stored = repr([vars(f) for f in findings(factory, ref).values()]) + repr(
        vars(load_run(factory, run_id))
    )
    assert "aHVudGVyMi1zZWNyZXQtdmFsdWU=" not in stored
    assert TOKEN not in stored


def test_a_second_scan_keeps_identity_and_removes_fixed_findings(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    first = queue(factory, ref)
    assert run_scan(factory, str(first), settings=settings) == Outcome.succeeded
    before = findings(factory, ref)
    port = api.port
    api.stop()

    # unused-b was deleted, unused-c appeared; the same API server address.
    with FakeKubeAPI(cluster_objects(("unused-a", "unused-c")), token=TOKEN, port=port) as again:
        repoint(factory, settings, ref, again)
        second = queue(factory, ref)
        assert second != first
        assert run_scan(factory, str(second), settings=settings) == Outcome.succeeded

    after = findings(factory, ref)
    assert "ConfigMap shop/unused-b" not in after, "fixed: removed"
    assert "ConfigMap shop/unused-c" in after
    kept = after["ConfigMap shop/unused-a"]
    old = before["ConfigMap shop/unused-a"]
    assert kept.id == old.id
    assert kept.first_seen_at == old.first_seen_at
    assert kept.last_seen_at > old.last_seen_at
    assert kept.scan_run_id == second
    new = after["ConfigMap shop/unused-c"]
    assert new.first_seen_at == new.last_seen_at == kept.last_seen_at
    assert load_run(factory, second).findings_count == len(after)
    with factory() as session:
        history = runs_for_cluster(session, ref.cluster_id, limit=5)
        assert [r.id for r in history] == [second, first]


def test_a_repeated_message_does_not_scan_again(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
    requests = len(api.requests)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.finished
    assert run_scan(factory, "not-a-uuid", settings=settings) == Outcome.missing
    assert run_scan(factory, "7f0c2a4e-0000-4000-8000-000000000000", settings=settings) == (
        Outcome.missing
    )
    assert len(api.requests) == requests
    assert load_run(factory, run_id).attempts == 1


def test_a_failed_run_never_replaces_the_published_findings(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    first = queue(factory, ref)
    assert run_scan(factory, str(first), settings=settings) == Outcome.succeeded
    before = published(factory, ref)
    port = api.port
    api.stop()

    # The cluster now holds other objects, but its token was revoked: nothing is published.
    with FakeKubeAPI(cluster_objects(("other",)), token="rotated", port=port) as again:
        repoint(factory, settings, ref, again)
        second = queue(factory, ref)
        assert run_scan(factory, str(second), settings=settings) == Outcome.failed

    assert load_run(factory, second).status == ScanStatus.failed
    assert published(factory, ref) == before
    with factory() as session:
        count, cost = cluster_totals(session, [ref.cluster_id])[ref.cluster_id]
        assert (count, cost) == (len(before), Decimal("8.0000")), "totals of the last success"
        assert latest_runs(session, [ref.cluster_id])[ref.cluster_id].id == second
        account = session.get_one(CloudAccount, ref.account_id)
        assert account.status == AccountStatus.needs_attention


def test_thousands_of_findings_are_published_in_bulk(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    many = [f"cm-{i:05d}" for i in range(2500)]
    port = api.port
    api.stop()
    with FakeKubeAPI(cluster_objects(many), token=TOKEN, port=port) as big:
        ref = add_cluster(factory, settings, big)
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if "findings" in statement:
                statements.append(statement.split(None, 1)[0].upper())

        engine = factory.kw["bind"]
        event.listen(engine, "before_cursor_execute", count)
        try:
            run_id = queue(factory, ref)
            assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
        finally:
            event.remove(engine, "before_cursor_execute", count)
    published_now = findings(factory, ref)
    assert sum(key.startswith("ConfigMap shop/cm-") for key in published_now) == len(many)
    assert load_run(factory, run_id).findings_count == len(published_now)
    # A few multi-row statements, not one per finding.
    assert statements.count("INSERT") <= 10, statements[:20]
    assert len(statements) <= 20

    with FakeKubeAPI(cluster_objects(many[:1000]), token=TOKEN, port=port) as fixed:
        repoint(factory, settings, ref, fixed)
        second = queue(factory, ref)
        assert run_scan(factory, str(second), settings=settings) == Outcome.succeeded
    after = findings(factory, ref)
    assert sum(key.startswith("ConfigMap shop/cm-") for key in after) == 1000
    kept = after["ConfigMap shop/cm-00000"]
    assert kept.first_seen_at == published_now["ConfigMap shop/cm-00000"].first_seen_at
    assert kept.scan_run_id == second


def test_oversized_values_from_the_api_server_are_cut_to_fit(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    odd = cluster_objects(())
    odd.append(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "odd", "namespace": "shop", "uid": "u" * 300},
        }
    )
    port = api.port
    api.stop()
    with FakeKubeAPI(odd, token=TOKEN, port=port) as served:
        ref = add_cluster(factory, settings, served)
        run_id = queue(factory, ref)
        assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
    assert findings(factory, ref)["ConfigMap shop/odd"].uid == "u" * 64


def test_an_unexpected_error_fails_the_run_with_a_generic_message(
    factory: sessionmaker[Session],
    settings: Settings,
    api: FakeKubeAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    # An operator's typo in the key setting: nothing a user could act on.
    broken = settings.model_copy(update={"encryption_keys": SecretStr("not base64 at all!")})
    with caplog.at_level(logging.ERROR, logger="leftover.scans"):
        assert run_scan(factory, str(run_id), settings=broken) == Outcome.failed
    run = load_run(factory, run_id)
    assert (run.status, run.error) == (ScanStatus.failed, UNEXPECTED)
    assert "LEFTOVER_ENCRYPTION_KEYS" in caplog.text, "the details are in the log"
    assert TOKEN not in caplog.text
    assert api.requests == []
    with factory() as session:
        account = session.get_one(CloudAccount, ref.account_id)
        assert account.status == AccountStatus.connected, "not the user's credentials"
