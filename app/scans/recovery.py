"""Recovery and schedule: the periodic sweeps that keep scans moving.

``reconcile`` rescues runs a dead worker left running and queued runs whose message was lost;
``schedule_due`` queues each cluster's scan when its organisation's interval has passed. Both
are idempotent, so a second beat process or a retried beat job does no harm (SECURITY.md 13).
They share the queueing and claiming rules of ``app.scans.service``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.accounts.models import Organisation
from app.clouds.models import AccountStatus, CloudAccount, Cluster, ClusterState
from app.config import Settings
from app.db import session_scope
from app.scans.models import ScanRun, ScanStatus, ScanTrigger
from app.scans.service import MAX_ATTEMPTS, RUN_TASK, log, queue_new, rowcount

# Longer than the reader can go without progress: five attempts of one request with their
# 60 s read timeouts and waits, or the analysis of a very large cluster.
STALE_AFTER = timedelta(minutes=15)
# Longer than the longest retry countdown: a queued run untouched this long lost its message.
QUEUED_LOST_AFTER = timedelta(minutes=30)
MIN_SCAN_INTERVAL_HOURS = 1
_SWEEP_LIMIT = 500
WORKER_STOPPED = "the worker stopped during the scan"


def reconcile(
    factory: sessionmaker[Session], *, now: datetime, settings: Settings
) -> dict[str, int]:
    """Rescue runs a dead worker left running and queued runs whose message was lost.

    A running run without a heartbeat for ``STALE_AFTER`` goes back to the queue (or fails
    after the last attempt); a queued run untouched for ``QUEUED_LOST_AFTER`` is sent again.
    Sending twice is harmless: only one worker can claim a queued run."""
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    stale, lost = now - STALE_AFTER, now - QUEUED_LOST_AFTER
    with session_scope(factory) as session:
        # A run marked running by hand or by an older version may lack a heartbeat.
        alive_at = func.coalesce(ScanRun.heartbeat_at, ScanRun.updated_at)
        running = session.scalars(
            select(ScanRun)
            .where(ScanRun.status == ScanStatus.running.value, alive_at < stale)
            .order_by(alive_at)
            .limit(_SWEEP_LIMIT)
        ).all()
        for run in running:
            if run.attempts < MAX_ATTEMPTS:
                values: dict[str, Any] = {
                    "status": ScanStatus.queued.value,
                    "heartbeat_at": None,
                    "error": f"{WORKER_STOPPED} (attempt {run.attempts} of {MAX_ATTEMPTS}); "
                    "retrying",
                }
            else:
                values = {
                    "status": ScanStatus.failed.value,
                    "finished_at": now,
                    "error": f"{WORKER_STOPPED}; it stopped on each of {run.attempts} attempts "
                    "(a very large cluster may need a worker with more memory or time)",
                }
            changed = session.execute(
                update(ScanRun)
                .where(
                    ScanRun.id == run.id,
                    ScanRun.status == ScanStatus.running.value,
                    ScanRun.attempts == run.attempts,
                    alive_at < stale,
                )
                .values(**values, updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if rowcount(changed) != 1:
                continue
            if values["status"] == ScanStatus.queued.value:
                counts["requeued"] += 1
                jobs.enqueue(session, RUN_TASK, run_id=run.id)
            else:
                counts["failed"] += 1
        queued = session.execute(
            select(ScanRun.id, ScanRun.updated_at)
            .where(ScanRun.status == ScanStatus.queued.value, ScanRun.updated_at < lost)
            .order_by(ScanRun.updated_at)
            .limit(_SWEEP_LIMIT)
        ).all()
        for run_id, updated_at in queued:
            touched = session.execute(
                update(ScanRun)
                .where(
                    ScanRun.id == run_id,
                    ScanRun.status == ScanStatus.queued.value,
                    ScanRun.updated_at == updated_at,
                )
                .values(updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if rowcount(touched) == 1:
                counts["resent"] += 1
                jobs.enqueue(session, RUN_TASK, run_id=run_id)
    if any(counts.values()):
        log.info("reconciled scans: %s", counts)
    return counts


def schedule_due(factory: sessionmaker[Session], *, now: datetime) -> int:
    """Queue a scheduled scan of every active cluster not scanned within its organisation's
    interval; a second beat or a retry in the same period finds the new run and queues none."""
    last = (
        select(ScanRun.cluster_id, func.max(ScanRun.created_at).label("last"))
        .group_by(ScanRun.cluster_id)
        .subquery()
    )
    queued = 0
    with session_scope(factory) as session:
        rows = session.execute(
            select(Cluster, Organisation.scan_interval_hours, last.c.last)
            .join(Organisation, Organisation.id == Cluster.org_id)
            .join(CloudAccount, CloudAccount.id == Cluster.account_id)
            .outerjoin(last, last.c.cluster_id == Cluster.id)
            .where(
                Cluster.state == ClusterState.active.value,
                Organisation.is_demo.is_(False),  # generated clusters: nothing to scan
                # Refused credentials fail every scan until the user replaces them.
                CloudAccount.status != AccountStatus.needs_attention.value,
            )
            .order_by(last.c.last.is_not(None), last.c.last)
        ).all()
        for cluster, hours, previous in rows:
            interval = timedelta(hours=max(int(hours or 24), MIN_SCAN_INTERVAL_HOURS))
            if previous is not None and previous > now - interval:
                continue
            _, created = queue_new(session, cluster, trigger=ScanTrigger.schedule)
            queued += created
    if queued:
        log.info("queued %d scheduled scans", queued)
    return queued
