"""Thin tasks: each takes ids, opens one session, calls an app function and returns quietly.

Names are ``<domain>.<verb>``; callers send them by name through ``app.jobs.enqueue`` after
their commit. Every task is idempotent, so the broker's at-least-once delivery, a retry or a
second beat process cannot do the work twice.
"""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task  # type: ignore[import-untyped]
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.clouds.base import ProviderUnavailable
from app.config import Settings, get_settings
from app.db import make_engine, make_sessionmaker, session_scope, utcnow
from app.scans.service import MAX_ATTEMPTS, TransientScanError

log = logging.getLogger("leftover.tasks")

# Scans: retries of transient trouble (the run itself counts attempts; see app.scans.service).
# Celery waits a random 0…min(backoff × 2^n, max) seconds ("full jitter") before retry n + 1.
SCAN_RETRY_BACKOFF = 15
SCAN_RETRY_BACKOFF_MAX = 10 * 60
SCAN_MAX_RETRIES = MAX_ATTEMPTS  # the service fails the run after its last attempt first
# A 100k-object cluster reads and analyses in a few minutes; the limits only stop a stuck scan.
SCAN_SOFT_TIME_LIMIT = timedelta(minutes=30)
SCAN_TIME_LIMIT = timedelta(minutes=32)
DISCOVERY_RETRY_BACKOFF = 30
DISCOVERY_MAX_RETRIES = 5
DISCOVERY_SOFT_TIME_LIMIT = timedelta(minutes=10)
DISCOVERY_TIME_LIMIT = timedelta(minutes=12)

MAIL_MAX_RETRIES = 6
MAIL_FIRST_DELAY = 30  # seconds; doubles per retry
MAIL_MAX_DELAY = 15 * 60
BROKER_KEEP = timedelta(days=1)

_jitter = random.SystemRandom()


@dataclass(frozen=True)
class _Process:
    pid: int
    settings: Settings
    factory: sessionmaker[Session]


_process: _Process | None = None


def _resources() -> _Process:
    """This process's settings and session factory (made after the fork, once per child)."""
    global _process
    if _process is None or _process.pid != os.getpid():
        settings = get_settings()
        factory = make_sessionmaker(make_engine(settings.database))
        jobs.attach(factory, settings)
        _process = _Process(pid=os.getpid(), settings=settings, factory=factory)
    return _process


