"""Turn an AnalysisResult into what people read: a terminal table, JSON or YAML.

Pure functions of the result (no I/O, no clock, no terminal queries): the CLI passes the width
and whether to colour; the web app reuses ``result_document`` for exports. Names, reasons and
warnings come from the cluster and are attacker-controlled, so the table strips control
characters before they reach a terminal.
"""

from __future__ import annotations

import json
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import yaml

from app.analysis import counts_in_total
from app.analysis.model import AnalysisResult, Confidence, Finding
from app.kube.snapshot import ClusterInfo, Snapshot

CLUSTER_HEADING = "(cluster)"
ELLIPSIS = "…"
NO_COST = "—"
_GAP = "  "
_INDENT = "  "
_MIN_REASON = 12
_MIN_NAME = 12

_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_RESET = "\x1b[0m"
_CONFIDENCE_COLOUR = {Confidence.HIGH: "\x1b[31m", Confidence.MEDIUM: "\x1b[33m"}


def report_warnings(result: AnalysisResult, snapshot: Snapshot) -> list[str]:
    """The snapshot's and the analysis's warnings plus rules not evaluated, each once, in order."""
    lines = [*snapshot.warnings, *result.warnings]
    lines += [f"rule {rule} not evaluated: {why}" for rule, why in result.not_evaluated.items()]
    return list(dict.fromkeys(lines))


def cluster_document(result: AnalysisResult, cluster: ClusterInfo) -> dict[str, str | None]:
    """The cluster as the report names it, with the provider and region the analysis settled on."""
    doc = cluster.as_dict()
    doc["provider"] = result.provider or cluster.provider
    doc["region"] = result.region or cluster.region
    return doc


def result_document(result: AnalysisResult, snapshot: Snapshot) -> dict[str, object]:
    """The one document JSON and YAML output spell: cluster, summary, findings, warnings."""
    return {
        "cluster": cluster_document(result, snapshot.cluster),
        "summary": result.summary.as_dict(),
        "findings": [f.as_dict() for f in result.findings],
        "warnings": report_warnings(result, snapshot),
    }


def render_json(result: AnalysisResult, snapshot: Snapshot) -> str:
    """The report as one JSON object (indented, UTF-8 kept readable), newline-terminated."""
    return json.dumps(result_document(result, snapshot), indent=2, ensure_ascii=False) + "\n"


def render_yaml(result: AnalysisResult, snapshot: Snapshot) -> str:
    """The same document as ``render_json``, in YAML with the keys in report order."""
    return yaml.safe_dump(
        result_document(result, snapshot), sort_keys=False, allow_unicode=True, width=120
    )


@dataclass(frozen=True, slots=True)
class _Row:
    kind: str
    name: str
    reason: str
    confidence: Confidence
    cost: str


@dataclass(frozen=True, slots=True)
class _Widths:
    kind: int
    name: int
    reason: int
    confidence: int
    cost: int


def render_table(
    result: AnalysisResult,
    cluster: ClusterInfo,
    *,
    width: int,
    color: bool,
    warnings: Iterable[str] | None = None,
) -> str:
    """Findings grouped by namespace (cluster-scoped first), a total line, then the warnings.

    ``warnings`` defaults to the analysis's own; the CLI passes ``report_warnings`` so the
    snapshot's are included too.
    """
    out: list[str] = [_header(result, cluster)]
    groups = _groups(result.findings)
    if groups:
        rows = [row for _, group in groups for row in group]
        widths = _fit(rows, width)
        out.append("")
        out.append(
            _style(_line(("KIND", "NAME", "REASON", "CONFIDENCE", "MONTHLY"), widths), _DIM, color)
        )
        for heading, group in groups:
            out.append(_style(heading, _BOLD, color))
            out.extend(_row_line(row, widths, color) for row in group)
    out.append("")
    out.extend(textwrap.wrap(_total_line(result), width=max(width, 40)))
    notes = []
    if any(f.cost.monthly_usd >= 0.005 and not counts_in_total(f) for f in result.findings):
        notes.append("(…) costs are not in the total")
    if any(f.cost.assumed and f.cost.monthly_usd >= 0.005 for f in result.findings):
        notes.append("~ marks a price assumed where no list price is known")
    if notes:
        out.append("; ".join(notes).capitalize() + ".")
    if warnings is None:
        warnings = report_warnings(result, Snapshot())
    for warning in warnings:
        wrapped = textwrap.wrap(
            f"warning: {_clean(warning)}", width=max(width, 40), subsequent_indent="         "
        )
        out.extend(_style(line, _DIM, color) for line in wrapped)
    return "\n".join(out) + "\n"


