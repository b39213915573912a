"""``analyze``: a snapshot in, priced findings out. Pure — the caller supplies prices and now."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.analysis import costs
from app.analysis.context import TEMPLATE_KINDS, Context
from app.analysis.exceptions import Policy
from app.analysis.model import (
    NO_COST,
    AnalysisResult,
    Confidence,
    Cost,
    Finding,
    Options,
    Summary,
)
from app.analysis.references import build_references
from app.analysis.rules import cluster, config, lifecycle, network, rbac, storage, workloads
from app.analysis.rules.base import Candidate, Found
from app.analysis.timeutil import parse_time
from app.kube import objects as o
from app.kube.snapshot import Snapshot
from app.pricing.book import PriceBook
from app.pricing.quantity import parse_bytes

NAMESPACE_RULE = "namespace-abandoned"

# Order matters. A rule may read the verdicts of those before it (an Ingress cascades from
# its unused Services; a Secret from the unused ServiceAccount that lists it), and an object
# gets one finding, from the first rule that reports it: a stuck deletion first, the generic
# missing-owner rule after every specific one.
RULES: tuple[Callable[[Found], None], ...] = (
    lifecycle.check_stuck_deletions,
    workloads.check_scaled_to_zero,
    workloads.check_daemon_sets,
    workloads.check_jobs,
    workloads.check_cron_jobs,
    workloads.check_pods,
    workloads.check_hpas,
    network.check_services,
    network.check_ingresses,
    network.check_network_policies,
    network.check_pdbs,
    rbac.check_bindings,
    config.check_service_accounts,
    rbac.check_roles,
    config.check_secrets,
    config.check_config_maps,
    storage.check_pvcs,
    storage.check_pvs,
    storage.check_storage_classes,
    storage.check_volume_attachments,
    cluster.check_priority_classes,
    cluster.check_crds,
    lifecycle.check_missing_owners,
)

# Namespaces that hold objects no one would call abandoned.
_NEVER_ABANDONED = frozenset({"default"})
_NAMESPACE_FURNITURE = frozenset({("ConfigMap", "kube-root-ca.crt"), ("ServiceAccount", "default")})


def analyze(
    snapshot: Snapshot, *, prices: PriceBook, options: Options, now: datetime
) -> AnalysisResult:
    """Every finding in ``snapshot`` that ``options`` asks for, priced from ``prices``."""
    ctx = Context.build(snapshot, options, now)
    refs = build_references(ctx)
    policy = Policy(ctx)
    found = Found(ctx, refs, policy)
    for rule in RULES:
        rule(found)

    detected_provider, detected_region = costs.detect_provider(snapshot.nodes)
    provider = costs.normalize_provider(options.provider or snapshot.cluster.provider) or (
        detected_provider
    )
    region = options.region or snapshot.cluster.region or detected_region
    pricer = _Pricer(ctx, prices, provider)
    for cand in found.candidates.values():
        cand.cost = pricer.price(cand)
    # A namespace's cost is the sum of its findings', so it is judged once they are priced;
    # kor/used=false comes last so that it only adds what no rule reported.
    _abandoned_namespaces(ctx, found)
    lifecycle.check_labelled_unused(found)

    findings = [
        _finding(ctx, c, c.cost if c.cost is not None else NO_COST)
        for c in found.candidates.values()
    ]
    findings = [f for f in findings if _wanted(f, options, ctx)]
    findings.sort(
        key=lambda f: (f.namespace or "", f.namespace is not None, f.kind, f.name, f.rule)
    )
    return AnalysisResult(
        findings=tuple(findings),
        summary=_summary(snapshot.objects_scanned, findings),
        warnings=tuple(snapshot.warnings),
        not_evaluated=dict(found.not_evaluated),
        provider=provider,
        region=region,
    )


def counts_in_total(finding: Finding) -> bool:
    """Low-confidence findings need review and a namespace's cost is its findings' sum."""
    return finding.confidence >= Confidence.MEDIUM and finding.rule != NAMESPACE_RULE


class _Pricer:
    def __init__(self, ctx: Context, book: PriceBook, provider: str | None) -> None:
        self.ctx = ctx
        self.book = book
        self.provider = provider
        lbs = sorted(
            (s for s in ctx.snap.services if s.spec.type == "LoadBalancer"),
            key=lambda s: (
                s.metadata.creation_timestamp or "",
                s.metadata.namespace or "",
                s.metadata.name,
            ),
        )
        self.lb_index = {(s.metadata.namespace, s.metadata.name): i for i, s in enumerate(lbs)}
        self.default_class = next(
            (sc for sc in ctx.snap.storage_classes if storage.is_default_class(sc)), None
        )

    def price(self, cand: Candidate) -> Cost:
        if cand.cost is not None:
            return cand.cost
        obj = cand.obj
        if isinstance(obj, o.PersistentVolumeClaim) and cand.rule != "pvc-pending":
            return self._pvc(obj)
        if isinstance(obj, o.PersistentVolume):
            return self._pv(obj)
        if isinstance(obj, o.Service) and obj.spec.type == "LoadBalancer":
            idx = self.lb_index.get((obj.metadata.namespace, obj.metadata.name), 0)
            return costs.load_balancer_cost(
                self.book, provider=self.provider, service=obj, lb_index=idx
            )
        if isinstance(obj, o.Pod) and cand.rule == "pod-crashloop":
            cores, gib = costs.pod_requests(obj.spec)
            node = self.ctx.get("Node", None, obj.spec.node_name or "")
            itype = node.metadata.labels.get("node.kubernetes.io/instance-type") if node else None
            return costs.compute_cost(
                self.book,
                provider=self.provider,
                instance_type=itype,
                cpu_cores=cores,
                memory_gib=gib,
            )
        return NO_COST

    def _class(self, name: str | None) -> o.StorageClass | None:
        if name is None:
            return self.default_class
        sc = self.ctx.get("StorageClass", None, name)
        return sc if isinstance(sc, o.StorageClass) else None

    def _pvc(self, pvc: o.PersistentVolumeClaim) -> Cost:
        size = pvc.status.capacity.get("storage") or (
            pvc.spec.resources.requests.get("storage") if pvc.spec.resources else None
        )
        pv = self.ctx.get("PersistentVolume", None, pvc.spec.volume_name or "")
        return self._storage(
            size,
            self._class(pvc.spec.storage_class_name),
            pv if isinstance(pv, o.PersistentVolume) else None,
        )

    def _pv(self, pv: o.PersistentVolume) -> Cost:
        return self._storage(
            pv.spec.capacity.get("storage"),
            self._class(pv.spec.storage_class_name) if pv.spec.storage_class_name else None,
            pv,
        )

    def _storage(
        self, size: str | None, sc: o.StorageClass | None, pv: o.PersistentVolume | None
    ) -> Cost:
        if not size:
            return NO_COST
        try:
            capacity = parse_bytes(size)
        except ValueError:
            return Cost(0.0, f"capacity {size!r} is not a Kubernetes quantity", assumed=True)
        return costs.storage_cost(
            self.book, provider=self.provider, storage_class=sc, pv=pv, capacity_bytes=capacity
        )


def _owner(meta: o.ObjectMeta) -> str | None:
    """Who to ask about an object: its Helm release, Argo CD application or team label."""
    release = meta.annotations.get("meta.helm.sh/release-name")
    if release:
        return f"helm:{release}"
    if meta.labels.get("app.kubernetes.io/managed-by") == "Helm":
        instance = meta.labels.get("app.kubernetes.io/instance") or meta.labels.get("release")
        if instance:
            return f"helm:{instance}"
    tracking = meta.annotations.get("argocd.argoproj.io/tracking-id")
    if tracking:
        return f"argocd:{tracking.split(':', 1)[0]}"
    if meta.labels.get("argocd.argoproj.io/instance"):
        return f"argocd:{meta.labels['argocd.argoproj.io/instance']}"
    for label in ("team", "owner", "app.kubernetes.io/team", "leftover.dev/team"):
        if meta.labels.get(label):
            return f"team:{meta.labels[label]}"
    return None


def _finding(ctx: Context, cand: Candidate, cost: Cost) -> Finding:
    meta = cand.obj.metadata
    created = parse_time(meta.creation_timestamp)
    return Finding(
        kind=cand.kind,
        api_version=ctx.api_version(cand.kind),
        namespace=meta.namespace or None,
        name=meta.name,
        uid=meta.uid,
        rule=cand.rule,
        reason=cand.reason,
        confidence=cand.confidence,
        cascade_from=cand.cascade_from,
        cost=cost,
        age_days=None if created is None else max((ctx.now - created).days, 0),
        owner=_owner(meta),
        security_risk=cand.security_risk,
        evidence=cand.evidence,
    )


def _abandoned_namespaces(ctx: Context, found: Found) -> None:
    """Namespaces where nothing runs or will run, but objects remain: reported once each,
    with the sum of their priced findings as cost (not added again to totals)."""
    if not ctx.listed("Namespace", *TEMPLATE_KINDS):
        return
    defaults = found.policy.defaults
    quiet = {
        n.metadata.name
        for n in ctx.snap.namespaces
        if n.metadata.name not in _NEVER_ABANDONED
        and not defaults.is_platform_namespace(n.metadata.name)
        and not n.metadata.deletion_timestamp
        and not ctx.live_specs(n.metadata.name)
        and ("Namespace", None, n.metadata.name) not in found.candidates
    }
    if not quiet:
        return
    held: dict[str, list[str]] = defaultdict(list)
    for kind, items in ctx.snap.objects.items():
        if kind == "EndpointSlice":
            continue
        for obj in items:
            meta = obj.metadata
            ns, name = meta.namespace, meta.name
            if ns not in quiet or (kind, name) in _NAMESPACE_FURNITURE:
                continue
            if defaults.is_default(kind, ns, name, meta.labels):
                continue
            held[ns].append(f"{kind} {name}")
    inside: dict[str, list[Candidate]] = defaultdict(list)
    for (_, ns, _), cand in found.candidates.items():
        if ns in quiet and cand.confidence >= Confidence.MEDIUM:
            inside[ns].append(cand)
    for nsobj in ctx.snap.namespaces:
        name = nsobj.metadata.name
        objects = held.get(name)
        if name not in quiet or not objects:
            continue
        priced = inside.get(name, [])
        total = sum(c.cost.monthly_usd for c in priced if c.cost is not None)
        basis = f"sum of the {len(priced)} findings in this namespace (not added again to totals)"
        found.add(
            Candidate(
                "Namespace",
                nsobj,
                NAMESPACE_RULE,
                f"nothing runs or is scheduled to run here, yet it holds {len(objects)} "
                f"object{'s' if len(objects) != 1 else ''}",
                # Holding only what needs review makes the namespace itself need review.
                Confidence.MEDIUM if priced else Confidence.LOW,
                evidence=(
                    f"{len(priced)} finding(s) inside, ${total:,.2f}/month estimated",
                    "holds " + ", ".join(sorted(objects)[:8]) + (" …" if len(objects) > 8 else ""),
                ),
                cost=Cost(total, basis) if priced else NO_COST,
                by_reference=True,
            )
        )


def _wanted(f: Finding, options: Options, ctx: Context) -> bool:
    if f.confidence < options.min_confidence:
        return False
    if options.kinds and f.kind not in options.kinds:
        return False
    ns = f.name if f.kind == "Namespace" else f.namespace
    if not options.wants_namespace(ns):
        return False
    if options.older_than:
        obj = ctx.get(f.kind, f.namespace, f.name)
        created = parse_time(obj.metadata.creation_timestamp) if obj is not None else None
        if created is not None and ctx.now - created < options.older_than:
            return False
    return True


def _summary(objects_scanned: int, findings: list[Finding]) -> Summary:
    by_kind: dict[str, dict[str, Any]] = {}
    total = 0.0
    for f in findings:
        entry = by_kind.setdefault(f.kind, {"findings": 0, "monthly_cost_usd": 0.0})
        entry["findings"] += 1
        if counts_in_total(f):
            entry["monthly_cost_usd"] += f.cost.monthly_usd
            total += f.cost.monthly_usd
    for entry in by_kind.values():
        entry["monthly_cost_usd"] = round(entry["monthly_cost_usd"], 2)
    return Summary(
        objects_scanned=objects_scanned,
        findings=len(findings),
        monthly_cost_usd=round(total, 2),
        by_kind=dict(sorted(by_kind.items())),
    )
