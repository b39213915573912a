"""The scan pipeline: queue a run, claim it, read → analyse, publish in one transaction.

A ScanRun moves queued → running → succeeded | failed. The rules this module keeps:

- One active run per cluster: ``queue_scan`` returns the queued or running one if there is
  one; the partial unique index settles a race between two callers.
- A worker claims a run with one conditional UPDATE (queued → running, attempts + 1), so a
  message delivered twice runs the scan once. Every later write of that worker is conditional
  on the claim (status running and the same attempt): if the reconciler gave the run to
  another worker meanwhile, this one publishes nothing.
- The cluster is read and analysed outside any transaction; the findings, the run's totals and
  its "succeeded" appear in one transaction, so pages show the previous findings or the new
  ones, never a mixture. A failed run never touches the findings.
- Transient trouble (unreachable API server, throttling, a cloud API timing out) puts the run
  back in the queue and raises ``TransientScanError`` for the task to retry with backoff; the
  last attempt fails the run with the reason. Refused credentials fail at once and mark the
  account "needs attention". Anything unexpected fails the run with a generic message (the
  details go to the log).
- A worker that dies mid-scan stops the heartbeat; ``app.scans.recovery.reconcile`` puts such a
  run back in the queue (or fails it after the last attempt) and re-sends queued runs whose
  message was lost; ``app.scans.recovery.schedule_due`` queues the scheduled scans.

The page queries live in ``app.scans.queries``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, Table, delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.clouds.base import CloudError, CredentialsRefused, ProviderError, ProviderUnavailable
from app.clouds.models import AccountStatus, CloudAccount, Cluster, ClusterState
from app.clouds.service import cluster_access_for
from app.config import Settings
from app.db import session_scope, utcnow
from app.findings.ignores import apply_rules, counted
from app.history.models import ResolvedFinding
from app.history.rollups import refresh_cluster, refresh_org_day
from app.kube.ssrf import EndpointRefused
from app.kube.transport import (
    AuthenticationRefused,
    ClusterUnreachable,
    ReadError,
    ResponseTooLarge,
)
from app.scans.models import ACTIVE, Finding, ScanRun, ScanStatus, ScanTrigger

if TYPE_CHECKING:
    from app.analysis.model import AnalysisResult
    from app.analysis.model import Finding as FoundItem
    from app.kube.reader import ReadProgress

__all__ = [
    "MAX_ATTEMPTS",
    "RUN_TASK",
    "Outcome",
    "TransientScanError",
    "finding_identity",
    "finding_row",
    "queue_scan",
    "run_scan",
]

log = logging.getLogger("leftover.scans")

RUN_TASK = "scans.run"
MAX_ATTEMPTS = 4  # claims of one run: task retries and worker deaths both count
HEARTBEAT_EVERY = 20.0  # seconds between heartbeats while the reader makes progress
PUBLISH_BATCH = 1000
MAX_ERROR_LENGTH = 2000
_ACTIVE_SQL = text("status IN ('queued', 'running')")  # the one-active-run index's predicate

GONE = "the cluster no longer exists or is unreachable: "
NOT_LISTED = (
    "the cluster is no longer listed by its cloud account, so it was not scanned; "
    "its earlier findings are kept"
)
UNEXPECTED = "the scan failed because of an unexpected error; the details are in the worker's log"


class Outcome(StrEnum):
    succeeded = "succeeded"
    failed = "failed"
    missing = "missing"  # no such run (deleted with its cluster)
    finished = "finished"  # already succeeded or failed: a repeated message
    busy = "busy"  # another worker holds the run
    abandoned = "abandoned"  # the reconciler took the run away mid-scan: nothing published


class TransientScanError(Exception):
    """The scan hit trouble that may pass; the run is queued again and the task retries."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _TakenAway(Exception):
    """The run is no longer the one this worker claimed."""


class _IncompleteRead(ReadError):
    """Some kinds kept failing transiently; publishing now would drop their findings."""


# --- queueing ------------------------------------------------------------------------------------


def queue_scan(session: Session, cluster: Cluster, *, trigger: ScanTrigger) -> ScanRun | None:
    """The cluster's queued or running scan, else a new queued one sent to a worker on commit.

    One scan per cluster: the insert does nothing when the partial unique index already holds
    an active run (one committed by a concurrent caller included), and this returns that run.
    A gone cluster is not scanned (None)."""
    return queue_new(session, cluster, trigger=trigger)[0]