def _header(result: AnalysisResult, cluster: ClusterInfo) -> str:
    doc = cluster_document(result, cluster)
    name = doc["name"] or doc["server"]
    parts = [f"Cluster {_clean(name)}" if name else "Snapshot"]
    if name and doc["server"] and doc["server"] != name:
        parts[0] += f" ({_clean(doc['server'])})"
    where = " ".join(_clean(v) for v in (doc["provider"], doc["region"]) if v)
    if where:
        parts.append(where)
    if doc["version"]:
        parts.append(f"Kubernetes {_clean(doc['version'])}")
    parts.append(f"{result.summary.objects_scanned:,} objects scanned")
    return " · ".join(parts)


def _groups(findings: Iterable[Finding]) -> list[tuple[str, list[_Row]]]:
    by_namespace: dict[str | None, list[Finding]] = {}
    for finding in findings:
        by_namespace.setdefault(finding.namespace, []).append(finding)
    order = sorted(by_namespace, key=lambda ns: (ns is not None, ns or ""))
    return [
        (
            CLUSTER_HEADING if ns is None else _clean(ns),
            [_row(f) for f in sorted(by_namespace[ns], key=lambda f: (f.kind, f.name, f.rule))],
        )
        for ns in order
    ]


def _row(finding: Finding) -> _Row:
    return _Row(
        kind=finding.kind,
        name=_clean(finding.name),
        reason=_clean(finding.reason),
        confidence=finding.confidence,
        cost=_cost_cell(finding),
    )


def _cost_cell(finding: Finding) -> str:
    """The finding's cost; in parentheses when the total leaves it out (review, namespace sum)."""
    cell = money(finding.cost.monthly_usd, assumed=finding.cost.assumed)
    return cell if cell == NO_COST or counts_in_total(finding) else f"({cell})"


def money(amount: float, *, assumed: bool = False) -> str:
    """``$8.00`` (``~$8.00`` when the price is assumed); an em dash when there is no cost."""
    if round(amount, 2) == 0:
        return NO_COST
    return f"{'~' if assumed else ''}${amount:,.2f}"


def _fit(rows: list[_Row], width: int) -> _Widths:
    """Column widths: kind and cost in full, then the name, and the reason takes what is left."""
    kind = max(len("KIND"), *(len(r.kind) for r in rows))
    name = max(len("NAME"), *(len(r.name) for r in rows))
    confidence = len("CONFIDENCE")
    cost = max(len("MONTHLY"), *(len(r.cost) for r in rows))
    reason_full = max(len("REASON"), *(len(r.reason) for r in rows))
    fixed = len(_INDENT) + kind + confidence + cost + 4 * len(_GAP)
    reason = min(reason_full, width - fixed - name)
    if reason < min(_MIN_REASON, reason_full):
        # Too narrow: the reason keeps its minimum and the name gives up what it must.
        reason = min(_MIN_REASON, reason_full)
        name = max(min(name, _MIN_NAME), width - fixed - reason)
        reason = max(reason, min(reason_full, width - fixed - name))
    return _Widths(kind=kind, name=name, reason=reason, confidence=confidence, cost=cost)


def _line(cells: tuple[str, str, str, str, str], w: _Widths, *, style: str = "") -> str:
    """One aligned row; ``style`` colours the confidence cell (after padding, so widths hold)."""
    kind, name, reason, confidence, cost = cells
    confidence = confidence.ljust(w.confidence)
    if style:
        confidence = f"{style}{confidence}{_RESET}"
    cols = (
        _cut(kind, w.kind).ljust(w.kind),
        _cut(name, w.name).ljust(w.name),
        _cut(reason, w.reason).ljust(w.reason),
        confidence,
        cost.rjust(w.cost),
    )
    return (_INDENT + _GAP.join(cols)).rstrip()


def _row_line(row: _Row, w: _Widths, color: bool) -> str:
    style = _CONFIDENCE_COLOUR.get(row.confidence, _DIM) if color else ""
    cells = (row.kind, row.name, row.reason, row.confidence.label, row.cost)
    return _line(cells, w, style=style)


def _total_line(result: AnalysisResult) -> str:
    low = sum(1 for f in result.findings if f.confidence is Confidence.LOW)
    if not result.findings:
        return f"No findings among {result.summary.objects_scanned:,} objects scanned."
    cost = f"${result.summary.monthly_cost_usd:,.2f}"
    line = f"{_plural(len(result.findings), 'finding')}, {cost}/month estimated (list prices)"
    if low:
        verb = "needs" if low == 1 else "need"
        line += f"; {_plural(low, 'low-confidence finding')} {verb} review (not in the total)"
    return line


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + ELLIPSIS


def _clean(text: str) -> str:
    """Printable text only: control characters (escape sequences, newlines) become spaces."""
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)


def _style(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color else text
