"""Every waste pattern of RULES.md is caught, with the right confidence and cascade, on a
cluster that also runs every healthy application, and nothing else is reported loudly."""

from __future__ import annotations

from functools import cache

import pytest

from app.analysis import analyze
from app.analysis.model import AnalysisResult, Confidence, Finding, Options
from app.kube.snapshot_file import load_snapshot
from app.pricing.book import load_default_price_book
from tests.analysis.test_quality_bar import describe, loud
from tests.clusters.builds import NOW, wasteful
from tests.clusters.platforms import PLATFORMS
from tests.clusters.waste import Expected

PLATFORM_NAMES = sorted(PLATFORMS)


@cache
def _result(platform: str) -> AnalysisResult:
    cluster, _ = wasteful(platform)
    return analyze(cluster.snapshot(), prices=load_default_price_book(), options=Options(), now=NOW)


def _ref(f: Finding) -> tuple[str, str | None, str]:
    return (f.kind, f.namespace, f.name)


def _check(e: Expected, findings: list[Finding]) -> str | None:
    """Why ``findings`` (all findings on e's object) do not satisfy ``e``; None when they do."""
    where = f"{e.kind} {e.namespace}/{e.name}" if e.namespace else f"{e.kind} {e.name}"
    matching = [f for f in findings if f.rule in e.rule.split("|")]
    if not matching:
        got = "; ".join(describe(f) for f in findings) or "nothing"
        return f"{where}: expected rule {e.rule}, got {got}"
    f = matching[0]
    if e.low and f.confidence != Confidence.LOW:
        return f"{where}: expected LOW confidence (known indirect user), got {describe(f)}"
    if not e.low and f.confidence < Confidence.MEDIUM:
        return f"{where}: expected medium or high confidence, got {describe(f)}"
    cascade = {(r.kind, r.namespace, r.name) for r in f.cascade_from}
    if e.cascade is True and not set(e.cascade_from) <= cascade:
        return f"{where}: expected cascade_from ⊇ {list(e.cascade_from)}, got {describe(f)}"
    if e.cascade is False and cascade:
        return f"{where}: expected no cascade_from, got {describe(f)}"
    if e.costly and not f.monthly_cost_usd > 0:
        return f"{where}: expected a monthly cost, got {f.monthly_cost_usd} ({f.cost.basis!r})"
    return None


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_every_waste_pattern_is_caught(platform: str) -> None:
    _, waste = wasteful(platform)
    findings = _result(platform).findings
    by_ref: dict[tuple[str, str | None, str], list[Finding]] = {}
    for f in findings:
        by_ref.setdefault(_ref(f), []).append(f)
    problems = [p for e in waste.expected if (p := _check(e, by_ref.get(e.ref, [])))]
    assert not problems, (
        f"{len(problems)} waste pattern(s) not caught on {platform}:\n" + "\n".join(problems)
    )


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_ignored_and_control_objects_are_never_reported(platform: str) -> None:
    _, waste = wasteful(platform)
    never = set(waste.absent)
    reported = [f for f in _result(platform).findings if _ref(f) in never]
    assert not reported, "reported although it must not be:\n" + "\n".join(map(describe, reported))


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_no_other_medium_or_high_finding(platform: str) -> None:
    _, waste = wasteful(platform)
    expected = {e.ref for e in waste.expected}
    extra = [f for f in loud(_result(platform).findings) if _ref(f) not in expected]
    assert not extra, (
        f"{len(extra)} unexpected medium/high finding(s) on {platform}:\n"
        + "\n".join(map(describe, extra))
    )


def _essence(result: AnalysisResult) -> set[tuple[object, ...]]:
    return {
        (
            f.kind,
            f.namespace,
            f.name,
            f.rule,
            f.confidence,
            tuple(sorted(map(str, f.cascade_from))),
            round(f.monthly_cost_usd, 2),
        )
        for f in result.findings
    }


@pytest.mark.parametrize("platform", PLATFORM_NAMES)
def test_kubectl_dump_gives_the_same_findings(platform: str) -> None:
    cluster, _ = wasteful(platform)
    from_file = analyze(
        load_snapshot(cluster.to_list_json(), source=f"{platform}.json"),
        prices=load_default_price_book(),
        options=Options(),
        now=NOW,
    )
    assert _essence(from_file) == _essence(_result(platform))
