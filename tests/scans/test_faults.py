"""Faults at the cluster's API server: throttling, 5xx, stalls, dropped connections, revoked
credentials, a server that stopped, a cluster that was deleted. After each: nothing partial is
published, the run says what happened in plain words, and the next run succeeds."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.clouds.models import AccountStatus, CloudAccount, Cluster, ClusterState
from app.config import Settings
from app.scans.models import ScanStatus
from app.scans.service import GONE, MAX_ATTEMPTS, Outcome, TransientScanError, run_scan
from tests.fakes.kube_api import FakeKubeAPI, Fault
from tests.scans.conftest import (
    TOKEN,
    ClusterRef,
    Sent,
    add_cluster,
    cluster_objects,
    findings,
    load_run,
    published,
    queue,
    repoint,
    set_run,
)

PODS = r"^/api/v1/pods\?"


def _retry_until_last_attempt(
    factory: sessionmaker[Session], settings: Settings, ref: ClusterRef
) -> tuple[str, str]:
    """Run a scan that keeps failing: the first attempt is queued again for a retry; the
    retries in between are skipped; the last one fails. Returns both error messages."""
    run_id = queue(factory, ref)
    with pytest.raises(TransientScanError):
        run_scan(factory, str(run_id), settings=settings)
    retrying = load_run(factory, run_id)
    assert (retrying.status, retrying.attempts) == (ScanStatus.queued, 1)
    assert retrying.error is not None
    set_run(factory, run_id, attempts=MAX_ATTEMPTS - 1)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.failed
    failed = load_run(factory, run_id)
    assert (failed.status, failed.attempts) == (ScanStatus.failed, MAX_ATTEMPTS)
    assert failed.finished_at is not None
    assert failed.error is not None
    return retrying.error, failed.error


def _assert_plain(message: str) -> None:
    assert TOKEN not in message
    assert "Traceback" not in message
    assert len(message) < 400


@pytest.mark.parametrize(
    "fault",
    [
        Fault.too_many(retry_after="1"),
        Fault.error(500),
        Fault.error(503),
        Fault.dropped(),
        Fault.stall(1.0),  # no answer for a second, then the connection is closed
    ],
    ids=["429-retry-after", "500", "503", "dropped", "stall"],
)
def test_passing_trouble_is_retried_and_the_scan_succeeds(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, fault: Fault
) -> None:
    ref = add_cluster(factory, settings, api)
    api.inject(PODS, fault, times=2)
    run_id = queue(factory, ref)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
    assert api.count(PODS) >= 3, "two failures, then the answer"
    run = load_run(factory, run_id)
    assert (run.attempts, run.error) == (1, None)
    assert run.api_requests is not None
    assert run.api_requests >= api.count(PODS)
    assert "PersistentVolumeClaim shop/data" in findings(factory, ref)


def test_persistent_5xx_is_retried_then_fails_and_the_next_run_succeeds(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    api.inject(r"^/api$", Fault.error(500), times=None)
    retrying, failed = _retry_until_last_attempt(factory, settings, ref)
    assert retrying == (
        f"attempt 1 of {MAX_ATTEMPTS} failed, retrying: "
        "API discovery failed: /api answered 500 Internal Server Error"
    )
    assert failed == (
        "API discovery failed: /api answered 500 Internal Server Error "
        f"(gave up after {MAX_ATTEMPTS} attempts)"
    )
    assert findings(factory, ref) == {}, "nothing partial"
    assert len(sent) == 1, "retries are the task's: the service sends no second job"

    api.clear_faults()
    again = queue(factory, ref)
    assert run_scan(factory, str(again), settings=settings) == Outcome.succeeded
    assert findings(factory, ref)


def test_dropped_connections_that_persist_fail_with_a_clear_message(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    api.inject(".*", Fault.dropped(), times=None)
    _, failed = _retry_until_last_attempt(factory, settings, ref)
    assert failed.startswith(f"the connection to 127.0.0.1:{api.port} was closed without")
    assert failed.endswith(f"(gave up after {MAX_ATTEMPTS} attempts)")
    _assert_plain(failed)
    assert findings(factory, ref) == {}


def test_a_kind_that_keeps_failing_is_retried_then_published_with_a_warning(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    first = queue(factory, ref)
    assert run_scan(factory, str(first), settings=settings) == Outcome.succeeded
    before = published(factory, ref)

    api.inject(PODS, Fault.error(500), times=None)
    run_id = queue(factory, ref)
    with pytest.raises(TransientScanError, match="Pod: the API server kept answering 500"):
        run_scan(factory, str(run_id), settings=settings)
    assert published(factory, ref) == before, "the incomplete read published nothing"

    set_run(factory, run_id, attempts=MAX_ATTEMPTS - 1)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
    run = load_run(factory, run_id)
    assert any("Pod: the API server kept answering 500" in w for w in run.warnings)
    # Without Pods no "unused" verdict can be made: the earlier findings stay as they were.
    assert published(factory, ref) == before


def test_a_revoked_token_fails_at_once_and_the_account_needs_attention(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    port = api.port
    api.stop()
    with FakeKubeAPI(cluster_objects(), token="only-the-new-token", port=port) as refusing:
        ref = add_cluster(factory, settings, refusing)
        run_id = queue(factory, ref)
        assert run_scan(factory, str(run_id), settings=settings) == Outcome.failed
        assert refusing.count(r"^/version$") == 1, "no retry of a refusal"
    run = load_run(factory, run_id)
    assert (run.status, run.attempts) == (ScanStatus.failed, 1)
    assert run.error == (
        "The API server refused the credentials (401 Unauthorized): check that Leftover's "
        "credentials are still valid and allowed to read the cluster"
    )
    _assert_plain(run.error)
    assert len(sent) == 1, "not re-sent"
    with factory() as session:
        account = session.get_one(CloudAccount, ref.account_id)
        assert account.status == AccountStatus.needs_attention
        assert account.status_message == f"Cluster fake: {run.error}"
    assert findings(factory, ref) == {}


def test_a_server_that_stopped_answering_fails_and_the_next_run_succeeds_once_it_is_back(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    port = api.port
    api.stop()
    retrying, failed = _retry_until_last_attempt(factory, settings, ref)
    assert retrying.endswith(f"connection refused by 127.0.0.1:{port} (after 5 attempts)")
    assert failed == (
        f"connection refused by 127.0.0.1:{port} (after 5 attempts) "
        f"(gave up after {MAX_ATTEMPTS} attempts)"
    )
    with factory() as session:
        account = session.get_one(CloudAccount, ref.account_id)
        assert account.status == AccountStatus.connected, "not the credentials' fault"

    with FakeKubeAPI(cluster_objects(), token=TOKEN, port=port) as back:
        repoint(factory, settings, ref, back)
        again = queue(factory, ref)
        assert run_scan(factory, str(again), settings=settings) == Outcome.succeeded
    assert "PersistentVolumeClaim shop/data" in findings(factory, ref)


def test_a_cluster_deleted_since_discovery_fails_and_is_left_for_discovery(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    # Its API server's name no longer resolves (a reserved name that never does).
    ref = add_cluster(factory, settings, api, server="https://deleted-cluster.invalid:6443")
    run_id = queue(factory, ref)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.failed
    run = load_run(factory, run_id)
    assert run.error == GONE + "the name deleted-cluster.invalid does not resolve"
    assert run.attempts == 1
    with factory() as session:
        assert session.get_one(Cluster, ref.cluster_id).state == ClusterState.active
        assert session.get_one(CloudAccount, ref.account_id).status == AccountStatus.connected


def test_a_cluster_no_longer_in_its_kubeconfig_fails_with_the_adapters_reason(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    with factory() as session:
        account = session.get_one(CloudAccount, ref.account_id)
        account.config = {**account.config, "server": "https://elsewhere.example:6443"}
        session.commit()
    run_id = queue(factory, ref)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.failed
    assert load_run(factory, run_id).error == (
        "This cluster is no longer the one in the account's kubeconfig; refresh the account."
    )
    assert api.requests == []


def test_the_token_never_reaches_a_job_or_a_run(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    api.inject(".*", Fault.error(503), times=None)
    run_id = queue(factory, ref)
    with pytest.raises(TransientScanError) as raised:
        run_scan(factory, str(run_id), settings=settings)
    assert TOKEN not in repr(raised.value) + str(raised.value)
    assert TOKEN not in json.dumps(sent)
    run = load_run(factory, run_id)
    assert TOKEN not in repr(vars(run))
