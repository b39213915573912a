"""Roles, ClusterRoles and their bindings: dangling grants are a security risk, not a cost."""

from __future__ import annotations

from app.analysis.model import Confidence
from app.analysis.rules.base import Candidate, Found
from app.analysis.selectors import matches
from app.kube import objects as o

BINDING_KINDS = ("RoleBinding", "ClusterRoleBinding")


def check_bindings(found: Found) -> None:
    """Report bindings whose role is missing or whose every subject is a missing ServiceAccount."""
    ctx = found.ctx
    for kind in BINDING_KINDS:
        if found.skip("binding-role-missing", (kind, "Role", "ClusterRole")):
            continue
        for b in ctx.snap.bindings(kind):
            meta = b.metadata
            ref = b.role_ref
            role_ns = meta.namespace if ref.kind == "Role" else None
            if ref.kind in ("Role", "ClusterRole") and not ctx.exists(ref.kind, role_ns, ref.name):
                found.add(
                    Candidate(
                        kind,
                        b,
                        "binding-role-missing",
                        f"its {ref.kind} {ref.name} does not exist",
                        Confidence.HIGH,
                        evidence=(f"roleRef {ref.kind}/{ref.name} not found",),
                        security_risk=True,
                    )
                )
                continue
            if not ctx.listed("ServiceAccount"):
                continue
            subjects = b.subjects
            if subjects and all(
                s.kind == "ServiceAccount"
                and not ctx.exists("ServiceAccount", s.namespace or meta.namespace, s.name)
                for s in subjects
            ):
                names = ", ".join(f"{s.namespace or meta.namespace}/{s.name}" for s in subjects)
                found.add(
                    Candidate(
                        kind,
                        b,
                        "binding-subjects-missing",
                        f"every subject is a ServiceAccount that does not exist: {names}",
                        Confidence.HIGH,
                        evidence=tuple(
                            f"ServiceAccount {s.namespace or meta.namespace}/{s.name} not found"
                            for s in subjects
                        ),
                        security_risk=True,
                    )
                )


def _aggregated_used(found: Found) -> set[str]:
    """ClusterRoles whose rules flow, through aggregation, into a ClusterRole that is bound."""
    roles = found.ctx.snap.roles("ClusterRole")
    aggregators = [
        r for r in roles if r.aggregation_rule and r.aggregation_rule.cluster_role_selectors
    ]
    used: set[str] = set()
    live_aggs = [a for a in aggregators if _bound(found, "ClusterRole", None, a.metadata.name)]
    frontier = list(live_aggs)
    seen = {a.metadata.name for a in frontier}
    while frontier:
        agg = frontier.pop()
        selectors = agg.aggregation_rule.cluster_role_selectors if agg.aggregation_rule else []
        for role in roles:
            name = role.metadata.name
            if name in used or name == agg.metadata.name:
                continue
            if any(matches(sel, role.metadata.labels) for sel in selectors):
                used.add(name)
                if role.aggregation_rule and name not in seen:
                    seen.add(name)
                    frontier.append(role)
    return used


def _bound(found: Found, kind: str, namespace: str | None, name: str) -> bool:
    used, _ = found.judge_uses(found.refs.of(kind, namespace, name))
    return used


def check_roles(found: Found) -> None:
    """Report Roles and ClusterRoles no live binding references (nor aggregates)."""
    ctx = found.ctx
    aggregated = _aggregated_used(found) if ctx.listed("ClusterRole") else set()
    for kind in ("Role", "ClusterRole"):
        if found.skip("role-unbound", (kind, "RoleBinding", "ClusterRoleBinding")):
            continue
        role: o.Role
        for role in ctx.snap.roles(kind):
            meta = role.metadata
            ns = meta.namespace if kind == "Role" else None
            if meta.owner_references or (kind == "ClusterRole" and meta.name in aggregated):
                continue
            found.add_unreferenced(
                kind,
                role,
                rule="role-unbound",
                uses=found.refs.of(kind, ns, meta.name),
                noun="RoleBinding or ClusterRoleBinding",
                security_risk=True,
            )
