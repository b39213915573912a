"""Generated clusters for the demo organisation: realistic snapshots the real engine analyses.

``demo_fleet(count, seed=, scale=, now=)`` gives ``count`` clusters spread over AWS, GCP and
Azure in turn (EKS, GKE and AKS as the platforms create them, plus ingress-nginx, cert-manager,
the Prometheus stack and, on prod/staging, Argo CD), each running team namespaces of
applications deployed with Helm, Argo CD or plain manifests, and each with the leftovers real
clusters accumulate (``waste``, ``cluster_waste``). Findings come from running
``app.analysis.analyze`` on ``DemoCluster.snapshot``.

Sizing: ``scale`` multiplies the team namespaces (4 per unit at average waste density) and the
cluster-wide leftovers. Scale 1 gives about 95-150 findings per cluster (~600 objects); the
count grows linearly, ``FINDINGS_BASE + FINDINGS_PER_SCALE × scale``, and
``scale_for_findings(n)`` inverts it: **scale 37 gives about 2,000 findings per cluster**
(1,900-2,120 over the first dozen clusters, ~8,600 objects), what ``leftover demo --clusters 200
--days 365`` needs. Generating such a cluster takes about 0.6-0.8 s and analysing it 0.2-0.3 s
on one core; both are pure, so a seeder may spread clusters over processes.

Deterministic: the same (index, seed, scale, now) gives an identical snapshot; creation times
are spread over the year before ``now``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from app.demo import addons, cluster_waste, kube_system, platform
from app.demo.catalog import (
    ENVIRONMENT_DOMAINS,
    NAMESPACES_PER_SCALE,
    TENANTS,
    WASTE_DENSITY,
)
from app.demo.cloud import VERSIONS, Cloud, fleet_entry
from app.demo.objects import Gen
from app.demo.tenants import tenant
from app.demo.waste import SCENARIOS, namespace_waste
from app.kube.snapshot import ClusterInfo, Snapshot
from app.kube.snapshot_file import snapshot_from_objects

# Leftover scenarios drawn per team namespace at density 1.0 (besides one of each kind that
# every cluster gets, so each rule shows up in a demo cluster).
WASTE_PER_NAMESPACE = 6.0
# Findings ≈ FINDINGS_BASE + FINDINGS_PER_SCALE × scale, measured over the fleet's first dozen
# clusters (tests/demo/test_generate.py checks scale_for_findings(2000) against the engine).
FINDINGS_PER_SCALE = 52
FINDINGS_BASE = 73


@dataclass(frozen=True, slots=True)
class DemoCluster:
    name: str  # "prod-us-checkout"
    provider: str  # "aws" | "gcp" | "azure"
    region: str  # "us-east-1", "europe-west1", "westeurope"
    kubernetes_version: str  # as the provider's API reports it ("1.31", "1.31.5-gke.1169000")
    snapshot: Snapshot
    environment: str = ""  # prod | staging | dev | data | ml | ci
    external_id: str = ""  # ARN, GKE resource name or ARM id
    account: str = ""  # AWS account id, GCP project or Azure subscription
    endpoint: str = ""  # the API server URL
    node_count: int = 0
    namespaces: tuple[str, ...] = field(default=())  # the team namespaces generated


def scale_for_findings(findings: int) -> int:
    """The ``scale`` that gives about ``findings`` findings per cluster (at least 1)."""
    return max(1, round((findings - FINDINGS_BASE) / FINDINGS_PER_SCALE))


def demo_fleet(
    count: int = 12, *, seed: int = 7, scale: int = 1, now: datetime
) -> list[DemoCluster]:
    """``count`` clusters, AWS, GCP and Azure in turn."""
    return [demo_cluster(i, seed=seed, scale=scale, now=now) for i in range(count)]


def demo_cluster(index: int, *, seed: int, scale: int, now: datetime) -> DemoCluster:
    """The fleet's ``index``-th cluster, generated afresh (pure: no I/O, no clock)."""
    if scale < 1:
        raise ValueError("scale is at least 1")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    provider, name, environment, region = fleet_entry(index)
    pick = int(hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()[:8], 16)
    versions = VERSIONS[provider]
    cloud = Cloud(provider, name, environment, region, versions[pick % len(versions)])
    gen = Gen(cloud, f"leftover-demo/{seed}/{index}/{scale}", now)

    platform.nodes(gen, scale)
    platform.storage_classes(gen)
    kube_system.kube_system(gen)
    argocd = environment in ("prod", "staging")
    addons.install(gen, argocd=argocd)

    density = WASTE_DENSITY[environment]
    tenants = [tenant(gen, ns, domain, argocd=argocd) for ns, domain in _namespaces(cloud, scale)]
    # One of each scenario across the cluster's namespaces, then the weighted draws.
    funcs = [f for f, _ in SCENARIOS]
    for i, t in enumerate(tenants):
        first = tuple(funcs[i :: len(tenants)])
        namespace_waste(gen, t, gen.count(WASTE_PER_NAMESPACE * density), first)

    cluster_waste.released_volumes(gen, tenants, 1 + gen.count(1.5 * scale * density))
    cluster_waste.unused_classes(gen)
    cluster_waste.stale_rbac(gen, 2 + gen.count(scale * density / 2))
    cluster_waste.stale_crds(gen)
    cluster_waste.dangling_attachment(gen, 1 + scale // 8)
    for i in range(1 + gen.count(scale * density * 0.4)):
        cluster_waste.abandoned_namespace(gen, i)
    if environment != "prod":
        cluster_waste.stuck_namespace(gen)

    snapshot = snapshot_from_objects(gen.objects, source=name)
    snapshot.cluster = ClusterInfo(
        name=name,
        server=cloud.endpoint,
        version=_git_version(cloud),
        provider=provider,
        region=region,
    )
    return DemoCluster(
        name=name,
        provider=provider,
        region=region,
        kubernetes_version=cloud.version,
        snapshot=snapshot,
        environment=environment,
        external_id=cloud.external_id,
        account=cloud.account,
        endpoint=cloud.endpoint,
        node_count=len(gen.nodes),
        namespaces=tuple(t.ns for t in tenants),
    )


def _namespaces(cloud: Cloud, scale: int) -> list[tuple[str, str]]:
    """(namespace, domain) for the team namespaces: each domain once, then once per tenant.

    Environments that leave more behind per namespace (dev, CI) run fewer namespaces per scale
    unit, so findings per cluster stay close to the model whatever the environment.
    """
    domains = ENVIRONMENT_DOMAINS[cloud.environment]
    density = WASTE_DENSITY[cloud.environment]
    count = max(3, round(NAMESPACES_PER_SCALE * scale / density))
    out: list[tuple[str, str]] = []
    for i in range(count):
        domain = domains[i % len(domains)]
        round_ = i // len(domains)
        if round_ == 0:
            ns = domain
        else:
            tenant_name = TENANTS[(round_ - 1) % len(TENANTS)]
            cycle = (round_ - 1) // len(TENANTS)
            ns = f"{domain}-{tenant_name}" + (f"-{cycle + 1}" if cycle else "")
        out.append((ns, domain))
    return out


def _git_version(cloud: Cloud) -> str:
    """The API server's gitVersion (EKS reports the minor version, GKE and AKS the patch)."""
    return f"v{cloud.version}.4-eks-2d5f260" if cloud.provider == "aws" else f"v{cloud.version}"


__all__ = ["DemoCluster", "demo_cluster", "demo_fleet", "scale_for_findings"]