def queue_new(
    session: Session, cluster: Cluster, *, trigger: ScanTrigger
) -> tuple[ScanRun | None, bool]:
    """``queue_scan``, also saying whether the run is a new one."""
    if cluster.state != ClusterState.active.value:
        return None, False
    for _ in range(3):
        active = _active_run(session, cluster.id)
        if active is not None:
            return active, False
        # ON CONFLICT DO NOTHING rather than a savepoint: a lost race leaves the caller's
        # transaction usable, and SQLite's driver would commit an outermost savepoint early.
        run_id, now = uuid.uuid4(), utcnow()
        insert = _insert(session, cast(Table, ScanRun.__table__)).values(
            id=run_id,
            org_id=cluster.org_id,
            cluster_id=cluster.id,
            trigger=ScanTrigger(trigger).value,
            status=ScanStatus.queued.value,
            attempts=0,
            by_kind={},
            warnings=[],
            created_at=now,
            updated_at=now,
        )
        added = session.scalar(
            insert.on_conflict_do_nothing(
                index_elements=["cluster_id"], index_where=_ACTIVE_SQL
            ).returning(ScanRun.id)
        )
        if added == run_id:
            jobs.enqueue(session, RUN_TASK, run_id=run_id)
            return session.get_one(ScanRun, run_id), True
    return _active_run(session, cluster.id), False


def _active_run(session: Session, cluster_id: uuid.UUID) -> ScanRun | None:
    stmt = select(ScanRun).where(ScanRun.cluster_id == cluster_id, ScanRun.status.in_(ACTIVE))
    return session.scalars(stmt).first()


# --- running -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    run_id: uuid.UUID
    cluster_id: uuid.UUID
    account_id: uuid.UUID
    org_id: uuid.UUID
    cluster_name: str
    attempts: int

    def owns(self) -> ColumnElement[bool]:
        """The WHERE clause every write of this worker carries."""
        return (
            (ScanRun.id == self.run_id)
            & (ScanRun.status == ScanStatus.running.value)
            & (ScanRun.attempts == self.attempts)
        )


@dataclass(frozen=True)
class _Scanned:
    result: AnalysisResult
    warnings: list[str]
    objects_scanned: int
    api_requests: int
    listed: frozenset[str]


def run_scan(factory: sessionmaker[Session], run_id: str, *, settings: Settings) -> str:
    """Claim the run, read and analyse its cluster, publish; returns an ``Outcome`` value.

    Idempotent on ``run_id``: a finished run, or one another worker holds, returns quietly.
    Raises ``TransientScanError`` after putting the run back in the queue for a retry."""
    try:
        ident = uuid.UUID(str(run_id))
    except ValueError:
        return Outcome.missing.value
    claim = _claim(factory, ident, now=utcnow())
    if isinstance(claim, Outcome):
        return claim.value
    log.info("scan %s of cluster %s: attempt %d", claim.run_id, claim.cluster_id, claim.attempts)
    try:
        scanned = _scan(factory, claim, settings)
        outcome = _publish(factory, claim, scanned)
    except _TakenAway:
        outcome = Outcome.abandoned
    except Exception as exc:  # every failure ends as a status the user can read
        return _fail(factory, claim, _classify(exc, claim)).value
    if outcome is Outcome.abandoned:
        log.warning("scan %s was taken over by the reconciler; nothing published", claim.run_id)
    return outcome.value


