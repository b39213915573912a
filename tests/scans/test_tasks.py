"""The scan and discovery tasks as Celery registers them: names, queues, retries, limits, beat."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.clouds.base import ProviderUnavailable
from app.scans.service import MAX_ATTEMPTS, TransientScanError
from tests.conftest import make_settings


def _app() -> Any:
    from workers.celery_app import celery_for

    app = celery_for(make_settings(Path("/tmp/unused")))
    app.loader.import_default_modules()
    return app


def test_scans_run_retries_only_transient_errors_with_capped_jittered_backoff() -> None:
    from workers.celery_app import VISIBILITY_TIMEOUT

    task = _app().tasks["scans.run"]
    assert task.autoretry_for == (TransientScanError,)
    assert task.max_retries >= MAX_ATTEMPTS - 1, "the run fails itself on its last attempt"
    assert task.retry_backoff
    assert task.retry_jitter
    assert 0 < task.retry_backoff_max <= 15 * 60
    assert task.soft_time_limit < task.time_limit < VISIBILITY_TIMEOUT.total_seconds()
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True


def test_discovery_retries_only_an_unavailable_provider() -> None:
    task = _app().tasks["clouds.discover"]
    assert task.autoretry_for == (ProviderUnavailable,)
    assert task.retry_backoff
    assert task.retry_jitter
    assert task.soft_time_limit < task.time_limit


def test_scans_go_to_their_own_queue_and_housekeeping_does_not() -> None:
    app = _app()
    router = app.amqp.router
    assert router.route({}, "scans.run")["queue"].name == "scans"
    for name in ("scans.reconcile", "scans.schedule_due", "clouds.discover", "clouds.discover_due"):
        assert router.route({}, name)["queue"].name == "default", name


def test_beat_sends_the_periodic_scan_and_discovery_work() -> None:
    from workers import tasks
    from workers.celery_app import celery_config

    schedule = celery_config(make_settings(Path("/tmp/unused")))["beat_schedule"]
    by_task = {entry["task"]: entry for entry in schedule.values()}
    assert by_task["scans.reconcile"]["schedule"] <= 10 * 60
    assert by_task["scans.schedule_due"]["schedule"] <= 30 * 60
    assert by_task["clouds.discover_due"]["schedule"] <= 60 * 60
    for name in ("scans.reconcile", "scans.schedule_due", "clouds.discover_due"):
        assert by_task[name]["options"]["queue"] == "default"
        assert name in tasks.TASK_NAMES
    registered = set(_app().tasks)
    assert set(tasks.TASK_NAMES) <= registered
