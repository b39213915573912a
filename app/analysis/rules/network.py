"""Services, Ingresses, NetworkPolicies: judged by what they select or point at."""

from __future__ import annotations

from collections import defaultdict

from app.analysis.context import TEMPLATE_KINDS
from app.analysis.model import Confidence, ObjectRef
from app.analysis.rules.base import Candidate, Found
from app.analysis.selectors import describe, matches_map
from app.kube import objects as o

SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _endpoint_counts(slices: list[o.EndpointSlice]) -> dict[tuple[str | None, str], list[int]]:
    """(namespace, service) -> [ready endpoints, all endpoints] over its EndpointSlices."""
    counts: dict[tuple[str | None, str], list[int]] = defaultdict(lambda: [0, 0])
    for es in slices:
        svc = es.metadata.labels.get(SERVICE_NAME_LABEL)
        if not svc:
            continue
        entry = counts[(es.metadata.namespace, svc)]
        for ep in es.endpoints or ():
            entry[1] += 1
            # The API documents a nil ``ready`` as ready.
            if ep.conditions.ready is not False:
                entry[0] += 1
    return counts


def check_services(found: Found) -> None:
    """Report Services with nothing behind them: no ready endpoint and no live pod to come."""
    if found.skip("service-no-endpoints", ("Service", *TEMPLATE_KINDS)):
        return
    ctx = found.ctx
    have_slices = ctx.listed("EndpointSlice")
    counts = _endpoint_counts(ctx.snap.endpoint_slices)
    for svc in ctx.snap.services:
        meta = svc.metadata
        if svc.spec.type == "ExternalName" or meta.owner_references:
            continue
        if found.refs.of("Service", meta.namespace, meta.name):
            continue  # a webhook or APIService backend: broken if empty, but not unused
        ready, total = counts.get((meta.namespace, meta.name), (0, 0))
        selector = svc.spec.selector or {}
        if selector:
            if ready:
                continue
            ns = meta.namespace or ""
            if ctx.selects_live(ns, selector):
                continue
            idle = list(
                dict.fromkeys(
                    (u.ref, u.state) for u in ctx.idle_specs(ns) if matches_map(selector, u.labels)
                )
            )
            evidence = [f"selector {describe(selector)} matches no live pod or template"]
            if have_slices:
                evidence.append("no ready endpoint in its EndpointSlices")
            if idle:
                ref, state = idle[0]
                reason = f"selects only {ref}, which {state}" + (
                    f" (and {len(idle) - 1} more idle)" if len(idle) > 1 else ""
                )
                evidence.extend(f"selects {r}, which {st}" for r, st in idle)
            else:
                reason = f"selector {describe(selector)} matches no running or scheduled pod"
            found.add(
                Candidate(
                    "Service",
                    svc,
                    "service-no-endpoints",
                    reason,
                    Confidence.HIGH if have_slices else Confidence.MEDIUM,
                    cascade_from=tuple(dict.fromkeys(r for r, _ in idle)),
                    evidence=tuple(evidence),
                    by_reference=True,
                )
            )
        elif have_slices and total == 0:
            found.add(
                Candidate(
                    "Service",
                    svc,
                    "service-no-endpoints",
                    "has no selector and no endpoints",
                    Confidence.HIGH,
                    evidence=("no EndpointSlice lists an endpoint for it",),
                    by_reference=True,
                )
            )


def _backends(ing: o.Ingress) -> tuple[list[str], bool]:
    """Service names an Ingress routes to, and whether it also has a non-Service backend."""
    names: list[str] = []
    other = False
    backends: list[o.IngressBackend] = []
    if ing.spec.default_backend is not None:
        backends.append(ing.spec.default_backend)
    for rule in ing.spec.rules:
        if rule.http is not None:
            backends.extend(p.backend for p in rule.http.paths)
    for be in backends:
        if be.service is not None and be.service.name:
            names.append(be.service.name)
        elif be.resource is not None:
            other = True
    return list(dict.fromkeys(names)), other


def check_ingresses(found: Found) -> None:
    """Report Ingresses whose every backend Service is missing or itself unused."""
    if found.skip("ingress-no-backend", ("Ingress", "Service")):
        return
    ctx = found.ctx
    for ing in ctx.snap.ingresses:
        meta = ing.metadata
        names, other = _backends(ing)
        if other or not names:
            continue
        missing = [n for n in names if not ctx.exists("Service", meta.namespace, n)]
        unused = [n for n in names if found.is_reported("Service", meta.namespace, n)]
        if len(missing) + len(unused) < len(names):
            continue
        if not unused:
            found.add(
                Candidate(
                    "Ingress",
                    ing,
                    "ingress-no-backend",
                    "every backend Service is missing: " + ", ".join(missing),
                    Confidence.HIGH,
                    evidence=tuple(f"Service {meta.namespace}/{n} does not exist" for n in missing),
                )
            )
            continue
        cascade = tuple(ObjectRef("Service", meta.namespace, n) for n in unused)
        found.add(
            Candidate(
                "Ingress",
                ing,
                "ingress-no-backend",
                "routes only to Services that are themselves unused: "
                + ", ".join(missing + unused),
                Confidence.MEDIUM,
                cascade_from=cascade,
                evidence=tuple(f"Service {meta.namespace}/{n} does not exist" for n in missing)
                + tuple(f"Service {meta.namespace}/{n} has no endpoints" for n in unused),
            )
        )


def check_network_policies(found: Found) -> None:
    """Report NetworkPolicies whose podSelector matches no live pod or template."""
    if found.skip("networkpolicy-matches-nothing", ("NetworkPolicy", *TEMPLATE_KINDS)):
        return
    ctx = found.ctx
    for np in ctx.snap.network_policies:
        meta = np.metadata
        selector = np.spec.pod_selector
        if not selector.match_labels and not selector.match_expressions:
            continue  # guards the whole namespace: an empty one is namespace-abandoned's
        ns = meta.namespace or ""
        if ctx.selects_live(ns, selector.match_labels, selector.match_expressions):
            continue
        found.add(
            Candidate(
                "NetworkPolicy",
                np,
                "networkpolicy-matches-nothing",
                f"podSelector {describe(selector)} matches no live pod or template",
                Confidence.MEDIUM,
                evidence=(f"searched the live pods and templates of namespace {meta.namespace}",),
                by_reference=True,
            )
        )


def check_pdbs(found: Found) -> None:
    """Report PodDisruptionBudgets whose selector matches no live pod or template."""
    if found.skip("pdb-matches-nothing", ("PodDisruptionBudget", *TEMPLATE_KINDS)):
        return
    ctx = found.ctx
    for pdb in ctx.snap.pdbs:
        meta = pdb.metadata
        selector = pdb.spec.selector
        ns = meta.namespace or ""
        if selector is not None and ctx.selects_live(
            ns, selector.match_labels, selector.match_expressions
        ):
            continue
        found.add(
            Candidate(
                "PodDisruptionBudget",
                pdb,
                "pdb-matches-nothing",
                f"selector {describe(selector)} matches no live pod or template",
                Confidence.MEDIUM,
                evidence=(f"searched the live pods and templates of namespace {meta.namespace}",),
                by_reference=True,
            )
        )