def _claim(factory: sessionmaker[Session], ident: uuid.UUID, *, now: datetime) -> _Claim | Outcome:
    with session_scope(factory) as session:
        run = session.get(ScanRun, ident)
        if run is None:
            return Outcome.missing
        if run.status == ScanStatus.running.value:
            return Outcome.busy
        if run.status != ScanStatus.queued.value:
            return Outcome.finished
        cluster = session.get_one(Cluster, run.cluster_id)
        if cluster.gone or run.attempts >= MAX_ATTEMPTS:
            last = f"; the last attempt said: {run.error}" if run.error else ""
            reason = NOT_LISTED if cluster.gone else f"gave up after {run.attempts} attempts{last}"
            _finish_queued(session, run, reason, now=now)
            return Outcome.failed
        claimed = session.execute(
            update(ScanRun)
            .where(
                ScanRun.id == ident,
                ScanRun.status == ScanStatus.queued.value,
                ScanRun.attempts == run.attempts,
            )
            .values(
                status=ScanStatus.running.value,
                attempts=run.attempts + 1,
                started_at=now,
                heartbeat_at=now,
                error=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) != 1:
            return Outcome.busy
        return _Claim(
            run_id=ident,
            cluster_id=cluster.id,
            account_id=cluster.account_id,
            org_id=cluster.org_id,
            cluster_name=cluster.name,
            attempts=run.attempts + 1,
        )


def _finish_queued(session: Session, run: ScanRun, reason: str, *, now: datetime) -> None:
    session.execute(
        update(ScanRun)
        .where(ScanRun.id == run.id, ScanRun.status == ScanStatus.queued.value)
        .values(
            status=ScanStatus.failed.value,
            finished_at=now,
            error=reason[:MAX_ERROR_LENGTH],
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )


class _Heartbeat:
    """Proves the worker is alive while the reader makes progress (throttled)."""

    def __init__(self, factory: sessionmaker[Session], claim: _Claim) -> None:
        self.factory = factory
        self.claim = claim
        self.last = time.monotonic()
        self._lock = threading.Lock()

    def __call__(self, progress: ReadProgress) -> None:
        if time.monotonic() - self.last >= HEARTBEAT_EVERY:
            self.beat()

    def beat(self) -> None:
        """Record that the scan is alive; ``_TakenAway`` if the run is no longer ours."""
        with self._lock:
            self.last = time.monotonic()
            with session_scope(self.factory) as session:
                result = session.execute(
                    update(ScanRun)
                    .where(self.claim.owns())
                    .values(heartbeat_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
            if rowcount(result) != 1:
                raise _TakenAway()


def _scan(factory: sessionmaker[Session], claim: _Claim, settings: Settings) -> _Scanned:
    # Imported here: the web process queues scans and should not load the reader and rules.
    from app.analysis import Options, analyze
    from app.kube.reader import ClusterReader
    from app.memory import cyclic_gc_paused
    from app.pricing.store import effective_price_book
    from app.render import report_warnings

    with session_scope(factory) as session:
        cluster = session.get(Cluster, claim.cluster_id)
        if cluster is None:
            raise _TakenAway()  # deleted with its runs
        access = cluster_access_for(session, cluster, settings=settings)
        provider = cluster.provider if cluster.provider != "kubeconfig" else None
        options = Options(provider=provider, region=cluster.region or None)
        prices = effective_price_book(session, cluster.org_id)
    heartbeat = _Heartbeat(factory, claim)
    reader = ClusterReader(access, progress=heartbeat)
    with cyclic_gc_paused():
        snapshot = reader.read()
        # A kind whose LIST kept failing for a reason that may pass: retry the scan before
        # publishing without that kind.
        if snapshot.transient_failures and claim.attempts < MAX_ATTEMPTS:
            reasons = [snapshot.transient_failures[k] for k in sorted(snapshot.transient_failures)]
            raise _IncompleteRead("; ".join(reasons[:3]))
        heartbeat.beat()
        result = analyze(snapshot, prices=prices, options=options, now=utcnow())
        heartbeat.beat()
        return _Scanned(
            result=result,
            warnings=report_warnings(result, snapshot),
            objects_scanned=snapshot.objects_scanned,
            api_requests=reader.stats.requests,
            listed=frozenset(snapshot.listed),
        )


# --- publishing ----------------------------------------------------------------------------------

# Columns a later scan rewrites; identity, first_seen_at and the row's id stay.
_REFRESHED = (
    "scan_run_id",
    "kind",
    "api_version",
    "namespace",
    "name",
    "uid",
    "rule",
    "reason",
    "confidence",
    "cascade_from",
    "evidence",
    "monthly_cost_usd",
    "cost_basis",
    "cost_assumed",
    "counts_in_total",
    "security_risk",
    "age_days",
    "owner",
    "last_seen_at",
)


def finding_identity(kind: str, namespace: str | None, name: str, rule: str) -> str:
    """What makes a finding "the same one" across scans: its object and the rule that fired."""
    return hashlib.sha256(f"{kind}/{namespace or ''}/{name}/{rule}".encode()).hexdigest()


def _publish(factory: sessionmaker[Session], claim: _Claim, scanned: _Scanned) -> Outcome:
    """Findings, totals and "succeeded" in one transaction, only if the claim still holds."""
    result = scanned.result
    summary = result.summary
    now = utcnow()
    with session_scope(factory) as session:
        # First, so the row lock keeps a concurrent reconciler waiting until this commits.
        done = session.execute(
            update(ScanRun)
            .where(claim.owns())
            .values(
                status=ScanStatus.succeeded.value,
                finished_at=now,
                heartbeat_at=now,
                objects_scanned=scanned.objects_scanned,
                api_requests=scanned.api_requests,
                findings_count=len(result.findings),
                monthly_cost_usd=Decimal(str(summary.monthly_cost_usd)),
                by_kind=summary.by_kind,
                warnings=scanned.warnings,
                error=None,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(done) != 1:
            session.rollback()
            return Outcome.abandoned
        for batch in _batches(result.findings, claim, now=now):
            _upsert(session, batch)
        # Findings not confirmed by this run are fixed — unless their kind could not be read
        # or their rule could not be evaluated this time: those keep their last state.
        stale = [
            Finding.cluster_id == claim.cluster_id,
            Finding.scan_run_id != claim.run_id,
            Finding.kind.in_(sorted(scanned.listed)),
        ]
        if result.not_evaluated:
            stale.append(Finding.rule.not_in(sorted(result.not_evaluated)))
        _record_resolved(session, stale, now=now)
        session.execute(delete(Finding).where(*stale).execution_options(synchronize_session=False))
        apply_rules(session, claim.org_id, cluster_ids=[claim.cluster_id], now=now)
        refresh_cluster(session, claim.cluster_id, claim.org_id, now=now)
        refresh_org_day(session, claim.org_id, now=now)
    log.info(
        "scan %s published %d findings (%d objects, %d requests)",
        claim.run_id,
        len(result.findings),
        scanned.objects_scanned,
        scanned.api_requests,
    )
    return Outcome.succeeded


def _record_resolved(
    session: Session, stale: Sequence[ColumnElement[bool]], *, now: datetime
) -> None:
    """Counted findings this scan no longer found were cleaned up: keep what they cost."""
    gone = session.execute(
        select(
            Finding.org_id,
            Finding.cluster_id,
            Finding.kind,
            Finding.namespace,
            Finding.name,
            Finding.rule,
            Finding.monthly_cost_usd,
            Finding.first_seen_at,
        ).where(*stale, counted(now))
    ).all()
    if gone:
        session.execute(
            insert(ResolvedFinding),
            [{**row._asdict(), "id": uuid.uuid4(), "resolved_at": now} for row in gone],
        )


def _batches(
    findings: Sequence[FoundItem], claim: _Claim, *, now: datetime
) -> Iterator[list[dict[str, Any]]]:
    seen: set[str] = set()
    batch: list[dict[str, Any]] = []
    for found in findings:
        identity = finding_identity(found.kind, found.namespace, found.name, found.rule)
        if identity in seen:
            continue
        seen.add(identity)
        batch.append(
            finding_row(
                found,
                org_id=claim.org_id,
                cluster_id=claim.cluster_id,
                run_id=claim.run_id,
                first_seen_at=now,
                last_seen_at=now,
            )
        )
        if len(batch) >= PUBLISH_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


_WIDTHS = {"kind": 100, "api_version": 100, "namespace": 253, "name": 253, "uid": 64, "rule": 64}


def finding_row(
    found: FoundItem,
    *,
    org_id: uuid.UUID,
    cluster_id: uuid.UUID,
    run_id: uuid.UUID,
    first_seen_at: datetime,
    last_seen_at: datetime,
) -> dict[str, Any]:
    """The ``findings`` row for one of the engine's findings (a publish keeps ``first_seen_at``
    of a finding it already holds)."""
    from app.analysis import counts_in_total

    doc = found.as_dict()
    return {
        # Names come from the API server: cut to the columns (the identity is whole).
        **{key: _cut(doc[key], width) for key, width in _WIDTHS.items()},
        **{key: doc[key] for key in ("reason", "confidence", "cascade_from")},
        **{key: doc[key] for key in ("evidence", "security_risk")},
        "id": uuid.uuid4(),
        "org_id": org_id,
        "cluster_id": cluster_id,
        "scan_run_id": run_id,
        "identity": finding_identity(found.kind, found.namespace, found.name, found.rule),
        "monthly_cost_usd": Decimal(str(round(found.cost.monthly_usd, 4))),
        "cost_basis": found.cost.basis or None,
        "cost_assumed": found.cost.assumed,
        "counts_in_total": counts_in_total(found),
        "age_days": found.age_days,
        "owner": found.owner[:255] if found.owner else None,
        "first_seen_at": first_seen_at,
        "last_seen_at": last_seen_at,
    }


def _cut(value: object, width: int) -> object:
    return value[:width] if isinstance(value, str) else value


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """INSERT … ON CONFLICT (cluster, identity) DO UPDATE, many rows per statement."""
    insert = _insert(session, cast(Table, Finding.__table__))
    refreshed = {column: insert.excluded[column] for column in _REFRESHED}
    upsert = insert.on_conflict_do_update(index_elements=["cluster_id", "identity"], set_=refreshed)
    session.execute(upsert, rows)


def _insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (PostgreSQL and SQLite alike)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    raise RuntimeError(f"scans need PostgreSQL or SQLite, not {dialect}")


# --- failures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    message: str
    retry: bool = False  # may pass: queue again until the last attempt
    refused: bool = False  # the credentials were refused: the account needs attention


def _classify(exc: Exception, claim: _Claim) -> _Failure:
    """What a failure means for the run, in a sentence a user can act on (never a secret)."""
    if isinstance(exc, CredentialsRefused):
        return _Failure(exc.reason, refused=True)
    if isinstance(exc, ProviderUnavailable):
        return _Failure(exc.reason, retry=True)
    if isinstance(exc, ProviderError) and _says_not_found(exc.reason):
        return _Failure(GONE + exc.reason)
    if isinstance(exc, CloudError):
        return _Failure(exc.reason)
    if isinstance(exc, AuthenticationRefused):
        cause = exc.__cause__
        if isinstance(cause, ProviderUnavailable):  # minting a token timed out: try again
            return _Failure(cause.reason, retry=True)
        if isinstance(cause, CredentialsRefused):
            return _Failure(cause.reason, refused=True)
        return _Failure(
            f"{_sentence(exc.reason)}: check that Leftover's credentials are still valid and "
            "allowed to read the cluster",
            refused=True,
        )
    if isinstance(exc, ClusterUnreachable):
        cause = exc.__cause__
        if isinstance(cause, EndpointRefused) and "does not resolve" in cause.reason:
            return _Failure(GONE + cause.reason)
        if cause is not None:  # refused by policy, TLS verification, an unusable CA: permanent
            return _Failure(exc.reason)
        return _Failure(exc.reason, retry=True)
    if isinstance(exc, ResponseTooLarge):
        return _Failure(exc.reason)
    if isinstance(exc, ReadError):
        return _Failure(exc.reason, retry=True)
    if _is_time_limit(exc):
        return _Failure("the scan took longer than the worker's time limit and was stopped")
    log.exception("scan %s failed unexpectedly", claim.run_id, exc_info=exc)
    return _Failure(UNEXPECTED)


def _says_not_found(reason: str) -> bool:
    text = reason.lower()
    return "not found" in text or "notfound" in text or "no longer exists" in text


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:] if reason else reason


def _is_time_limit(exc: Exception) -> bool:
    from celery.exceptions import SoftTimeLimitExceeded  # type: ignore[import-untyped]

    return isinstance(exc, SoftTimeLimitExceeded)


def _fail(factory: sessionmaker[Session], claim: _Claim, failure: _Failure) -> Outcome:
    """Queue the run again for a retry, or fail it; mark the account when it must act."""
    now = utcnow()
    retrying = failure.retry and claim.attempts < MAX_ATTEMPTS
    if retrying:
        error = f"attempt {claim.attempts} of {MAX_ATTEMPTS} failed, retrying: {failure.message}"
        values: dict[str, Any] = {"status": ScanStatus.queued.value, "heartbeat_at": None}
    else:
        error = failure.message
        if failure.retry:
            error = f"{failure.message} (gave up after {claim.attempts} attempts)"
        values = {"status": ScanStatus.failed.value, "finished_at": now}
    with session_scope(factory) as session:
        recorded = session.execute(
            update(ScanRun)
            .where(claim.owns())
            .values(**values, error=error[:MAX_ERROR_LENGTH], updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(recorded) != 1:
            return Outcome.abandoned
        if failure.refused:
            session.execute(
                update(CloudAccount)
                .where(CloudAccount.id == claim.account_id)
                .values(
                    status=AccountStatus.needs_attention.value,
                    status_message=f"Cluster {claim.cluster_name}: {failure.message}"[
                        :MAX_ERROR_LENGTH
                    ],
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
    log.warning("scan %s attempt %d: %s", claim.run_id, claim.attempts, error)
    if retrying:
        raise TransientScanError(failure.message) from None
    return Outcome.failed


def rowcount(result: Any) -> int:
    """Rows an UPDATE changed (0 when the driver cannot tell)."""
    return int(getattr(result, "rowcount", 0) or 0)
