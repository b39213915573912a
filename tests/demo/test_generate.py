"""The demo generator: realistic, deterministic clusters whose findings come from the engine,
sized on demand, and a deterministic history for them."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from app.analysis import AnalysisResult, Options, analyze, counts_in_total
from app.analysis.costs import detect_provider
from app.demo import DemoCluster, demo_cluster, demo_fleet, scale_for_findings, timeline
from app.demo.generate import FINDINGS_BASE, FINDINGS_PER_SCALE
from app.pricing.book import load_default_price_book

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
BOOK = load_default_price_book()

# Every rule the engine has; the demo fleet shows each of them.
EVERY_RULE = {
    "binding-role-missing",
    "binding-subjects-missing",
    "configmap-unused",
    "crd-no-instances",
    "cronjob-suspended",
    "daemonset-unscheduled",
    "hpa-target-idle",
    "hpa-target-missing",
    "ingress-no-backend",
    "job-finished",
    "labelled-unused",
    "namespace-abandoned",
    "networkpolicy-matches-nothing",
    "owner-missing",
    "pdb-matches-nothing",
    "pod-completed",
    "pod-crashloop",
    "pod-failed",
    "priorityclass-unused",
    "pv-unbound",
    "pvc-pending",
    "pvc-unused",
    "replicaset-orphaned",
    "role-unbound",
    "secret-sa-token-orphaned",
    "secret-unused",
    "service-no-endpoints",
    "serviceaccount-unused",
    "storageclass-unused",
    "stuck-deletion",
    "volumeattachment-dangling",
    "workload-scaled-to-zero",
}
# Each single cluster shows at least these.
EACH_CLUSTER_RULES = {
    "configmap-unused",
    "secret-unused",
    "workload-scaled-to-zero",
    "service-no-endpoints",
    "serviceaccount-unused",
    "pvc-unused",
    "pv-unbound",
    "job-finished",
    "namespace-abandoned",
    "storageclass-unused",
    "priorityclass-unused",
    "crd-no-instances",
    "volumeattachment-dangling",
    "role-unbound",
}
SYSTEM_NAMESPACES = {"kube-system", "kube-public", "kube-node-lease", "default"}
ADDON_NAMESPACES = {"ingress-nginx", "cert-manager", "monitoring", "argocd"}
REGION = {
    "aws": re.compile(r"[a-z]{2}-[a-z]+-\d"),
    "gcp": re.compile(r"[a-z]+-[a-z]+\d"),
    "azure": re.compile(r"[a-z]+\d?"),
}


def _analyze(cluster: DemoCluster) -> AnalysisResult:
    return analyze(
        cluster.snapshot,
        prices=BOOK,
        options=Options(provider=cluster.provider, region=cluster.region),
        now=NOW,
    )


@pytest.fixture(scope="module")
def fleet() -> list[tuple[DemoCluster, AnalysisResult]]:
    return [(c, _analyze(c)) for c in demo_fleet(12, seed=7, scale=1, now=NOW)]


def _encoded(cluster: DemoCluster) -> bytes:
    return msgspec.json.encode(
        {kind: items for kind, items in sorted(cluster.snapshot.objects.items())}
    )


def test_same_inputs_give_the_same_cluster() -> None:
    a = demo_cluster(4, seed=7, scale=2, now=NOW)
    b = demo_cluster(4, seed=7, scale=2, now=NOW)
    assert _encoded(a) == _encoded(b)
    assert a.snapshot.cluster == b.snapshot.cluster
    assert _encoded(demo_cluster(4, seed=8, scale=2, now=NOW)) != _encoded(a)
    assert _encoded(demo_cluster(5, seed=7, scale=2, now=NOW)) != _encoded(a)


_DIGEST_SCRIPT = """
import hashlib, msgspec
from datetime import UTC, datetime
from app.demo import demo_cluster
c = demo_cluster(1, seed=7, scale=1, now=datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
print(hashlib.sha256(msgspec.json.encode(dict(sorted(c.snapshot.objects.items())))).hexdigest())
"""


def test_other_processes_generate_the_same_cluster() -> None:
    """Nothing depends on the interpreter's hash seed: every process seeds the same demo."""
    here = hashlib.sha256(_encoded(demo_cluster(1, seed=7, scale=1, now=NOW))).hexdigest()
    root = Path(__file__).resolve().parents[2]
    for hash_seed in ("0", "4242"):
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert out.stdout.strip() == here


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="scale"):
        demo_cluster(0, seed=7, scale=0, now=NOW)
    with pytest.raises(ValueError, match="timezone"):
        demo_cluster(0, seed=7, scale=1, now=datetime(2026, 11, 27))


