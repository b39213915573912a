"""Assemble the findings explorer page: rows, counts, facet links, sort and page links.

Links are built here, not in the template, so each one carries the whole view (filters,
sort, page size) and the template only prints them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from app.analysis.engine import NAMESPACE_RULE
from app.clouds.models import Cluster, ClusterState
from app.findings import counts as counting
from app.findings import explore
from app.findings.filters import (
    CLUSTER_SCOPED,
    CONFIDENCES,
    SORT_LABELS,
    SORTS,
    ClusterInfo,
    Filters,
    Params,
    parse,
)
from app.findings.ignores import is_ignored
from app.kube.kinds import REPORTABLE_KINDS
from app.scans.models import Finding
from app.tenancy import scoped

FACET_SHOWN = 12
FACET_TITLES = {
    "cluster": "Cluster",
    "namespace": "Namespace",
    "kind": "Kind",
    "rule": "Rule",
    "confidence": "Confidence",
}
CONFIDENCE_LABELS = {"high": "High", "medium": "Medium", "low": "Low (needs review)"}


def clusters_of(session: Session, org_id: uuid.UUID) -> dict[uuid.UUID, ClusterInfo]:
    """The organisation's clusters by id, active first, then by name."""
    # scoped() is typed for one-entity selects; these five columns are all the Cluster's.
    columns = cast(
        Select[Any],
        select(Cluster.id, Cluster.name, Cluster.provider, Cluster.region, Cluster.state),
    )
    stmt = scoped(columns, org_id)
    rows = sorted(session.execute(stmt), key=lambda r: (r[4] != ClusterState.active.value, r[1]))
    return {
        cid: ClusterInfo(cid, name, provider, region, state == ClusterState.gone.value)
        for cid, name, provider, region, state in rows
    }


@dataclass(frozen=True)
class Row:
    finding: Finding
    cluster: ClusterInfo
    ignored: bool  # ignored right now (listed under ignored=include or only)


@dataclass(frozen=True)
class FacetItem:
    value: str
    label: str
    count: int | None
    selected: bool
    href: str


@dataclass(frozen=True)
class Facet:
    name: str
    title: str
    items: list[FacetItem]
    hidden: int  # values with findings not shown (beyond FACET_SHOWN)
    counted: bool  # False: this way of counting cannot split by this facet


@dataclass(frozen=True)
class SortLink:
    key: str
    label: str
    href: str
    current: bool
    direction: str  # the current direction when current


@dataclass(frozen=True)
class Explorer:
    """Everything the explorer template shows."""

    filters: Filters
    notices: list[str]
    rows: list[Row]
    counts: counting.Counts
    facets: list[Facet]
    sorts: list[SortLink]
    next_href: str | None
    previous_href: str | None
    first_href: str | None
    csv_href: str
    json_href: str
    clusters: list[ClusterInfo]
    kinds: list[str]
    rules: list[str]
    confidences: tuple[str, ...]
    namespaces: list[str]
    paged: bool  # this is not the first page
    count_limit: int = counting.COUNT_LIMIT


def label(facet: str, value: str, clusters: dict[uuid.UUID, ClusterInfo]) -> str:
    """How a facet value reads on the page."""
    if facet == "cluster":
        info = clusters.get(uuid.UUID(value))
        if info is None:
            return value
        return info.name + (" (gone)" if info.gone else "")
    if facet == "namespace":
        return "cluster-scoped" if value == CLUSTER_SCOPED else value
    if facet == "confidence":
        return CONFIDENCE_LABELS.get(value, value)
    return value


def _selected(filters: Filters, facet: str) -> list[str]:
    if facet == "cluster":
        return [str(c) for c in filters.clusters]
    if facet == "namespace":
        return [] if filters.namespace is None else [filters.namespace]
    return list({"kind": filters.kinds, "rule": filters.rules}.get(facet, filters.confidences))


def _facet(
    name: str,
    counts: counting.Counts,
    filters: Filters,
    clusters: dict[uuid.UUID, ClusterInfo],
) -> Facet:
    found = counts.facet(name)
    chosen = _selected(filters, name)
    values = {v: n for v, n in (found or {}).items() if n > 0}
    if found is None and name == "confidence":
        values = dict.fromkeys(CONFIDENCES, 0)
    ranked = sorted(values, key=lambda v: (-values[v], label(name, v, clusters)))
    shown = [v for v in chosen if v not in ranked[:FACET_SHOWN]] + ranked[:FACET_SHOWN]
    items = [
        FacetItem(
            value=v,
            label=label(name, v, clusters),
            count=values.get(v, 0) if found is not None else None,
            selected=v in chosen,
            href=filters.toggled(name, v).url(),
        )
        for v in shown
    ]
    hidden = max(0, len(ranked) - FACET_SHOWN)
    return Facet(name, FACET_TITLES[name], items, hidden, found is not None)


def _sorts(filters: Filters) -> list[SortLink]:
    return [
        SortLink(
            key,
            SORT_LABELS[key],
            filters.sorted_by(key).url(),
            key == filters.sort,
            filters.direction,
        )
        for key in SORTS
    ]


def build(
    session: Session,
    org_id: uuid.UUID,
    params: Params,
    *,
    now: datetime,
) -> Explorer:
    """The explorer for the query string ``params``."""
    clusters = clusters_of(session, org_id)
    parsed = parse(params, clusters=clusters, now=now)
    filters, notices = parsed.filters, parsed.notices
    cursor = None
    if parsed.cursor is not None:
        try:
            cursor = explore.decode(parsed.cursor, filters)
        except explore.BadCursor as bad:
            notices.append(str(bad))
    gone = [c.id for c in clusters.values() if c.gone]
    where = explore.conditions(org_id, filters, gone=gone, now=now)
    result = explore.page(session, where, filters, cursor)
    counts = counting.count(session, org_id, where, filters, gone=gone, now=now)
    facets = [_facet(name, counts, filters, clusters) for name in counting.FACETS]
    present_kinds = set(counts.facet("kind") or {})
    if counts.mode == counting.ROLLUP and not filters.narrowing:  # they named every rule
        rules = {*(counts.facet("rule") or {}), NAMESPACE_RULE}
    else:
        rules = set(counting.rule_options(session, org_id))
    namespaces = counts.facet("namespace") or {}
    return Explorer(
        filters=filters,
        notices=notices,
        rows=[Row(f, clusters[f.cluster_id], is_ignored(f, now)) for f in result.rows],
        counts=counts,
        facets=facets,
        sorts=_sorts(filters),
        next_href=filters.url(cursor=result.next.encode()) if result.next else None,
        previous_href=filters.url(cursor=result.previous.encode()) if result.previous else None,
        first_href=filters.url() if cursor is not None else None,
        csv_href=filters.url("/findings.csv", limit=False),
        json_href=filters.url("/findings.json", limit=False),
        clusters=list(clusters.values()),
        kinds=sorted({*REPORTABLE_KINDS, *present_kinds, *filters.kinds}),
        rules=sorted({*rules, *filters.rules}),
        confidences=CONFIDENCES,
        namespaces=sorted(n for n in namespaces if n != CLUSTER_SCOPED),
        paged=cursor is not None,
    )


def context(explorer: Explorer) -> dict[str, Any]:
    return {"nav": "findings", "x": explorer, "f": explorer.filters}
