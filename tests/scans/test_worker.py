"""End to end with a real Celery worker process: scans run on the worker and publish; the
worker killed in the middle of a read publishes nothing, the reconciler queues the run again
and the next worker finishes it; a transient failure is retried by the task. Once with the
embedded broker (SQLite) and once on PostgreSQL + Redis. Broker messages carry ids only."""

from __future__ import annotations

import base64
import json
import os
import random
import signal
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.clouds.models import CloudAccount
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope, utcnow
from app.ops import migrate
from app.scans.models import ScanStatus
from app.scans.queries import latest_runs
from app.scans.recovery import STALE_AFTER, reconcile
from app.scans.service import run_scan
from tests.conftest import (
    REDIS_HOST,
    REDIS_PORT,
    empty_all_tables,
    make_settings,
    reachable,
    skip_or_fail,
)
from tests.fakes.kube_api import FakeKubeAPI, Fault
from tests.ops.conftest import child_env, wait_until
from tests.scans.conftest import (
    TOKEN,
    add_cluster,
    findings,
    load_run,
    published,
    queue,
    set_run,
)

SCAN_TIMEOUT = 120  # seconds: worker start-up, a poll of the broker, one scan (and a retry)
Spawn = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.services)])
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for the embedded broker on SQLite, or for PostgreSQL and Redis."""
    if request.param == "embedded":
        made = make_settings(tmp_path)
        migrate(made)
        yield made
        return
    if not reachable(REDIS_HOST, REDIS_PORT):
        skip_or_fail(f"Redis on {REDIS_HOST}:{REDIS_PORT}")
    postgres: str = request.getfixturevalue("migrated_postgres")
    # The periodic tasks look at every cluster: start from an empty database.
    empty_all_tables(postgres)
    redis_url = _unused_redis_database()
    yield make_settings(tmp_path, database_url=postgres, redis_url=redis_url)
    empty_all_tables(postgres)
    import redis

    # Leave the database number empty for the next run to pick (its workers are stopped).
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()


def _unused_redis_database() -> str:
    """A Redis database number nothing else uses right now (a parallel test run's workers
    would otherwise take this test's jobs and find no such run in their database)."""
    import redis

    numbers = list(range(1, 16))
    random.shuffle(numbers)
    for number in numbers:
        url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{number}"
        client = redis.Redis.from_url(url)
        try:
            if client.dbsize() == 0:
                return url
        finally:
            client.close()
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/{numbers[0]}"


@pytest.fixture
def live_factory(stack: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions whose jobs go to the real broker of ``stack``."""
    engine = make_engine(stack.database)
    made = make_sessionmaker(engine)
    jobs.attach(made, stack)
    yield made
    engine.dispose()


def _messages(settings: Settings) -> list[dict[str, Any]]:
    """The bodies of the messages waiting in the broker: [args, kwargs, options] each."""
    raw: list[bytes | str] = []
    if settings.redis_url:
        import redis

        client = redis.Redis.from_url(settings.redis_url)
        for queue_name in ("scans", "default", "mail"):
            raw += client.lrange(queue_name, 0, -1)
    else:
        with sqlite3.connect(settings.data_dir / "broker.sqlite") as conn:
            raw += [row[0] for row in conn.execute("SELECT payload FROM kombu_message")]
    bodies = []
    for item in raw:
        text = item.decode() if isinstance(item, bytes) else item
        assert TOKEN not in text
        envelope = json.loads(text)
        body = base64.b64decode(envelope["body"]).decode()
        assert TOKEN not in body
        bodies.append({"task": envelope["headers"]["task"], "body": json.loads(body)})
    return bodies


def _worker(spawn: Spawn, settings: Settings, log: str) -> subprocess.Popen[bytes]:
    return spawn(["worker", "--concurrency", "1"], child_env(settings), log)


def _status(factory: sessionmaker[Session], run_id: Any) -> str:
    return load_run(factory, run_id).status


def _log(tmp_path: Path, name: str) -> str:
    return (tmp_path / name).read_text(errors="replace")[-4000:]


def test_a_worker_scans_and_publishes_and_the_broker_sees_only_ids(
    stack: Settings,
    live_factory: sessionmaker[Session],
    spawn: Spawn,
    api: FakeKubeAPI,
    tmp_path: Path,
) -> None:
    ref = add_cluster(live_factory, stack, api)
    run_id = queue(live_factory, ref)
    waiting = _messages(stack)
    assert waiting == [
        {"task": "scans.run", "body": [[], {"run_id": str(run_id)}, waiting[0]["body"][2]]}
    ]

    worker = _worker(spawn, stack, "worker.log")
    done = wait_until(lambda: _status(live_factory, run_id) == "succeeded", SCAN_TIMEOUT)
    assert done, _log(tmp_path, "worker.log")
    assert worker.poll() is None
    assert "PersistentVolumeClaim shop/data" in findings(live_factory, ref)
    assert load_run(live_factory, run_id).attempts == 1
    assert TOKEN not in (tmp_path / "worker.log").read_text(errors="replace")


def test_a_worker_killed_mid_scan_publishes_nothing_and_the_run_is_finished_later(
    stack: Settings,
    live_factory: sessionmaker[Session],
    spawn: Spawn,
    api: FakeKubeAPI,
    tmp_path: Path,
) -> None:
    ref = add_cluster(live_factory, stack, api)
    earlier = queue(live_factory, ref)
    assert run_scan(live_factory, str(earlier), settings=stack) == "succeeded"
    before = published(live_factory, ref)
    # The Pod list never answers while the first worker reads.
    api.inject(r"^/api/v1/pods\?", Fault.stall(300), times=None)
    run_id = queue(live_factory, ref)
    first = _worker(spawn, stack, "first.log")

    def mid_read() -> bool:
        return _status(live_factory, run_id) == "running" and api.count(r"\?limit=") > 0

    assert wait_until(mid_read, SCAN_TIMEOUT), _log(tmp_path, "first.log")
    os.killpg(first.pid, signal.SIGKILL)  # the node died: worker and pool child at once
    first.wait(timeout=30)

    run = load_run(live_factory, run_id)
    assert (run.status, run.attempts) == (ScanStatus.running, 1)
    assert published(live_factory, ref) == before, "nothing half-published"

    counts = reconcile(
        live_factory, now=utcnow() + STALE_AFTER + timedelta(minutes=1), settings=stack
    )
    assert counts["requeued"] == 1
    assert _status(live_factory, run_id) == "queued"
    api.clear_faults()
    second = _worker(spawn, stack, "second.log")
    done = wait_until(lambda: _status(live_factory, run_id) == "succeeded", SCAN_TIMEOUT)
    assert done, _log(tmp_path, "second.log")
    assert second.poll() is None
    run = load_run(live_factory, run_id)
    assert (run.attempts, run.error) == (2, None)
    after = published(live_factory, ref)
    assert after.keys() == before.keys()
    assert all(after[key][1] == run_id for key in after), "now from the finished run"


def test_the_task_retries_a_transient_failure_with_backoff(
    stack: Settings,
    live_factory: sessionmaker[Session],
    spawn: Spawn,
    api: FakeKubeAPI,
    tmp_path: Path,
) -> None:
    ref = add_cluster(live_factory, stack, api)
    # Every attempt of the reader's first request fails: the first scan attempt gives up.
    api.inject(r"^/version$", Fault.dropped(), times=5)
    run_id = queue(live_factory, ref)
    _worker(spawn, stack, "worker.log")
    done = wait_until(lambda: _status(live_factory, run_id) == "succeeded", SCAN_TIMEOUT)
    assert done, _log(tmp_path, "worker.log")
    run = load_run(live_factory, run_id)
    assert (run.attempts, run.error) == (2, None)
    assert "Retry in" in (tmp_path / "worker.log").read_text(errors="replace")


def test_the_periodic_tasks_discover_schedule_and_reconcile_on_the_worker(
    stack: Settings,
    live_factory: sessionmaker[Session],
    spawn: Spawn,
    api: FakeKubeAPI,
    tmp_path: Path,
) -> None:
    due = add_cluster(live_factory, stack, api)  # never discovered, never scanned
    orphan = add_cluster(live_factory, stack, api)
    orphan_run = queue(live_factory, orphan)
    # Its worker died long ago: the run is "running" without a recent heartbeat.
    dead_since = utcnow() - STALE_AFTER - timedelta(minutes=1)
    set_run(live_factory, orphan_run, status="running", attempts=1, heartbeat_at=dead_since)
    with session_scope(live_factory) as session:
        for task in ("clouds.discover_due", "scans.schedule_due", "scans.reconcile"):
            jobs.enqueue(session, task)

    _worker(spawn, stack, "worker.log")

    def scheduled_run_succeeded() -> bool:
        with live_factory() as session:
            latest = latest_runs(session, [due.cluster_id]).get(due.cluster_id)
            return latest is not None and latest.status == "succeeded"

    def discovered() -> bool:
        with live_factory() as session:
            return session.get_one(CloudAccount, due.account_id).last_discovery_at is not None

    assert wait_until(scheduled_run_succeeded, SCAN_TIMEOUT), _log(tmp_path, "worker.log")
    assert wait_until(discovered, 60), _log(tmp_path, "worker.log")
    assert wait_until(lambda: _status(live_factory, orphan_run) == "succeeded", SCAN_TIMEOUT)
    with live_factory() as session:
        scheduled = latest_runs(session, [due.cluster_id])[due.cluster_id]
        assert scheduled.trigger == "schedule"
        account = session.get_one(CloudAccount, due.account_id)
        assert account.status == "connected"
        assert account.status_message is None
    assert load_run(live_factory, orphan_run).attempts == 2
    log = (tmp_path / "worker.log").read_text(errors="replace")
    for task in ("clouds.discover_due", "clouds.discover", "scans.schedule_due", "scans.reconcile"):
        assert f"Task {task}[" in log