def test_the_fleet_spreads_over_three_clouds(
    fleet: list[tuple[DemoCluster, AnalysisResult]],
) -> None:
    assert Counter(c.provider for c, _ in fleet) == {"aws": 4, "gcp": 4, "azure": 4}
    assert len({c.name for c, _ in fleet}) == 12
    assert len({c.environment for c, _ in fleet}) >= 5
    for cluster, _ in fleet:
        # The engine recognises each cloud from the nodes alone, as it would a real cluster.
        assert detect_provider(cluster.snapshot.nodes) == (cluster.provider, cluster.region)
        assert REGION[cluster.provider].fullmatch(cluster.region)
        assert cluster.node_count == len(cluster.snapshot.nodes) >= 4
        assert cluster.snapshot.cluster.provider == cluster.provider
        prefix = {"aws": "aws://", "gcp": "gce://", "azure": "azure://"}[cluster.provider]
        pool_label = {
            "aws": "eks.amazonaws.com/nodegroup",
            "gcp": "cloud.google.com/gke-nodepool",
            "azure": "kubernetes.azure.com/agentpool",
        }[cluster.provider]
        for node in cluster.snapshot.nodes:
            labels = node.metadata.labels
            assert (node.spec.provider_id or "").startswith(prefix)
            assert labels[pool_label]
            assert labels["topology.kubernetes.io/region"] == cluster.region
            assert labels["topology.kubernetes.io/zone"].startswith(cluster.region)
            if "nvidia.com/gpu.present" not in labels:
                itype = labels["node.kubernetes.io/instance-type"]
                assert BOOK.instance(cluster.provider, itype) is not None, itype
        classes = {sc.metadata.name for sc in cluster.snapshot.storage_classes}
        assert {
            "aws": {"gp2", "gp3"},
            "gcp": {"standard-rwo", "premium-rwo"},
            "azure": {"managed-csi", "managed-csi-premium"},
        }[cluster.provider] <= classes
        # A complete dump: every kind the reader lists is present, so nothing is "not evaluated".
        assert cluster.snapshot.warnings == []


def test_the_engine_finds_every_kind_of_waste(
    fleet: list[tuple[DemoCluster, AnalysisResult]],
) -> None:
    seen: set[str] = set()
    for cluster, result in fleet:
        rules = {f.rule for f in result.findings}
        seen |= rules
        missing = EACH_CLUSTER_RULES - rules
        assert not missing, (cluster.name, missing)
        assert 40 <= len(result.findings) <= 220, (cluster.name, len(result.findings))
        assert result.not_evaluated == {}
        confident = [f for f in result.findings if counts_in_total(f)]
        assert len(confident) >= 0.8 * len(result.findings)
        # Cascades: leftovers only an idle workload still references.
        assert any(f.cascade_from for f in result.findings)
    assert seen >= EVERY_RULE, EVERY_RULE - seen


def test_storage_and_load_balancers_are_priced(
    fleet: list[tuple[DemoCluster, AnalysisResult]],
) -> None:
    for cluster, result in fleet:
        by_rule: dict[str, float] = {}
        for f in result.findings:
            by_rule[f.rule] = by_rule.get(f.rule, 0.0) + f.cost.monthly_usd
        for rule in ("pvc-unused", "pv-unbound", "service-no-endpoints", "pod-crashloop"):
            assert by_rule.get(rule, 0.0) > 0, (cluster.name, rule)
        assert result.summary.monthly_cost_usd > 50
    azure = [r for c, r in fleet if c.provider == "azure"]
    bases = [f.cost.basis for r in azure for f in r.findings if f.kind == "PersistentVolumeClaim"]
    # Azure disks bill the tier that holds them: a 200 GiB disk is a 256 GiB P15/E15.
    assert any(re.search(r"\d+ GiB .* → [PES]\d+ \(\d+ GiB\)", b) for b in bases)
    lb = [f.cost.basis for _, r in fleet for f in r.findings if f.rule == "service-no-endpoints"]
    assert any("AWS NLB" in b for b in lb)
    assert any("GCP forwarding rule" in b for b in lb)
    assert any("Azure Standard LB rule" in b for b in lb)


def test_findings_have_owners_and_ages(
    fleet: list[tuple[DemoCluster, AnalysisResult]],
) -> None:
    kinds: Counter[str] = Counter()
    total = 0
    ages: list[int] = []
    for _, result in fleet:
        for f in result.findings:
            total += 1
            if f.owner:
                kinds[f.owner.split(":", 1)[0]] += 1
            if f.age_days is not None:
                ages.append(f.age_days)
    assert {"helm", "argocd", "team"} <= set(kinds)
    assert sum(kinds.values()) >= 0.7 * total
    # Created over the past year, some within the last week.
    assert min(ages) <= 7
    assert max(ages) >= 300