def retry_delay(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: doubling, capped, with jitter."""
    base = min(MAIL_FIRST_DELAY * 2**retries, MAIL_MAX_DELAY)
    return float(base * _jitter.uniform(0.8, 1.2))


# --- mail --------------------------------------------------------------------------------------


def deliver_mail(task: Any, mail_id: str) -> str:
    """Deliver one queued message; retry connection trouble and 4xx replies with backoff."""
    from app.mail_delivery import Outcome, deliver

    res = _resources()
    result = deliver(res.factory, mail_id, settings=res.settings)
    if result.outcome is Outcome.transient and task.request.retries < MAIL_MAX_RETRIES:
        raise task.retry(countdown=retry_delay(task.request.retries), max_retries=MAIL_MAX_RETRIES)
    return result.outcome.value


def retry_pending_mail() -> int:
    """Re-queue unsent mail whose delivery job was lost or gave up on a transient error."""
    from app.mail_delivery import due_for_retry

    res = _resources()
    with session_scope(res.factory) as session:
        due = due_for_retry(session, now=utcnow())
        for mail_id in due:
            jobs.enqueue(session, "mail.deliver", mail_id=mail_id)
    if due:
        log.info("re-queued %d unsent messages", len(due))
    return len(due)


# --- accounts ----------------------------------------------------------------------------------


def purge_expired_accounts() -> dict[str, int]:
    """Delete expired sessions, spent email links and stale sign-in attempts."""
    from app.accounts.housekeeping import purge_expired

    res = _resources()
    with session_scope(res.factory) as session:
        purged = purge_expired(session, now=utcnow(), settings=res.settings)
    return {
        "sessions": purged.sessions,
        "email_tokens": purged.email_tokens,
        "sign_in_attempts": purged.sign_in_attempts,
    }


# --- scans -------------------------------------------------------------------------------------


def run_scan_task(run_id: str) -> str:
    """Scan one cluster; a ``TransientScanError`` (run queued again) makes Celery retry."""
    from app.scans.service import run_scan

    res = _resources()
    return run_scan(res.factory, run_id, settings=res.settings)


def reconcile_scans() -> dict[str, int]:
    """Requeue scans whose worker died and re-send queued scans whose message was lost."""
    from app.scans.recovery import reconcile

    res = _resources()
    return reconcile(res.factory, now=utcnow(), settings=res.settings)


def schedule_due_scans() -> int:
    """Queue the scheduled scans that are due (idempotent within each cluster's interval)."""
    from app.scans.recovery import schedule_due

    return schedule_due(_resources().factory, now=utcnow())


# --- clouds ------------------------------------------------------------------------------------


def discover_account(account_id: str) -> str:
    """Rediscover one cloud account's clusters; ``ProviderUnavailable`` makes Celery retry."""
    from app.clouds.service import run_discovery

    res = _resources()
    return run_discovery(res.factory, account_id, settings=res.settings)


def discover_due_accounts() -> int:
    """Send a discovery job for every account not discovered within the interval."""
    from app.clouds.service import accounts_due_for_discovery

    res = _resources()
    interval = timedelta(hours=res.settings.discovery_interval_hours)
    with session_scope(res.factory) as session:
        due = accounts_due_for_discovery(session, now=utcnow(), interval=interval)
        for account_id in due:
            jobs.enqueue(session, "clouds.discover", account_id=account_id)
    if due:
        log.info("sent discovery for %d accounts", len(due))
    return len(due)


# --- findings and prices -----------------------------------------------------------------------


def expire_ignores() -> dict[str, int]:
    """Tidy the findings of expired ignore rules and refresh the roll-ups they changed."""
    from app.findings.expiry import expire_ignore_rules

    return expire_ignore_rules(_resources().factory, now=utcnow())


def refresh_prices() -> dict[str, Any] | None:
    """Refresh default prices from the providers' public price APIs, when enabled."""
    from app.pricing.refresh import run_price_refresh

    res = _resources()
    report = run_price_refresh(res.factory, settings=res.settings, now=utcnow())
    return report.as_dict() if report else None


# --- broker ------------------------------------------------------------------------------------


def prune_embedded_broker() -> int:
    """Delete messages the embedded broker already handed out (kombu keeps them forever)."""
    from workers.celery_app import embedded_broker_path, uses_embedded_broker

    settings = _resources().settings
    path = embedded_broker_path(settings)
    if not uses_embedded_broker(settings) or not path.exists():
        return 0
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    try:
        with engine.begin() as conn:
            result = conn.execute(
                text("DELETE FROM kombu_message WHERE visible = 0 AND timestamp < :cutoff"),
                {"cutoff": datetime.now() - BROKER_KEEP},  # kombu stores local time
            )
            return int(result.rowcount or 0)
    finally:
        engine.dispose()


deliver = shared_task(
    name="mail.deliver",
    bind=True,
    max_retries=MAIL_MAX_RETRIES,
    soft_time_limit=150,
    time_limit=180,
)(deliver_mail)
retry_pending = shared_task(name="mail.retry_pending", time_limit=120)(retry_pending_mail)
purge_expired = shared_task(name="accounts.purge_expired", time_limit=300)(purge_expired_accounts)
prune_broker = shared_task(name="broker.prune", time_limit=300)(prune_embedded_broker)

scan_run = shared_task(
    name="scans.run",
    autoretry_for=(TransientScanError,),
    max_retries=SCAN_MAX_RETRIES,
    retry_backoff=SCAN_RETRY_BACKOFF,
    retry_backoff_max=SCAN_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    soft_time_limit=int(SCAN_SOFT_TIME_LIMIT.total_seconds()),
    time_limit=int(SCAN_TIME_LIMIT.total_seconds()),
)(run_scan_task)
scan_reconcile = shared_task(name="scans.reconcile", time_limit=300)(reconcile_scans)
scan_schedule_due = shared_task(name="scans.schedule_due", time_limit=300)(schedule_due_scans)
discover = shared_task(
    name="clouds.discover",
    autoretry_for=(ProviderUnavailable,),
    max_retries=DISCOVERY_MAX_RETRIES,
    retry_backoff=DISCOVERY_RETRY_BACKOFF,
    retry_backoff_max=SCAN_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    soft_time_limit=int(DISCOVERY_SOFT_TIME_LIMIT.total_seconds()),
    time_limit=int(DISCOVERY_TIME_LIMIT.total_seconds()),
)(discover_account)
discover_due = shared_task(name="clouds.discover_due", time_limit=300)(discover_due_accounts)
ignores_expire = shared_task(name="findings.expire_ignores", time_limit=300)(expire_ignores)
prices_refresh = shared_task(name="pricing.refresh", soft_time_limit=840, time_limit=900)(
    refresh_prices
)

TASK_NAMES = (
    "mail.deliver",
    "mail.retry_pending",
    "accounts.purge_expired",
    "broker.prune",
    "scans.run",
    "scans.reconcile",
    "scans.schedule_due",
    "clouds.discover",
    "clouds.discover_due",
    "findings.expire_ignores",
    "pricing.refresh",
)
