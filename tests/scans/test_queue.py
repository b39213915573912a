"""One scan per cluster at a time: queue_scan returns the active run, a racing caller gets the
winner's run, and two workers handed the same run cannot both scan it."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.clouds.models import Cluster, ClusterState
from app.config import Settings
from app.db import session_scope, utcnow
from app.scans.models import ScanRun, ScanStatus, ScanTrigger
from app.scans.service import NOT_LISTED, Outcome, queue_scan, run_scan
from tests.fakes.kube_api import FakeKubeAPI, Fault
from tests.scans.conftest import Sent, add_cluster, findings, load_run, queue


def _runs(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(ScanRun)) or 0)


def test_queue_scan_returns_the_active_run(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    first = queue(factory, ref, ScanTrigger.discovery)
    assert queue(factory, ref, ScanTrigger.manual) == first, "queued: the same run"
    assert load_run(factory, first).trigger == ScanTrigger.discovery
    assert load_run(factory, first).status == ScanStatus.queued
    assert len(sent) == 1

    set_running = update(ScanRun).where(ScanRun.id == first).values(status="running")
    with session_scope(factory) as session:
        session.execute(set_running)
    assert queue(factory, ref) == first, "running: still the same run"

    assert run_scan(factory, str(first), settings=settings) == Outcome.busy
    with session_scope(factory) as session:
        session.execute(update(ScanRun).where(ScanRun.id == first).values(status="succeeded"))
    second = queue(factory, ref)
    assert second != first, "finished: a new run"
    assert [name for name, _ in sent] == ["scans.run", "scans.run"]
    assert _runs(factory) == 2


def test_a_gone_cluster_is_not_queued(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    with session_scope(factory) as session:
        cluster = session.get_one(Cluster, ref.cluster_id)
        cluster.state, cluster.gone_at = ClusterState.gone.value, utcnow()
        session.flush()
        assert queue_scan(session, cluster, trigger=ScanTrigger.manual) is None
    assert sent == []
    assert _runs(factory) == 0


def test_a_caller_losing_the_race_gets_the_winners_run(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    """Another transaction queues and commits between this caller's check and its insert."""
    ref = add_cluster(factory, settings, api)
    winner: list[Any] = []
    engine = factory.kw["bind"]

    def queue_elsewhere(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO scan_runs") and not winner:
            winner.append(None)
            winner[0] = queue(factory, ref, ScanTrigger.schedule)

    with session_scope(factory) as session:
        cluster = session.get_one(Cluster, ref.cluster_id)
        event.listen(engine, "before_cursor_execute", queue_elsewhere)
        try:
            run = queue_scan(session, cluster, trigger=ScanTrigger.manual)
        finally:
            event.remove(engine, "before_cursor_execute", queue_elsewhere)
        assert run is not None
        assert [run.id] == winner
        assert run.trigger == ScanTrigger.schedule
        # The caller's transaction is still usable after losing.
        session.execute(update(Cluster).where(Cluster.id == cluster.id).values(node_count=3))
    assert sent == [("scans.run", {"run_id": str(winner[0])})], "the loser sends nothing"
    assert _runs(factory) == 1
    with factory() as session:
        assert session.get_one(Cluster, ref.cluster_id).node_count == 3


def test_a_rolled_back_caller_leaves_no_run_and_sends_nothing(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI, sent: Sent
) -> None:
    ref = add_cluster(factory, settings, api)
    with factory() as session:
        run = queue_scan(
            session, session.get_one(Cluster, ref.cluster_id), trigger=ScanTrigger.manual
        )
        assert run is not None
        session.rollback()
    assert sent == []
    assert _runs(factory) == 0


def test_two_workers_handed_the_same_run_scan_it_once(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    # The first worker stalls in the middle of its read, holding the claim.
    api.inject(r"^/api/v1/pods\?", Fault.stall(2.0))
    outcomes: list[str] = []
    first = threading.Thread(
        target=lambda: outcomes.append(run_scan(factory, str(run_id), settings=settings))
    )
    first.start()
    deadline = time.monotonic() + 30
    while load_run(factory, run_id).status != ScanStatus.running:
        assert time.monotonic() < deadline, "the first worker never claimed the run"
        time.sleep(0.02)
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.busy
    first.join(timeout=60)
    assert outcomes == [Outcome.succeeded]
    assert api.count(r"^/version$") == 1, "the cluster was read once"
    run = load_run(factory, run_id)
    assert (run.status, run.attempts) == (ScanStatus.succeeded, 1)
    assert findings(factory, ref)


def test_a_queued_run_of_a_cluster_gone_since_fails_without_reading(
    factory: sessionmaker[Session], settings: Settings, api: FakeKubeAPI
) -> None:
    ref = add_cluster(factory, settings, api)
    run_id = queue(factory, ref)
    with session_scope(factory) as session:
        session.execute(
            update(Cluster)
            .where(Cluster.id == ref.cluster_id)
            .values(state=ClusterState.gone.value, gone_at=utcnow())
        )
    assert run_scan(factory, str(run_id), settings=settings) == Outcome.failed
    run = load_run(factory, run_id)
    assert (run.status, run.error) == (ScanStatus.failed, NOT_LISTED)
    assert api.requests == []
