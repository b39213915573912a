"""A real Celery worker process delivers queued mail to a real SMTP server: once with the
embedded broker (SQLite, no server) and once on PostgreSQL + Redis."""

from __future__ import annotations

import random
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app import jobs
from app.accounts.models import SignInAttempt
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope, utcnow
from app.mail import OutgoingMail, queue_mail
from app.ops import migrate
from tests.conftest import REDIS_HOST, REDIS_PORT, make_settings, reachable, skip_or_fail
from tests.ops.conftest import Sink, child_env, stop, wait_until

DELIVERY_TIMEOUT = 90  # seconds: worker start-up, a poll of the broker, one SMTP exchange

Spawn = Callable[..., subprocess.Popen[bytes]]


def _deliver_through_worker(settings: Settings, sink: Sink, spawn: Spawn, tmp_path: Path) -> None:
    migrate(settings)
    engine = make_engine(settings.database)
    factory = make_sessionmaker(engine)
    jobs.attach(factory, settings)  # the real sender: Celery's send_task to this broker
    try:
        with session_scope(factory) as session:
            mail = queue_mail(
                session,
                to="ada@example.com",
                subject="Verify your email",
                text="Open http://127.0.0.1:8000/verify/tok to verify.",
            )
            old = utcnow() - timedelta(days=3)
            session.add(
                SignInAttempt(email="x@example.com", address="10.9.9.9", at=old, success=False)
            )
            jobs.enqueue(session, "accounts.purge_expired")
        worker = spawn(["worker", "--concurrency", "1"], child_env(settings), "worker.log")

        def sent() -> bool:
            with factory() as session:
                row = session.scalar(select(OutgoingMail).where(OutgoingMail.id == mail.id))
                return row is not None and row.sent_at is not None

        arrived = sink.wait_for(1, timeout=DELIVERY_TIMEOUT) and wait_until(sent, timeout=20)
        log = (tmp_path / "worker.log").read_text(errors="replace")
        assert worker.poll() is None, f"the worker died:\n{log[-3000:]}"
        assert arrived, f"no mail arrived; worker log:\n{log[-3000:]}"
        assert sink.messages[0]["Subject"] == "Verify your email"
        assert sink.envelopes[0].rcpt_tos == ["ada@example.com"]
        assert "mail.deliver" in log

        def purged() -> bool:
            with factory() as session:
                return (
                    session.scalar(select(SignInAttempt).where(SignInAttempt.address == "10.9.9.9"))
                    is None
                )

        assert wait_until(purged, timeout=30), "accounts.purge_expired ran in the worker"
        assert stop(worker, timeout=30) in (0, -15), log[-3000:]
        assert len(sink.messages) == 1
    finally:
        engine.dispose()


def test_worker_with_the_embedded_broker_delivers_mail(
    tmp_path: Path, smtp_sink: Sink, spawn: Spawn
) -> None:
    settings = make_settings(
        tmp_path, smtp_host=smtp_sink.host, smtp_port=smtp_sink.port, smtp_starttls=False
    )
    _deliver_through_worker(settings, smtp_sink, spawn, tmp_path)
    assert (tmp_path / "broker.sqlite").exists()


def test_worker_on_postgresql_and_redis_delivers_mail(
    tmp_path: Path, smtp_sink: Sink, spawn: Spawn, request: pytest.FixtureRequest
) -> None:
    if not reachable(REDIS_HOST, REDIS_PORT):
        skip_or_fail(f"Redis on {REDIS_HOST}:{REDIS_PORT}")
    postgres: str = request.getfixturevalue("migrated_postgres")
    # A database number of its own, so a parallel run's workers cannot take this test's job.
    redis_url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{random.randint(1, 15)}"
    settings = make_settings(
        tmp_path,
        database_url=postgres,
        redis_url=redis_url,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        smtp_starttls=False,
    )
    _deliver_through_worker(settings, smtp_sink, spawn, tmp_path)
    assert not (tmp_path / "broker.sqlite").exists(), "Redis is the broker here"


def test_beat_schedule_holds_the_housekeeping_tasks() -> None:
    from workers import tasks
    from workers.celery_app import celery_config

    config = celery_config(make_settings(Path("/tmp/unused")))
    names = {entry["task"] for entry in config["beat_schedule"].values()}
    assert {"accounts.purge_expired", "mail.retry_pending", "broker.prune"} <= names
    assert names <= set(tasks.TASK_NAMES)
    for entry in config["beat_schedule"].values():
        assert 0 < entry["schedule"] <= 6 * 3600
        assert entry["options"]["expires"] < entry["schedule"], "a missed run is not stacked"


def test_reliability_settings() -> None:
    from workers.celery_app import VISIBILITY_TIMEOUT, celery_config

    embedded = celery_config(make_settings(Path("/tmp/unused")))
    redis = celery_config(make_settings(Path("/tmp/unused"), redis_url="redis://127.0.0.1:6379/0"))
    for config in (embedded, redis):
        assert config["task_acks_late"] is True
        assert config["task_reject_on_worker_lost"] is True
        assert config["worker_prefetch_multiplier"] == 1
        assert config["task_serializer"] == "json"
        assert config["accept_content"] == ["json"]
        assert config["task_soft_time_limit"] < config["task_time_limit"]
        assert config["task_time_limit"] < VISIBILITY_TIMEOUT.total_seconds()
        assert config["task_routes"]["mail.*"] == {"queue": "mail"}
        assert config["task_default_queue"] == "default"
    assert embedded["broker_url"] == "sqla+sqlite:////tmp/unused/broker.sqlite"
    assert redis["broker_url"] == "redis://127.0.0.1:6379/0"
    assert redis["broker_transport_options"]["visibility_timeout"] == int(
        VISIBILITY_TIMEOUT.total_seconds()
    )


def test_task_time_limits_stay_below_the_visibility_timeout() -> None:
    from workers.celery_app import VISIBILITY_TIMEOUT, celery_for

    app: Any = celery_for(make_settings(Path("/tmp/unused")))
    app.loader.import_default_modules()
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert {task.name for task in ours} >= {"mail.deliver", "accounts.purge_expired"}
    for task in ours:
        limit = task.time_limit or app.conf.task_time_limit
        assert limit < VISIBILITY_TIMEOUT.total_seconds()
