"""How many findings a view holds, what they cost, and the counts per facet.

Counts describe the current result: every filter applies to every facet ("all filters
applied", not the other-filters-only kind of faceting), so each facet splits the same list
the table pages through, and one pass over the result counts them all. The cost is that of
the findings that count in totals (low-confidence findings and abandoned namespaces, whose
cost is their contents', are listed but not added; ignored findings are added apart).

Three ways to count, the cheapest that answers first, so that a page never reads more than
``COUNT_LIMIT + 1`` findings to count them, however large the organisation:

- ``rollup``: when only clusters and at most one of kind, namespace or rule narrow the view,
  the clusters' roll-ups (``WasteCurrent``, a few rows per cluster) answer, with ignores
  applied live as the dashboard does. Roll-ups hold the findings that count in totals, so the
  counts say so; they split by cluster and by the dimension filtered (every dimension but
  confidence when nothing is). Used when they hold more than ``COUNT_LIMIT`` findings.
- ``exact``: otherwise one GROUP BY over the matching findings, read with
  ``LIMIT COUNT_LIMIT + 1``: at most that many, every finding listed is counted.
- ``over``: more than ``COUNT_LIMIT`` match and the roll-ups cannot say how many: the page
  says how to narrow the view and counts nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, cast, func, literal, select, union_all
from sqlalchemy.orm import Session

from app.analysis.engine import NAMESPACE_RULE
from app.findings.filters import CLUSTER_SCOPED, Filters
from app.findings.ignores import ignored_now
from app.history.models import WasteCurrent
from app.history.rollups import KIND, NAMESPACE, RULE, TOTAL
from app.scans.models import Finding

COUNT_LIMIT = 1000
FACETS = ("cluster", "namespace", "kind", "rule", "confidence")
EXACT, ROLLUP, OVER = "exact", "rollup", "over"
_DIMENSIONS = {"kind": KIND, "namespace": NAMESPACE, "rule": RULE}


@dataclass
class Counts:
    """The figures above the table. ``findings`` is None when the result was not counted."""

    mode: str
    findings: int | None = None
    cost: Decimal = Decimal(0)  # findings that count in totals and are not ignored
    ignored: int = 0  # ignored findings listed (ignored=include or only)
    ignored_cost: Decimal = Decimal(0)  # what those would add to the totals
    review: int = 0  # listed, not in totals: low confidence, abandoned namespaces
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    def facet(self, name: str) -> dict[str, int] | None:
        """Counts per value of one facet; None when this way of counting cannot split by it."""
        return self.facets.get(name)

    def add(self, facet: str, value: str, n: int) -> None:
        values = self.facets[facet]
        values[value] = values.get(value, 0) + n


def count(
    session: Session,
    org_id: uuid.UUID,
    where: Sequence[ColumnElement[bool]],
    filters: Filters,
    *,
    gone: Sequence[uuid.UUID],
    now: datetime,
) -> Counts:
    """The view's counts: the roll-ups for a large view they describe, else exact, else none."""
    figures = None
    dimension = _rolled_up(filters)
    if dimension is not None:
        figures = _rollup(session, org_id, filters, dimension, gone=gone, now=now)
        if (figures.findings or 0) > COUNT_LIMIT:
            return figures  # exact counting would stop at the limit anyway
    return _exact(session, where, now=now) or figures or Counts(OVER)


def _rolled_up(filters: Filters) -> tuple[str, tuple[str, ...]] | None:
    """("", ()) for a view the roll-ups describe whole, (facet, keys) for one narrowed by
    that roll-up dimension, None when the roll-ups cannot answer."""
    if filters.ignored == "only" or filters.confidences or filters.q:
        return None
    if filters.min_cost is not None or filters.min_age is not None or filters.since is not None:
        return None
    namespace = () if filters.namespace is None else (filters.namespace,)
    chosen = [
        (facet, tuple("" if v == CLUSTER_SCOPED else v for v in values))
        for facet, values in (
            ("kind", filters.kinds),
            ("namespace", namespace),
            ("rule", filters.rules),
        )
        if values
    ]
    if len(chosen) > 1:
        return None
    return chosen[0] if chosen else ("", ())


def _scope(column: Any, filters: Filters, gone: Sequence[uuid.UUID]) -> list[ColumnElement[bool]]:
    if filters.clusters:
        return [column.in_(filters.clusters)]
    return [column.not_in(list(gone))] if gone else []


