"""The Celery application: broker, queues, reliability settings and the beat schedule.

Broker: Redis when ``LEFTOVER_REDIS_URL`` is set; otherwise kombu's SQLAlchemy transport on a
SQLite file of its own (``<data_dir>/broker.sqlite``). That embedded broker needs no server,
is shared safely by the web, worker and beat processes (each put and get is one SQLite
transaction, so a message is never read half-written and never handed to two consumers), and
keeps the application database free of broker traffic.

At-least-once made safe (SECURITY.md 10): late acks, a task whose worker died is rejected back
to the queue, one message prefetched at a time, JSON only, and hard time limits well below
Redis' visibility timeout so a slow task is never handed to a second worker while it runs.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Celery  # type: ignore[import-untyped]

from app.config import Settings, get_settings

QUEUES = ("default", "mail", "scans")

# Redis re-delivers an unacknowledged message after this long; every limit stays below it.
VISIBILITY_TIMEOUT = timedelta(hours=2)
TASK_TIME_LIMIT = timedelta(minutes=60)
TASK_SOFT_TIME_LIMIT = timedelta(minutes=55)

# Periodic work: each task is idempotent, so a second beat or a retry does no harm.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "purge-expired-account-records": {
        "task": "accounts.purge_expired",
        "schedule": timedelta(hours=1).total_seconds(),
        "options": {"queue": "default", "expires": timedelta(minutes=50).total_seconds()},
    },
    "retry-pending-mail": {
        "task": "mail.retry_pending",
        "schedule": timedelta(minutes=5).total_seconds(),
        "options": {"queue": "mail", "expires": timedelta(minutes=4).total_seconds()},
    },
    # Housekeeping of scans runs on "default", so it is not stuck behind long scans.
    "reconcile-scans": {
        "task": "scans.reconcile",
        "schedule": timedelta(minutes=5).total_seconds(),
        "options": {"queue": "default", "expires": timedelta(minutes=4).total_seconds()},
    },
    "schedule-due-scans": {
        "task": "scans.schedule_due",
        "schedule": timedelta(minutes=15).total_seconds(),
        "options": {"queue": "default", "expires": timedelta(minutes=14).total_seconds()},
    },
    "discover-due-accounts": {
        "task": "clouds.discover_due",
        "schedule": timedelta(hours=1).total_seconds(),
        "options": {"queue": "default", "expires": timedelta(minutes=50).total_seconds()},
    },
    # Figures already stop counting an expired rule; this tidies rows and roll-ups.
    "expire-ignore-rules": {
        "task": "findings.expire_ignores",
        "schedule": timedelta(minutes=5).total_seconds(),
        "options": {"queue": "default", "expires": timedelta(minutes=4).total_seconds()},
    },
    # Does nothing unless LEFTOVER_PRICE_REFRESH is on; writes only prices that changed.
    "refresh-prices": {
        "task": "pricing.refresh",
        "schedule": timedelta(hours=6).total_seconds(),
        "options": {"queue": "default", "expires": timedelta(hours=5).total_seconds()},
    },
}
EMBEDDED_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "prune-embedded-broker": {
        "task": "broker.prune",
        "schedule": timedelta(hours=6).total_seconds(),
        "options": {"queue": "default", "expires": timedelta(hours=5).total_seconds()},
    },
}


def embedded_broker_path(settings: Settings) -> Path:
    """Where the embedded broker keeps its messages (a SQLite file beside the data)."""
    return (settings.data_dir / "broker.sqlite").resolve()


def broker_url(settings: Settings) -> str:
    """Redis when configured, else the embedded SQLite broker."""
    if settings.redis_url:
        return settings.redis_url
    return f"sqla+sqlite:///{embedded_broker_path(settings)}"


def uses_embedded_broker(settings: Settings) -> bool:
    return not settings.redis_url


def celery_config(settings: Settings) -> dict[str, Any]:
    """Every Celery setting Leftover relies on, derived from ``settings`` alone."""
    embedded = uses_embedded_broker(settings)
    transport_options: dict[str, Any]
    if embedded:
        # Passed straight to create_engine() by kombu: only engine arguments belong here.
        transport_options = {"connect_args": {"timeout": 30}}
    else:
        transport_options = {
            "visibility_timeout": int(VISIBILITY_TIMEOUT.total_seconds()),
            "socket_timeout": 10,
            "socket_connect_timeout": 10,
        }
    schedule = dict(BEAT_SCHEDULE)
    if embedded:
        schedule.update(EMBEDDED_BEAT_SCHEDULE)
    return {
        "broker_url": broker_url(settings),
        "broker_transport_options": transport_options,
        "broker_connection_retry_on_startup": True,
        "result_backend": settings.redis_url or None,
        "task_ignore_result": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": int(TASK_TIME_LIMIT.total_seconds()),
        "task_soft_time_limit": int(TASK_SOFT_TIME_LIMIT.total_seconds()),
        "task_default_queue": "default",
        "task_create_missing_queues": True,
        # Scans spread over the workers consuming "scans"; the rest is short work.
        "task_routes": {
            "mail.*": {"queue": "mail"},
            "scans.run": {"queue": "scans"},
        },
        # The embedded broker has no fan-out between processes: no remote control there.
        "worker_enable_remote_control": not embedded,
        "worker_send_task_events": False,
        "worker_hijack_root_logger": False,
        "worker_max_tasks_per_child": 200,
        "beat_schedule": schedule,
        "beat_schedule_filename": str((settings.data_dir / "celerybeat-schedule").resolve()),
        "timezone": "UTC",
        "enable_utc": True,
    }


def make_celery(settings: Settings) -> Any:
    """A Celery app for ``settings`` with Leftover's tasks registered."""
    app = Celery("leftover", set_as_current=False)
    app.conf.update(celery_config(settings))
    app.conf.update(include=["workers.tasks"])
    return app


_apps: dict[Settings, Any] = {}


def celery_for(settings: Settings) -> Any:
    """One Celery app per settings, reused (its producer pool keeps broker connections)."""
    app = _apps.get(settings)
    if app is None:
        app = _apps[settings] = make_celery(settings)
    return app


def __getattr__(name: str) -> Any:
    # ``celery -A workers.celery_app`` finds ``app``; built on first use, not at import.
    if name in ("app", "celery"):
        return celery_for(get_settings())
    raise AttributeError(name)
