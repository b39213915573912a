"""The rows of one demo cluster's history, and how the seeder writes rows in bulk.

``replay`` walks a cluster's timeline (``app.demo.history``) from its first day to today as the
scan pipeline would have published it: a succeeded ``ScanRun`` per day with that day's totals,
``ClusterDailyWaste`` for each past day (running sums that each day's appearances and clean-ups
change, through ``app.history.rollups.aggregate`` and ``rows_for``), the current ``Finding``
rows as ``app.scans.service`` publishes them, and a ``ResolvedFinding`` per counted finding
cleaned up. It adds the cluster's days to the organisation's (``org_totals``).

``Bulk`` buffers rows per table and writes them in batches, parents first: ``COPY … FROM
STDIN`` on PostgreSQL from a writer thread (the server stores one batch while the seeder
generates the next), an executemany ``INSERT`` on SQLite.
"""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import JSON, Table, insert
from sqlalchemy.orm import Session

from app.analysis import AnalysisResult, counts_in_total
from app.analysis import Finding as FoundItem
from app.clouds.models import Cluster
from app.demo.generate import DemoCluster
from app.demo.history import Span, timeline
from app.history.models import ClusterDailyWaste, OrgDailyWaste, ResolvedFinding
from app.history.rollups import KIND, TOTAL, Group, Key, Totals, aggregate, org_totals, rows_for
from app.scans.models import Finding, ScanRun, ScanStatus, ScanTrigger
from app.scans.service import finding_identity, finding_row

BATCH = 5000
_ORG_INPUT = (TOTAL, KIND)  # what org_totals reads of a cluster's rows


_Jobs = queue.Queue[tuple[Table, list[dict[str, Any]]] | None]  # None: stop


class SeedingStopped(Exception):
    """The seeder gave up; the writer thread drops what is still queued."""


@dataclass(frozen=True, slots=True)
class _Item:
    """What a span adds to a day's totals."""

    kind: str
    namespace: str | None
    rule: str
    cost: Decimal
    counted: bool

    @staticmethod
    def of(found: FoundItem) -> _Item:
        return _Item(found.kind, found.namespace, found.rule, _cost(found), counts_in_total(found))


class _Day:
    """A cluster's running totals: what its scan would have published on the current day."""

    def __init__(self) -> None:
        self.totals: dict[Key, Totals] = {(TOTAL, ""): Totals()}
        self.count = 0  # every finding, counted or not (a run's findings_count)
        self.by_kind: dict[str, list[Any]] = {}  # kind -> [findings, counted cost]

    def change(self, came: Iterable[_Item], went: Iterable[_Item]) -> None:
        groups: list[Group] = []
        for sign, items in ((1, came), (-1, went)):
            for item in items:
                self.count += sign
                entry = self.by_kind.setdefault(item.kind, [0, Decimal(0)])
                entry[0] += sign
                if item.counted:
                    entry[1] += sign * item.cost
                    groups.append(
                        Group(item.kind, item.namespace, item.rule, False, sign * item.cost, sign)
                    )
        if not groups:
            return
        for key, delta in aggregate(groups).items():
            totals = self.totals.setdefault(key, Totals())
            totals.merge(delta)
            if totals.findings == 0 and key != (TOTAL, ""):
                del self.totals[key]  # gone from the cluster, as a re-count would leave it

    def run_totals(self) -> dict[str, Any]:
        cost = self.totals[(TOTAL, "")].cost
        return {
            "findings_count": self.count,
            "monthly_cost_usd": cost.quantize(Decimal("0.01")),
            "by_kind": {
                kind: {"findings": n, "monthly_cost_usd": round(float(c), 2)}
                for kind, (n, c) in sorted(self.by_kind.items())
                if n
            },
        }


def replay(
    bulk: Bulk,
    org_days: dict[int, dict[Key, Totals]],
    cluster: Cluster,
    demo: DemoCluster,
    result: AnalysisResult,
    *,
    days: int,
    seed: int,
    now: datetime,
) -> tuple[int, Decimal, int]:
    """Write the cluster's runs, findings, clean-ups and past daily roll-ups; adds its days
    to ``org_days``. Returns (current findings, their counted cost, findings cleaned up)."""
    unique: dict[str, FoundItem] = {}
    for found in result.findings:  # one row per identity, as the publish keeps them
        unique.setdefault(
            finding_identity(found.kind, found.namespace, found.name, found.rule), found
        )
    history = timeline(list(unique.values()), days=days, seed=seed, key=demo.name)
    items = {id(span): _Item.of(span.finding) for span in history.spans}
    day = _Day()
    runs: list[dict[str, Any]] = []
    objects = demo.snapshot.objects_scanned - len(history.current)
    for offset, came, went in history.changes():
        day.change((items[id(s)] for s in came), (items[id(s)] for s in went))
        at = now - timedelta(days=offset)
        runs.append(_run(cluster, demo, day, at=at, first=offset == days - 1, objects=objects))
        if offset:  # today's roll-ups come from refresh_cluster, as after a publish
            bulk.add(
                ClusterDailyWaste,
                rows_for(day.totals, org_id=cluster.org_id, cluster_id=cluster.id, day=at.date()),
            )
            _add_org_day(org_days, offset, cluster, day.totals)
    bulk.add(ScanRun, runs)
    today = runs[-1]["id"]
    bulk.add(
        Finding,
        (
            _finding(s.finding, cluster, today, first_seen_at=s.first_seen_at(now), now=now)
            for s in history.current
        ),
    )
    cleaned = [_resolved(s, cluster, now) for s in history.resolved if items[id(s)].counted]
    bulk.add(ResolvedFinding, cleaned)
    return len(history.current), day.totals[(TOTAL, "")].cost, len(cleaned)