def _exact(
    session: Session, where: Sequence[ColumnElement[bool]], *, now: datetime
) -> Counts | None:
    """Everything counted in one pass over at most COUNT_LIMIT + 1 findings; None if more.

    The matching findings are read once (a CTE that every part of the UNION reads); each
    facet is grouped in SQL, so a few dozen rows come back however varied the findings."""
    matching = (
        select(
            Finding.cluster_id,
            Finding.namespace,
            Finding.kind,
            Finding.rule,
            Finding.confidence,
            Finding.counts_in_total,
            ignored_now(now).label("ignored"),
            Finding.monthly_cost_usd,
        )
        .where(*where)
        .limit(COUNT_LIMIT + 1)
        .cte("matching")
    )
    m = matching.c
    state = case(
        (and_(m.counts_in_total, m.ignored), "counted-ignored"),
        (m.counts_in_total, "counted"),
        (m.ignored, "review-ignored"),
        else_="review",
    )
    values: dict[str, Any] = {
        "cluster": cast(m.cluster_id, String),
        "namespace": m.namespace,
        "kind": m.kind,
        "rule": m.rule,
        "confidence": m.confidence,
        "state": state,
    }
    parts = [
        select(
            literal(name).label("facet"),
            value.label("value"),
            func.count().label("n"),
            func.coalesce(func.sum(m.monthly_cost_usd), 0).label("cost"),
        ).group_by(value)
        for name, value in values.items()
    ]
    rows: list[Any] = list(session.execute(union_all(*parts)))
    states = {value: (int(n), Decimal(cost)) for facet, value, n, cost in rows if facet == "state"}
    total = sum(n for n, _ in states.values())
    if total > COUNT_LIMIT:
        return None
    out = Counts(EXACT, findings=total, facets={name: {} for name in FACETS})
    out.cost = states.get("counted", (0, Decimal(0)))[1]
    out.ignored_cost = states.get("counted-ignored", (0, Decimal(0)))[1]
    out.ignored = sum(states.get(k, (0, 0))[0] for k in ("counted-ignored", "review-ignored"))
    out.review = sum(states.get(k, (0, 0))[0] for k in ("review", "review-ignored"))
    for facet, value, n, _cost in rows:
        if facet == "cluster":
            out.add(facet, str(uuid.UUID(value)), int(n))
        elif facet == "namespace":
            out.add(facet, value or CLUSTER_SCOPED, int(n))
        elif facet != "state":
            out.add(facet, value, int(n))
    return out


def _rollup(
    session: Session,
    org_id: uuid.UUID,
    filters: Filters,
    dimension: tuple[str, tuple[str, ...]],
    *,
    gone: Sequence[uuid.UUID],
    now: datetime,
) -> Counts:
    """Counted findings from the roll-ups, ignores applied live."""
    facet, keys = dimension
    scope = [WasteCurrent.org_id == org_id, *_scope(WasteCurrent.cluster_id, filters, gone)]
    shown = ("cluster", facet) if facet else FACETS[:4]
    out = Counts(ROLLUP, findings=0, facets={name: {} for name in shown})
    rows = select(
        WasteCurrent.cluster_id, WasteCurrent.key, WasteCurrent.findings, WasteCurrent.cost
    )
    if facet:
        rows = rows.where(
            *scope, WasteCurrent.dimension == _DIMENSIONS[facet], WasteCurrent.key.in_(keys)
        )
    else:
        rows = rows.where(*scope, WasteCurrent.dimension == TOTAL)
    for cluster_id, key, n, cost in session.execute(rows):
        out.findings = (out.findings or 0) + int(n)
        out.cost += Decimal(cost)
        out.add("cluster", str(cluster_id), int(n))
        if facet:
            out.add(facet, (key or CLUSTER_SCOPED) if facet == "namespace" else key, int(n))
    if not facet:
        split = (
            select(WasteCurrent.dimension, WasteCurrent.key, func.sum(WasteCurrent.findings))
            .where(*scope, WasteCurrent.dimension.in_(tuple(_DIMENSIONS.values())))
            .group_by(WasteCurrent.dimension, WasteCurrent.key)
        )
        for dim, key, n in session.execute(split):
            name = {v: k for k, v in _DIMENSIONS.items()}[dim]
            out.add(name, (key or CLUSTER_SCOPED) if name == "namespace" else key, int(n))
    _apply_ignores(session, out, org_id, filters, gone=gone, now=now)
    return out


def _apply_ignores(
    session: Session,
    out: Counts,
    org_id: uuid.UUID,
    filters: Filters,
    *,
    gone: Sequence[uuid.UUID],
    now: datetime,
) -> None:
    """Findings ignored right now (few, and indexed) come out of the roll-up figures.

    Hidden (the default), they leave the counts; included, they stay counted and their cost
    moves from the total to the ignored part."""
    where = [
        Finding.org_id == org_id,
        Finding.counts_in_total.is_(True),
        ignored_now(now),
        *_scope(Finding.cluster_id, filters, gone),
    ]
    if filters.kinds:
        where.append(Finding.kind.in_(filters.kinds))
    if filters.rules:
        where.append(Finding.rule.in_(filters.rules))
    if filters.namespace == CLUSTER_SCOPED:
        where.append(Finding.namespace.is_(None))
    elif filters.namespace is not None:
        where.append(Finding.namespace == filters.namespace)
    columns = (Finding.cluster_id, Finding.namespace, Finding.kind, Finding.rule)
    stmt = (
        select(*columns, func.count(), func.coalesce(func.sum(Finding.monthly_cost_usd), 0))
        .where(*where)
        .group_by(*columns)
    )
    hide = filters.ignored == "hide"
    for cluster_id, namespace, kind, rule, n, cost in session.execute(stmt):
        n, cost = int(n), Decimal(cost)
        out.cost -= cost
        if not hide:
            out.ignored += n
            out.ignored_cost += cost
            continue
        out.findings = (out.findings or 0) - n
        values = (str(cluster_id), namespace or CLUSTER_SCOPED, kind, rule)
        for name, value in zip(FACETS[:4], values, strict=True):
            if name in out.facets:
                out.add(name, value, -n)


def rule_options(session: Session, org_id: uuid.UUID) -> list[str]:
    """The rules the organisation's findings come under, for the rule filter's choices.

    From the roll-ups (a few rows per cluster), plus the abandoned-namespace rule, whose
    findings never count in totals and so are not rolled up."""
    stmt = (
        select(WasteCurrent.key)
        .where(WasteCurrent.org_id == org_id, WasteCurrent.dimension == RULE)
        .distinct()
    )
    return sorted({*session.scalars(stmt), NAMESPACE_RULE})
