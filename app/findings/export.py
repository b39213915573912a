"""CSV and JSON exports of the explorer's view: the same filters, every matching finding.

Rows are read in keyset batches and written as they come, so an export of 100,000 findings
holds one batch in memory. Exports stop at ``EXPORT_CAP`` rows; the response says whether it
stopped (a header, and a field in the JSON). Names come from customer clusters, so a CSV cell
that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return)
gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.findings import explore
from app.findings.filters import ClusterInfo, Filters
from app.findings.ignores import is_ignored
from app.findings.models import IgnoreRule
from app.scans.models import Finding

EXPORT_CAP = 100_000
BATCH = 1000
FIELDS = (
    "cluster",
    "provider",
    "region",
    "namespace",
    "kind",
    "name",
    "rule",
    "confidence",
    "reason",
    "monthly_cost_usd",
    "cost_basis",
    "cost_assumed",
    "age_days",
    "owner",
    "first_seen_at",
    "last_seen_at",
    "ignored",
    "ignore_reason",
    "evidence",
    "cascade_from",
)
COST_NOTE = "monthly_cost_usd is an estimate at list price"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_CENTS = Decimal("0.01")


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(_FORMULA) else value


def filename(org_name: str, now: datetime, extension: str) -> str:
    """``leftover-findings-acme-2026-11-27.csv``: ASCII only, safe in a header."""
    slug = re.sub(r"[^a-z0-9]+", "-", org_name.lower()).strip("-")[:40].strip("-") or "organisation"
    return f"leftover-findings-{slug}-{now:%Y-%m-%d}.{extension}"


def _ref_text(doc: Any) -> str:
    if not isinstance(doc, dict):
        return ""
    kind, namespace, name = doc.get("kind", ""), doc.get("namespace"), doc.get("name", "")
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def record(
    finding: Finding,
    cluster: ClusterInfo,
    reasons: dict[uuid.UUID, str],
    *,
    now: datetime,
) -> dict[str, Any]:
    """One finding as an export row (plain JSON values)."""
    ignored = is_ignored(finding, now)
    return {
        "cluster": cluster.name,
        "provider": cluster.provider,
        "region": cluster.region,
        "namespace": finding.namespace,
        "kind": finding.kind,
        "name": finding.name,
        "rule": finding.rule,
        "confidence": finding.confidence,
        "reason": finding.reason,
        "monthly_cost_usd": format(finding.monthly_cost_usd.quantize(_CENTS), "f"),
        "cost_basis": finding.cost_basis,
        "cost_assumed": finding.cost_assumed,
        "age_days": finding.age_days,
        "owner": finding.owner,
        "first_seen_at": finding.first_seen_at.isoformat(),
        "last_seen_at": finding.last_seen_at.isoformat(),
        "ignored": ignored,
        "ignore_reason": reasons.get(finding.ignore_rule_id)
        if ignored and finding.ignore_rule_id
        else None,
        "evidence": list(finding.evidence or []),
        "cascade_from": [_ref_text(d) for d in finding.cascade_from or []],
    }


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    return str(value)


def truncated(session: Session, where: Sequence[ColumnElement[bool]], *, cap: int) -> bool:
    """More than ``cap`` findings match (counted no further than cap + 1)."""
    capped = select(Finding.id).where(*where).limit(cap + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(capped)) or 0) > cap


def _records(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    filters: Filters,
    clusters: dict[uuid.UUID, ClusterInfo],
    *,
    now: datetime,
    cap: int,
) -> Iterator[dict[str, Any]]:
    for batch in explore.batches(session, where, filters, size=BATCH, cap=cap):
        rule_ids = {f.ignore_rule_id for f in batch if f.ignore_rule_id is not None}
        reasons: dict[uuid.UUID, str] = {}
        if rule_ids:
            stmt = select(IgnoreRule.id, IgnoreRule.reason).where(IgnoreRule.id.in_(rule_ids))
            reasons = {rid: reason for rid, reason in session.execute(stmt)}
        for finding in batch:
            yield record(finding, clusters[finding.cluster_id], reasons, now=now)


def csv_lines(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    filters: Filters,
    clusters: dict[uuid.UUID, ClusterInfo],
    *,
    now: datetime,
    cap: int = EXPORT_CAP,
) -> Iterator[str]:
    """The CSV export, a header line then one line per finding."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    records = _records(session, where, filters, clusters, now=now, cap=cap)
    for rows, doc in enumerate(records, start=1):
        writer.writerow([safe_cell(_csv_value(doc[k])) for k in FIELDS])
        if rows % 200 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def json_chunks(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    filters: Filters,
    clusters: dict[uuid.UUID, ClusterInfo],
    *,
    organisation: str,
    now: datetime,
    cap: int = EXPORT_CAP,
    is_truncated: bool,
) -> Iterator[str]:
    """The JSON export: the organisation, the filters, the findings, and whether it stopped."""
    head = {
        "organisation": organisation,
        "generated_at": now.isoformat(),
        "filters": filters.echo(),
        "cost_note": COST_NOTE,
    }
    yield json.dumps(head, indent=None)[:-1] + ', "findings": ['
    rows = 0
    for doc in _records(session, where, filters, clusters, now=now, cap=cap):
        yield ("," if rows else "") + "\n" + json.dumps(doc)
        rows += 1
    tail = {"count": rows, "truncated": is_truncated, "row_limit": cap}
    yield "\n], " + json.dumps(tail)[1:] + "\n"
