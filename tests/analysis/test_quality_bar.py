"""The quality bar: brand-new managed clusters and healthy installs of well-known applications
produce no finding of medium or high confidence.

Clusters come from ``tests.clusters`` (a faithful simulation of EKS, GKE and AKS plus the
reference manifests applied verbatim); a failure lists every offending finding.
"""

from __future__ import annotations

import pytest

from app.analysis import analyze
from app.analysis.model import Confidence, Finding, Options
from app.pricing.book import load_default_price_book
from tests.clusters.apps import APPS
from tests.clusters.builds import NOW, healthy
from tests.clusters.platforms import PLATFORMS

INSTALLS = [None, *sorted(APPS), "all"]


def describe(f: Finding) -> str:
    where = f"{f.namespace}/{f.name}" if f.namespace else f.name
    cascade = f" (cascade from {', '.join(map(str, f.cascade_from))})" if f.cascade_from else ""
    return f"{f.kind} {where} [{f.rule}, {f.confidence.label}] {f.reason}{cascade}"


def loud(findings: tuple[Finding, ...] | list[Finding]) -> list[Finding]:
    return [f for f in findings if f.confidence >= Confidence.MEDIUM]


@pytest.mark.parametrize("install", INSTALLS, ids=lambda i: i or "nothing")
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_healthy_cluster_has_no_medium_or_high_finding(platform: str, install: str | None) -> None:
    cluster = healthy(platform, install)
    result = analyze(
        cluster.snapshot(), prices=load_default_price_book(), options=Options(), now=NOW
    )
    offending = loud(result.findings)
    assert not offending, (
        f"{len(offending)} medium/high finding(s) on a healthy {platform} cluster"
        f" with {install or 'nothing'} installed:\n" + "\n".join(map(describe, offending))
    )