def test_platform_objects_are_not_reported(
    fleet: list[tuple[DemoCluster, AnalysisResult]],
) -> None:
    for cluster, result in fleet:
        for f in result.findings:
            where = f.name if f.kind == "Namespace" else f.namespace
            assert where not in SYSTEM_NAMESPACES, (cluster.name, f.kind, f.name, f.rule)
            if where in ADDON_NAMESPACES:
                # Only the Helm hook Job of ingress-nginx, which Helm removes itself.
                assert f.rule == "job-finished"
                assert f.confidence.label == "low"
        kube_system = [
            o
            for kind in cluster.snapshot.objects.values()
            for o in kind
            if o.metadata.namespace == "kube-system"
        ]
        assert len(kube_system) > 30


def test_scale_sizing_reaches_two_thousand_findings() -> None:
    scale = scale_for_findings(2000)
    assert scale == 37
    assert FINDINGS_BASE + FINDINGS_PER_SCALE * scale == pytest.approx(2000, rel=0.02)
    counts = [
        len(_analyze(demo_cluster(i, seed=7, scale=scale, now=NOW)).findings) for i in (0, 4, 8)
    ]
    for count in counts:
        assert 1500 <= count <= 2500, counts
    assert scale_for_findings(10) == 1


def test_timeline_shape(fleet: list[tuple[DemoCluster, AnalysisResult]]) -> None:
    cluster, result = fleet[2]
    days = 90
    tl = timeline(result.findings, days=days, seed=7, key=cluster.name)
    assert [s.finding for s in tl.current] == list(result.findings)
    for span in tl.current:
        assert span.resolved is None
        assert 0 <= span.appeared <= days - 1
        if span.finding.age_days is not None:
            assert span.appeared <= span.finding.age_days
        assert span.present(0)
        assert span.first_seen_at(NOW) <= NOW
    assert sum(1 for s in tl.current if s.appeared <= 6) >= 5  # "new this week" has content
    assert sum(1 for s in tl.current if s.appeared == days - 1) >= 10  # there from the start
    assert 0.3 * len(result.findings) <= len(tl.resolved) <= 0.5 * len(result.findings)
    current_keys = {(f.kind, f.namespace, f.name) for f in result.findings}
    resolved_keys = set()
    for span in tl.resolved:
        assert span.resolved is not None
        assert 1 <= span.resolved < span.appeared <= days - 1
        assert not span.present(0)
        assert span.present(span.appeared)
        assert not span.present(span.resolved)
        resolved_at = span.resolved_at(NOW)
        assert resolved_at is not None
        assert span.first_seen_at(NOW) < resolved_at < NOW
        key = (span.finding.kind, span.finding.namespace, span.finding.name)
        assert key not in current_keys
        resolved_keys.add(key)
        assert counts_in_total(span.finding)
    assert len(resolved_keys) == len(tl.resolved)
    assert sum(s.finding.cost.monthly_usd for s in tl.resolved) > 0  # resolved waste in dollars
    assert {s.finding.kind for s in tl.resolved} >= {"ConfigMap", "Secret", "Service"}


def test_timeline_goes_up_and_down_and_is_consistent(
    fleet: list[tuple[DemoCluster, AnalysisResult]],
) -> None:
    cluster, result = fleet[0]
    tl = timeline(result.findings, days=365, seed=7, key=cluster.name)
    totals = tl.totals()
    assert [d for d, _, _ in totals] == list(range(364, -1, -1))
    counts = [n for _, n, _ in totals]
    steps = [b - a for a, b in itertools.pairwise(counts)]
    assert max(steps) > 0
    assert min(steps) < -5  # a clean-up wave
    assert counts[-1] == len(result.findings)
    costs = [c for _, _, c in totals]
    assert costs[-1] == pytest.approx(
        sum(f.cost.monthly_usd for f in result.findings if counts_in_total(f))
    )
    for day in (364, 200, 90, 30, 7, 0):
        present = tl.on_day(day)
        assert len(present) == dict((d, n) for d, n, _ in totals)[day]
    assert {s.finding for s in tl.on_day(0)} == set(result.findings)


def test_timeline_is_deterministic(fleet: list[tuple[DemoCluster, AnalysisResult]]) -> None:
    cluster, result = fleet[1]
    a = timeline(result.findings, days=90, seed=7, key=cluster.name)
    b = timeline(result.findings, days=90, seed=7, key=cluster.name)
    assert a == b
    # Independent of the order findings come in.
    shuffled = timeline(tuple(reversed(result.findings)), days=90, seed=7, key=cluster.name)
    assert {(s.finding, s.appeared) for s in shuffled.current} == {
        (s.finding, s.appeared) for s in a.current
    }
    other = timeline(result.findings, days=90, seed=8, key=cluster.name)
    assert [s.appeared for s in other.current] != [s.appeared for s in a.current]
    with pytest.raises(ValueError, match="two days"):
        timeline(result.findings, days=1, seed=7)
