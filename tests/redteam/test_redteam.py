"""Red-team bar on independently built clusters (see tests/redteam/build.py).

- a brand-new EKS / GKE Autopilot / AKS cluster: no high- or medium-confidence finding;
- healthy Helm installs (kube-prometheus-stack, ingress-nginx, cert-manager, Argo CD, Online
  Boutique, Istio, a team app): none either;
- every waste pattern of RULES.md: caught with medium or high confidence, cascades included.

Objects that once came out loud stay listed (``QUIET``) as regression tests.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

import pytest

from app.analysis import AnalysisResult, Finding, Options, analyze
from app.analysis.model import Confidence
from app.kube.snapshot_file import load_snapshot
from app.pricing.book import load_default_price_book
from tests.redteam import build, waste
from tests.redteam.kube import NOW, dump

Ref = tuple[str, str | None, str]


@cache
def result(cluster: str) -> AnalysisResult:
    items = build.BUILDERS[cluster]()
    snapshot = load_snapshot(dump(items), source=cluster)
    return analyze(snapshot, prices=load_default_price_book(), options=Options(), now=NOW)


def loud(res: AnalysisResult) -> list[Finding]:
    return [f for f in res.findings if f.confidence >= Confidence.MEDIUM]


def ref(f: Finding) -> Ref:
    return (f.kind, f.namespace, f.name)


def show(f: Finding) -> str:
    where = f"{f.kind} {f.namespace}/{f.name}" if f.namespace else f"{f.kind} {f.name}"
    return f"{where}: {f.rule} [{f.confidence.label}] {f.reason}"


# --- 1. fresh managed clusters ---------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["eks-fresh", "gke-autopilot-fresh", "aks-fresh"])
def test_fresh_cluster_is_quiet(cluster: str) -> None:
    res = result(cluster)
    assert res.provider in ("aws", "gcp", "azure")
    assert not loud(res), "\n".join(show(f) for f in loud(res))


@pytest.mark.parametrize(
    "cluster", ["eks-fresh", "gke-autopilot-fresh", "aks-fresh", "eks-apps", "gke-gateway-app"]
)
def test_quiet_without_the_grace_period(cluster: str) -> None:
    """The same clusters judged as if every object were old: quiet must not hang on youth."""
    snapshot = load_snapshot(dump(build.BUILDERS[cluster]()), source=cluster)
    res = analyze(
        snapshot,
        prices=load_default_price_book(),
        options=Options(grace_period=timedelta(0)),
        now=NOW,
    )
    assert not loud(res), "\n".join(show(f) for f in loud(res))


# --- 2. healthy applications -----------------------------------------------------------------

# Objects of healthy installs that once came out loud: each stays a regression test, with why
# a careful engine must keep it quiet.
QUIET: dict[Ref, str] = {
    ("Job", "argocd", "argocd-redis-secret-init"): (
        "engine: argo-cd chart's helm hook Job (hook-delete-policy before-hook-creation) is "
        "reported high as job-finished; helm.sh/hook annotations are dropped on load"
    ),
    ("ConfigMap", "boutique", "istio-ca-root-cert"): (
        "engine: references made by running pods (webhook-injected sidecar volumes) are ignored "
        "when the pod has a controller; only the template counts"
    ),
    ("Secret", "shop", "admin-basic-auth"): (
        "engine: ingress-nginx auth-secret annotation is not a reference (annotation dropped)"
    ),
    ("Pod", "shop", "etl-nightly-8kq2w-extract-1234567890"): (
        "engine: Succeeded pod owned by an Argo Workflow (custom resource) is reported high as "
        "pod-completed 'not part of a Job'"
    ),
    ("Namespace", None, "team-data"): (
        "engine: a namespace created 1 h ago, before its first deploy, is namespace-abandoned"
    ),
    ("NetworkPolicy", "team-data", "default-deny"): (
        "engine: a namespace-wide default-deny (empty podSelector) in a new namespace is "
        "networkpolicy-matches-nothing"
    ),
    ("DaemonSet", "nvidia-device-plugin", "nvdp-nvidia-device-plugin"): (
        "engine: a GPU DaemonSet waiting for Karpenter GPU nodes is daemonset-unscheduled high"
    ),
    ("Namespace", None, "nvidia-device-plugin"): "engine: follows the DaemonSet false positive",
    ("ConfigMap", "nvidia-device-plugin", "nvdp-nvidia-device-plugin-configs"): "engine: cascade",
    ("ServiceAccount", "nvidia-device-plugin", "nvdp-nvidia-device-plugin-service-account"): (
        "engine: cascade"
    ),
    ("Deployment", "shop-staging", "storefront"): (
        "engine: kube-downscaler's downscaler/original-replicas annotation is ignored"
    ),
    ("Service", "shop-staging", "storefront"): "engine: cascade of the downscaled Deployment",
    ("ConfigMap", "shop-staging", "storefront-config"): "engine: cascade",
    ("Namespace", None, "shop-staging"): "engine: cascade",
}


def test_healthy_apps_are_quiet() -> None:
    extra = loud(result("eks-apps"))
    assert not extra, "\n".join(show(f) for f in extra)


@pytest.mark.parametrize(
    "obj",
    [pytest.param(r, id=f"{r[0]}-{r[1]}-{r[2]}") for r in QUIET],
)
def test_healthy_object_not_reported_loudly(obj: Ref) -> None:
    hits = [f for f in loud(result("eks-apps")) if ref(f) == obj]
    assert not hits, "\n".join(show(f) for f in hits)


def test_gateway_tls_secret_not_loud() -> None:
    """A TLS Secret named by a Gateway API listener's certificateRefs is in use (on GKE the
    Gateway controller runs in the control plane, so no in-cluster RBAC hints at it)."""
    res = result("gke-gateway-app")
    assert not loud(res), "\n".join(show(f) for f in loud(res))


def test_healthy_apps_leave_evidence_at_low() -> None:
    """Indirect users RULES.md names must surface as low, never vanish."""
    low = {ref(f) for f in result("eks-apps").findings if f.confidence == Confidence.LOW}
    assert ("ConfigMap", "ingress-nginx", "ingress-nginx-controller") in low  # --configmap=
    assert ("ConfigMap", "monitoring", "kps-nodes") in low  # grafana_dashboard sidecar label


# --- 3. waste ----------------------------------------------------------------------------------

# Waste the engine misses or under-rates.


def _check(e: waste.Expected, res: AnalysisResult) -> str | None:
    mine = [f for f in res.findings if ref(f) == (e.kind, e.namespace, e.name)]
    ok = [f for f in mine if f.rule in e.rule.split("|")]
    if not ok:
        return f"expected {e.rule}, got: " + ("; ".join(show(f) for f in mine) or "nothing")
    f = ok[0]
    if f.confidence < Confidence.MEDIUM:
        return f"too quiet: {show(f)}"
    if e.cascade and not f.cascade_from:
        return f"no cascade_from: {show(f)}"
    if e.costly and f.monthly_cost_usd <= 0:
        return f"no cost: {show(f)}"
    return None


def _expected() -> list[waste.Expected]:
    build.eks_waste()  # fills waste.EXPECTED
    return list(waste.EXPECTED)


@pytest.mark.parametrize(
    "e",
    [pytest.param(e, id=f"{e.rule}-{e.kind}-{e.namespace}-{e.name}"[:110]) for e in _expected()],
)
def test_waste_is_caught(e: waste.Expected) -> None:
    problem = _check(e, result("eks-waste"))
    assert problem is None, problem


def test_every_rule_id_is_exercised() -> None:
    rules = {r for e in _expected() for r in e.rule.split("|")}
    required = {
        "configmap-unused", "secret-unused", "secret-sa-token-orphaned", "service-no-endpoints",
        "serviceaccount-unused", "workload-scaled-to-zero", "replicaset-orphaned",
        "daemonset-unscheduled", "job-finished", "cronjob-suspended", "pod-failed",
        "pod-completed", "pod-crashloop", "pvc-unused", "pvc-pending", "pv-unbound",
        "storageclass-unused", "ingress-no-backend", "hpa-target-missing", "hpa-target-idle",
        "pdb-matches-nothing", "networkpolicy-matches-nothing", "role-unbound",
        "binding-role-missing", "binding-subjects-missing", "priorityclass-unused",
        "crd-no-instances", "volumeattachment-dangling", "namespace-abandoned", "stuck-deletion",
        "owner-missing",
    }  # fmt: skip
    assert required <= rules, required - rules


def test_waste_cluster_reports_nothing_loud_beyond_the_waste() -> None:
    """Adding waste must not make healthy objects loud (cascades stay inside the waste)."""
    expected = {(e.kind, e.namespace, e.name) for e in _expected()}
    baseline = {ref(f) for f in loud(result("eks-apps"))}
    extra = [
        f
        for f in loud(result("eks-waste"))
        if ref(f) not in expected and ref(f) not in baseline and ref(f) not in PLAUSIBLE_EXTRA
    ]
    assert not extra, "\n".join(show(f) for f in extra)


# Loud findings in the waste cluster that are legitimate consequences of the planted waste.
PLAUSIBLE_EXTRA: set[Ref] = {
    ("Namespace", None, "logging"),  # holds only the unschedulable DaemonSet
    ("Service", "feature-checkout-redesign", "checkout"),
    ("Ingress", "feature-checkout-redesign", "checkout"),
    ("ConfigMap", "feature-checkout-redesign", "checkout-config"),
    ("Secret", "feature-checkout-redesign", "checkout-db"),
    ("Job", "loadtest-2026-10", "k6-run"),
    ("ConfigMap", "loadtest-2026-10", "k6-script"),
    ("Secret", "loadtest-2026-10", "k6-cloud-token"),
    ("Deployment", "shop", "wishlist"),  # 0 replicas; its HPA cannot scale from zero
}


def test_healthy_objects_in_waste_cluster_stay_quiet() -> None:
    res = result("eks-waste")
    loud_refs = {ref(f) for f in loud(res)}
    assert not loud_refs & set(waste.MUST_STAY_QUIET)
    # Jobs/pods of the live pg-backup CronJob are history, not waste.
    assert not [r for r in loud_refs if r[2].startswith("pg-backup")]


def test_costs_are_priced_from_aws_book() -> None:
    res = result("eks-waste")
    by = {(f.kind, f.namespace, f.name): f for f in res.findings}
    released = by[("PersistentVolume", None, "pvc-5c0ffee0-dead-beef-0000-000000000001")]
    assert released.monthly_cost_usd > 0
    assert "500" in released.cost.basis
    assert by[("Service", "shop", "promo-lb")].monthly_cost_usd > 0
    assert res.summary.monthly_cost_usd > 0
