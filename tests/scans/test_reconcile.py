"""The reconciler: a run whose worker died goes back to the queue (or fails after the last
attempt), a queued run whose message was lost is sent again, and a worker whose run was taken
away mid-scan publishes nothing."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import utcnow
from app.scans.models import ScanStatus
from app.scans.recovery import QUEUED_LOST_AFTER, STALE_AFTER, WORKER_STOPPED, reconcile
from app.scans.service import MAX_ATTEMPTS, Outcome, run_scan
from tests.fakes.kube_api import FakeKubeAPI, Fault
from tests.scans.conftest import Sent, add_cluster, findings, load_run, queue, set_run


def test_a_run_without_heartbeat_is_queued_again_then_failed_after_the_last_attempt(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    now = utcnow()
    set_run(factory, run_id, status="running", attempts=1, started_at=now, heartbeat_at=now)
    sent.clear()

    fresh = reconcile(factory, now=now + STALE_AFTER - timedelta(seconds=1), settings=settings)
    assert fresh == {"requeued": 0, "failed": 0, "resent": 0}, "a live heartbeat is left alone"
    assert load_run(factory, run_id).status == ScanStatus.running

    later = now + STALE_AFTER + timedelta(seconds=1)
    assert reconcile(factory, now=later, settings=settings)["requeued"] == 1
    run = load_run(factory, run_id)
    assert (run.status, run.attempts, run.heartbeat_at) == (ScanStatus.queued, 1, None)
    assert run.error == f"{WORKER_STOPPED} (attempt 1 of {MAX_ATTEMPTS}); retrying"
    assert sent == [("scans.run", {"run_id": str(run_id)})]
    assert reconcile(factory, now=later, settings=settings)["requeued"] == 0, "once"

    set_run(factory, run_id, status="running", attempts=MAX_ATTEMPTS, heartbeat_at=now)
    assert reconcile(factory, now=later, settings=settings)["failed"] == 1
    run = load_run(factory, run_id)
    assert run.status == ScanStatus.failed
    assert run.error is not None
    assert run.error.startswith(f"{WORKER_STOPPED}; ")
    assert run.finished_at == later
    assert len(sent) == 1


def test_a_queued_run_whose_message_was_lost_is_sent_again(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    sent.clear()
    queued_at = load_run(factory, run_id).updated_at
    assert reconcile(factory, now=queued_at + timedelta(minutes=1), settings=settings) == {
        "requeued": 0,
        "failed": 0,
        "resent": 0,
    }
    later = queued_at + QUEUED_LOST_AFTER + timedelta(seconds=1)
    assert reconcile(factory, now=later, settings=settings)["resent"] == 1
    assert reconcile(factory, now=later, settings=settings)["resent"] == 0, "once a period"
    assert sent == [("scans.run", {"run_id": str(run_id)})]
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.finished, "duplicate"


def test_a_worker_whose_run_was_taken_away_publishes_nothing(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    api.inject(r"^/api/v1/pods\?", Fault.stall(2.0))
    outcomes: list[str] = []
    slow = threading.Thread(
        target=lambda: outcomes.append(run_scan(factory, str(run_id), settings=settings))
    )
    slow.start()
    deadline = time.monotonic() + 30
    while load_run(factory, run_id).status != ScanStatus.running:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    # The reconciler believes the worker dead (its clock is past the stale threshold).
    counts = reconcile(factory, now=utcnow() + STALE_AFTER * 2, settings=settings)
    assert counts["requeued"] == 1
    slow.join(timeout=60)
    assert outcomes == [Outcome.abandoned]
    assert findings(factory, ref) == {}
    run = load_run(factory, run_id)
    assert (run.status, run.attempts) == (ScanStatus.queued, 1)

    assert run_scan(factory, str(run_id), settings=settings) == Outcome.succeeded
    run = load_run(factory, run_id)
    assert (run.status, run.attempts, run.error) == (ScanStatus.succeeded, 2, None)
    assert findings(factory, ref)