def _add_org_day(
    org_days: dict[int, dict[Key, Totals]], offset: int, cluster: Cluster, totals: dict[Key, Totals]
) -> None:
    into = org_days.setdefault(offset, {})
    current = [
        (cluster.id, cluster.provider, dim, key, t)
        for (dim, key), t in totals.items()
        if dim in _ORG_INPUT
    ]
    for key, part in org_totals(current).items():
        into.setdefault(key, Totals()).merge(part)


def _cost(found: FoundItem) -> Decimal:
    return Decimal(str(round(found.cost.monthly_usd, 4)))


def _run(
    cluster: Cluster, demo: DemoCluster, day: _Day, *, at: datetime, first: bool, objects: int
) -> dict[str, Any]:
    """A succeeded scan of that day, a few seconds long, finished at ``at``."""
    took = timedelta(seconds=2 + objects // 1500 + (at.toordinal() + len(cluster.name)) % 5)
    return {
        "id": uuid.uuid4(),
        "org_id": cluster.org_id,
        "cluster_id": cluster.id,
        "trigger": (ScanTrigger.discovery if first else ScanTrigger.schedule).value,
        "status": ScanStatus.succeeded.value,
        "attempts": 1,
        "started_at": at - took,
        "heartbeat_at": at,
        "finished_at": at,
        "objects_scanned": objects + day.count,
        "api_requests": len(demo.snapshot.listed),
        **day.run_totals(),
        "warnings": [],
        "error": None,
        "created_at": at - took - timedelta(seconds=1),
        "updated_at": at,
    }


def _finding(
    found: FoundItem, cluster: Cluster, run_id: uuid.UUID, *, first_seen_at: datetime, now: datetime
) -> dict[str, Any]:
    """The row ``app.scans.service`` publishes for ``found``, not ignored."""
    row = finding_row(
        found,
        org_id=cluster.org_id,
        cluster_id=cluster.id,
        run_id=run_id,
        first_seen_at=first_seen_at,
        last_seen_at=now,
    )
    return {**row, "ignore_rule_id": None, "ignored_until": None}


def _resolved(span: Span, cluster: Cluster, now: datetime) -> dict[str, Any]:
    found = span.finding
    return {
        "id": uuid.uuid4(),
        "org_id": cluster.org_id,
        "cluster_id": cluster.id,
        "kind": found.kind[:100],
        "namespace": found.namespace,
        "name": found.name[:253],
        "rule": found.rule[:64],
        "monthly_cost_usd": _cost(found),
        "first_seen_at": span.first_seen_at(now),
        "resolved_at": span.resolved_at(now),
    }


# --- bulk writes --------------------------------------------------------------------------------


class Bulk:
    """Rows buffered per table and written in batches of ``batch``, parents first (every row
    of a table has the same keys).

    SQLite: an executemany INSERT on the session. PostgreSQL: ``COPY … FROM STDIN`` on the
    session's connection — inside its transaction — from a writer thread, so the server
    stores one batch while this thread generates the next (psycopg connections are
    thread-safe; the ORM statements of the seeder take turns with the COPYs)."""

    def __init__(self, session: Session, *, batch: int = BATCH) -> None:
        self.session = session
        self.batch = batch
        order = (ScanRun, Finding, ResolvedFinding, ClusterDailyWaste, OrgDailyWaste)
        self.tables = [cast(Table, model.__table__) for model in order]
        self.pending: dict[str, list[dict[str, Any]]] = {t.name: [] for t in self.tables}
        self.written: dict[str, int] = {}
        self._queue: _Jobs | None = None
        self._failed: list[BaseException] = []
        if session.get_bind().dialect.name == "postgresql":
            self._raw: Any = session.connection().connection.driver_connection
            self._queue = queue.Queue(maxsize=4)
            self._thread = threading.Thread(
                target=self._copier, args=(self._queue,), name="demo-copy", daemon=True
            )
            self._thread.start()

    def add(self, model: type[Any], rows: Iterable[dict[str, Any]]) -> None:
        pending = self.pending[model.__tablename__]
        for row in rows:
            pending.append(row)
            if len(pending) >= self.batch:
                self._send()

    def _send(self) -> None:
        for table in self.tables:
            rows = self.pending[table.name]
            if not rows:
                continue
            self.written[table.name] = self.written.get(table.name, 0) + len(rows)
            self.pending[table.name] = []
            if self._queue is None:
                self.session.execute(insert(table), rows)
            else:
                self._check()
                self._queue.put((table, rows))

    def flush(self) -> None:
        """Write everything buffered; on PostgreSQL, wait until the writer has stored it."""
        self._send()
        if self._queue is not None:
            self._queue.join()
            self._check()

    def close(self, *, abort: bool = False) -> None:
        """Stop the writer thread: after ``flush``, or (``abort``) dropping what is queued."""
        if abort:
            self._failed.append(SeedingStopped())
        if self._queue is not None:
            self._queue.put(None)
            self._thread.join()
            self._queue = None

    def _check(self) -> None:
        if self._failed:
            raise self._failed[0]

    def _copier(self, jobs: _Jobs) -> None:
        while True:
            job = jobs.get()
            try:
                if job is None:
                    return
                if not self._failed:
                    self._copy(*job)
            except BaseException as exc:  # reported to the seeding thread
                self._failed.append(exc)
            finally:
                jobs.task_done()

    def _copy(self, table: Table, rows: list[dict[str, Any]]) -> None:
        columns = list(rows[0])
        values = itemgetter(*columns)
        as_json = [i for i, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        names = ", ".join(f'"{name}"' for name in columns)
        with (
            self._raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as out,
        ):
            for row in rows:
                line = list(values(row))
                for i in as_json:
                    line[i] = json.dumps(line[i])
                out.write_row(line)
