"""Every waste pattern of RULES.md, added to a simulated cluster, with the findings it must cause.

``add_all_waste(cluster)`` builds two namespaces: ``shop`` (a live storefront surrounded by
leftovers) and ``legacy`` (abandoned: nothing in it runs), plus cluster-scoped leftovers, and
returns a ``Waste``: the expected findings and the objects that must never be reported.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import timedelta
from typing import NamedTuple

from tests.clusters.platforms import (
    cluster_role,
    container,
    crb,
    crd,
    deployment,
    ns_obj,
    pod_template,
    rb,
    role,
    sa,
    secret,
    service,
    subj,
)
from tests.clusters.sim import Cluster, Obj, digest, owner_ref, safe_suffix, ts

Ref = tuple[str, str | None, str]  # (kind, namespace, name)


class Expected(NamedTuple):
    """A finding the engine must report.

    ``rule``: the rule id; ``a|b`` accepts either.
    ``cascade``: True → cascade_from must name (at least) ``cascade_from``; False → it must be
    empty; None → either. ``low``: the finding must be LOW confidence (known indirect user);
    otherwise it must be MEDIUM or HIGH. ``costly``: monthly_cost_usd must be > 0.
    """

    kind: str
    namespace: str | None
    name: str
    rule: str
    cascade: bool | None = False
    cascade_from: tuple[Ref, ...] = ()
    low: bool = False
    costly: bool = False

    @property
    def ref(self) -> Ref:
        return (self.kind, self.namespace, self.name)


@dataclass
class Waste:
    expected: list[Expected] = field(default_factory=list)
    absent: list[Ref] = field(default_factory=list)  # never reported, at any confidence

    def add(self, *items: Expected) -> None:
        self.expected.extend(items)

    def never(self, *refs: Ref) -> None:
        self.absent.extend(refs)


PREMIUM_CLASS = {
    "aws": "gp3",
    "gcp": "premium-rwo",
    "azure": "managed-csi-premium",
    None: "standard",
}


def _premium_class(c: Cluster) -> Obj:
    name = PREMIUM_CLASS[c.provider]
    sc = c.get("StorageClass", None, name)
    if sc is None:
        c.apply(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": name},
                "provisioner": "rancher.io/local-path",
                "reclaimPolicy": "Delete",
                "volumeBindingMode": "WaitForFirstConsumer",
            }
        )
        sc = c.require("StorageClass", None, name)
    return sc


def bound_claim(
    c: Cluster,
    ns: str,
    name: str,
    size: str,
    *,
    sc: Obj | None = None,
    labels: dict[str, str] | None = None,
    age_days: int = 60,
) -> Obj:
    """A PVC that was mounted once (so it is Bound to a provisioned PV) and is now left over."""
    sc = sc or c.default_storage_class() or _premium_class(c)
    created = c.now - timedelta(days=age_days)
    pvc = c.apply(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": sc["metadata"]["name"],
                "resources": {"requests": {"storage": size}},
            },
        },
        created=created,
    )[0]
    zone = c.nodes[0]["metadata"]["labels"]["topology.kubernetes.io/zone"]
    pv = c.provision_pv(
        f"pvc-{pvc['metadata']['uid']}",
        sc,
        size,
        ["ReadWriteOnce"],
        pvc,
        zone,
        created + timedelta(seconds=4),
    )
    pvc["spec"]["volumeName"] = pv["metadata"]["name"]
    pvc["metadata"]["annotations"] = {
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes",
        "volume.beta.kubernetes.io/storage-provisioner": sc["provisioner"],
        "volume.kubernetes.io/storage-provisioner": sc["provisioner"],
        "volume.kubernetes.io/selected-node": c.nodes[0]["metadata"]["name"],
    }
    pvc["status"] = {
        "phase": "Bound",
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": size},
    }
    return pvc


def _cm(ns: str, name: str, labels: dict[str, str] | None = None) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels or {}},
        "data": {"k": "v"},
    }


def _hpa(ns: str, name: str, kind: str, target: str, api_version: str = "apps/v1") -> Obj:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": target},
            "minReplicas": 1,
            "maxReplicas": 5,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def _ingress(ns: str, name: str, backend: str) -> Obj:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "ingressClassName": "nginx",
            "rules": [
                {
                    "host": f"{name}.example.com",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": backend, "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ],
        },
    }


# --- the live part of ``shop`` --------------------------------------------------------------


def add_storefront(c: Cluster) -> None:
    """A live app whose neighbours are the leftovers (so ``shop`` itself is not abandoned)."""
    ns = "shop"
    when = c.now - timedelta(days=120)
    c.apply(ns_obj(ns), created=when)
    labels = {
        "app": "storefront",
        "app.kubernetes.io/name": "storefront",
        "app.kubernetes.io/part-of": "storefront",
    }
    tpl = pod_template(
        labels,
        [
            container(
                "web",
                "ghcr.io/acme/storefront:2.14.1",
                ["--listen=:8080", "--configmap=shop/router-config"],
                ports=[{"name": "http", "containerPort": 8080}],
                envFrom=[{"configMapRef": {"name": "storefront-config"}}],
                env=[
                    {
                        "name": "DB_PASSWORD",
                        "valueFrom": {"secretKeyRef": {"name": "storefront-db", "key": "password"}},
                    }
                ],
                resources={"requests": {"cpu": "250m", "memory": "512Mi"}},
            )
        ],
        serviceAccountName="storefront",
        volumes=[{"name": "flags", "configMap": {"name": "storefront-flags"}}],
    )
    c.apply(
        [
            sa(ns, "storefront", labels),
            _cm(ns, "storefront-config", labels),
            secret(ns, "storefront-db", labels=labels),
            deployment(ns, "storefront", labels, tpl, replicas=2, selector={"app": "storefront"}),
            service(ns, "storefront", {"app": "storefront"}, [("http", 80, "http")], labels),
            deployment(
                ns,
                "worker",
                {"app": "worker"},
                pod_template(
                    {"app": "worker"},
                    [
                        container(
                            "worker",
                            "ghcr.io/acme/worker:1.3.0",
                            resources={"requests": {"cpu": "500m", "memory": "1Gi"}},
                        )
                    ],
                ),
                replicas=1,
            ),
            sa(ns, "build-bot"),
            role(ns, "build-bot"),
            rb(ns, "build-bot", "Role", "build-bot", [subj("ServiceAccount", "build-bot", ns)]),
        ],
        created=when,
    )
    c.settle()


# --- the patterns ---------------------------------------------------------------------------


def add_all_waste(c: Cluster) -> Waste:
    """Add every waste pattern (and its controls) to a settled cluster; returns what to expect."""
    w = Waste()
    add_storefront(c)
    ns = "shop"
    now = c.now
    old = now - timedelta(days=90)

    # ConfigMap / Secret nobody references
    c.apply([_cm(ns, "old-feature-flags"), secret(ns, "old-api-key")], created=old)
    w.add(
        Expected("ConfigMap", ns, "old-feature-flags", "configmap-unused"),
        Expected("Secret", ns, "old-api-key", "secret-unused"),
    )

    # A Deployment scaled to 0: it and everything only it references (cascading orphans)
    rep_labels = {"app": "reports"}
    c.apply(
        [
            _cm(ns, "reports-config"),
            secret(ns, "reports-db"),
            sa(ns, "reports"),
            deployment(
                ns,
                "reports",
                rep_labels,
                pod_template(
                    rep_labels,
                    [
                        container(
                            "reports",
                            "ghcr.io/acme/reports:0.9.2",
                            envFrom=[{"secretRef": {"name": "reports-db"}}],
                        )
                    ],
                    serviceAccountName="reports",
                    volumes=[
                        {"name": "config", "configMap": {"name": "reports-config"}},
                        {"name": "data", "persistentVolumeClaim": {"claimName": "reports-data"}},
                    ],
                ),
                replicas=0,
            ),
        ],
        created=old,
    )
    bound_claim(c, ns, "reports-data", "20Gi")
    dep = ("Deployment", ns, "reports")
    w.add(
        Expected("Deployment", ns, "reports", "workload-scaled-to-zero"),
        Expected("ConfigMap", ns, "reports-config", "configmap-unused", True, (dep,)),
        Expected("Secret", ns, "reports-db", "secret-unused", True, (dep,)),
        Expected("ServiceAccount", ns, "reports", "serviceaccount-unused", True, (dep,)),
        Expected(
            "PersistentVolumeClaim", ns, "reports-data", "pvc-unused", True, (dep,), costly=True
        ),
    )

    # A StatefulSet scaled to 0 keeps its claims (retention policy Retain)
    search_labels = {"app": "search"}
    c.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "search", "namespace": ns, "labels": search_labels},
            "spec": {
                "replicas": 0,
                "serviceName": "search",
                "selector": {"matchLabels": search_labels},
                "template": pod_template(
                    search_labels,
                    [container("search", "docker.io/opensearchproject/opensearch:2.17.1")],
                ),
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "50Gi"}},
                        },
                    }
                ],
            },
        },
        created=old,
    )
    bound_claim(c, ns, "data-search-0", "50Gi", labels=search_labels)
    sts = ("StatefulSet", ns, "search")
    w.add(
        Expected("StatefulSet", ns, "search", "workload-scaled-to-zero"),
        Expected(
            "PersistentVolumeClaim", ns, "data-search-0", "pvc-unused", True, (sts,), costly=True
        ),
    )

    # Services without endpoints
    c.apply(
        [
            service(ns, "payments-v1", {"app": "payments-v1"}, [("http", 80, 8080)]),
            service(ns, "promo-lb", {"app": "promo"}, [("http", 80, 8080)], type="LoadBalancer"),
            service(ns, "external-db", None, [("pg", 5432, 5432)]),
            # controls: a selector-less Service with hand-made endpoints, an ExternalName Service
            service(ns, "legacy-crm", None, [("https", 443, 443)]),
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "maps-api", "namespace": ns},
                "spec": {"type": "ExternalName", "externalName": "maps.googleapis.com"},
            },
        ],
        created=old,
    )
    c.endpoint_slice(
        c.require("Service", ns, "legacy-crm"),
        [("10.20.30.40", None)],
        managed_by="staff",
        ports=[{"name": "https", "port": 443, "protocol": "TCP"}],
        name="legacy-crm-1",
    )
    w.add(
        Expected("Service", ns, "payments-v1", "service-no-endpoints"),
        Expected("Service", ns, "promo-lb", "service-no-endpoints", costly=True),
        Expected("Service", ns, "external-db", "service-no-endpoints"),
    )
    w.never(
        ("Service", ns, "legacy-crm"), ("Service", ns, "maps-api"), ("Service", ns, "storefront")
    )

    # Ingresses: a missing backend; a backend that is itself unused (cascading)
    c.apply(
        [
            _ingress(ns, "old-landing", "landing"),
            _ingress(ns, "payments", "payments-v1"),
            _ingress(ns, "storefront", "storefront"),
        ],
        created=old,
    )
    w.add(
        Expected("Ingress", ns, "old-landing", "ingress-no-backend"),
        Expected(
            "Ingress", ns, "payments", "ingress-no-backend", True, (("Service", ns, "payments-v1"),)
        ),
    )
    w.never(("Ingress", ns, "storefront"))

    # A legacy token Secret whose ServiceAccount is gone; control: one whose SA exists
    c.apply(
        [
            secret(
                ns,
                "ci-deployer-token",
                "kubernetes.io/service-account-token",
                ann={
                    "kubernetes.io/service-account.name": "ci-deployer",
                    "kubernetes.io/service-account.uid": c.uid("sa", "ci-deployer"),
                },
            ),
            secret(
                ns,
                "build-bot-token",
                "kubernetes.io/service-account-token",
                ann={
                    "kubernetes.io/service-account.name": "build-bot",
                    "kubernetes.io/service-account.uid": c.require(
                        "ServiceAccount", ns, "build-bot"
                    )["metadata"]["uid"],
                },
            ),
        ],
        created=old,
    )
    w.add(Expected("Secret", ns, "ci-deployer-token", "secret-sa-token-orphaned"))
    w.never(("Secret", ns, "build-bot-token"), ("ServiceAccount", ns, "build-bot"))

    # Control: replicas 0 with an HPA is not reported, but the HPA, whose target is idle, is
    c.apply(
        [
            deployment(
                ns,
                "batch-worker",
                {"app": "batch-worker"},
                pod_template({"app": "batch-worker"}, [container("w", "ghcr.io/acme/batch:3.1.0")]),
                replicas=0,
            ),
            _hpa(ns, "batch-worker", "Deployment", "batch-worker"),
            _hpa(ns, "legacy-api", "Deployment", "legacy-api"),
            _hpa(
                ns, "storefront-sts", "StatefulSet", "storefront"
            ),  # kind-aware: it is a Deployment
            _hpa(ns, "storefront", "Deployment", "storefront"),
        ],
        created=old,
    )
    w.add(
        Expected("HorizontalPodAutoscaler", ns, "batch-worker", "hpa-target-idle", None),
        Expected("HorizontalPodAutoscaler", ns, "legacy-api", "hpa-target-missing"),
        Expected("HorizontalPodAutoscaler", ns, "storefront-sts", "hpa-target-missing"),
    )
    w.never(
        ("Deployment", ns, "batch-worker"),
        ("HorizontalPodAutoscaler", ns, "storefront"),
        ("Deployment", ns, "storefront"),
    )

    # A ReplicaSet left behind by a deleted Deployment
    gone_uid = c.uid("apps", "Deployment", ns, "checkout")
    rs_tpl = pod_template(
        {"app": "checkout", "pod-template-hash": "7d9f8b6c5c"},
        [container("checkout", "ghcr.io/acme/checkout:1.0.0")],
    )
    c.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": "checkout-7d9f8b6c5c",
                "namespace": ns,
                "labels": {"app": "checkout", "pod-template-hash": "7d9f8b6c5c"},
                "annotations": {
                    "deployment.kubernetes.io/revision": "3",
                    "deployment.kubernetes.io/desired-replicas": "1",
                    "deployment.kubernetes.io/max-replicas": "2",
                },
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "checkout",
                        "uid": gone_uid,
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "checkout", "pod-template-hash": "7d9f8b6c5c"}},
                "template": rs_tpl,
            },
        },
        created=old,
    )
    w.add(Expected("ReplicaSet", ns, "checkout-7d9f8b6c5c", "replicaset-orphaned"))

    # A DaemonSet that fits no node, and the ConfigMap only it uses
    c.apply(
        [
            _cm(ns, "gpu-monitor-config"),
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": "gpu-monitor", "namespace": ns},
                "spec": {
                    "selector": {"matchLabels": {"app": "gpu-monitor"}},
                    "template": pod_template(
                        {"app": "gpu-monitor"},
                        [container("mon", "nvcr.io/nvidia/k8s/dcgm-exporter:3.3.8")],
                        nodeSelector={"nvidia.com/gpu.present": "true"},
                        volumes=[{"name": "cfg", "configMap": {"name": "gpu-monitor-config"}}],
                    ),
                },
            },
        ],
        created=old,
    )
    ds = ("DaemonSet", ns, "gpu-monitor")
    w.add(
        Expected("DaemonSet", ns, "gpu-monitor", "daemonset-unscheduled"),
        Expected("ConfigMap", ns, "gpu-monitor-config", "configmap-unused", True, (ds,)),
    )

    # Jobs: finished 10 days ago (reported, with its Secret cascading); 2 days ago (not yet)
    job_tpl = pod_template(
        {"app": "db-migrate"},
        [
            container(
                "migrate",
                "ghcr.io/acme/migrate:5.0.0",
                envFrom=[{"secretRef": {"name": "migrate-creds"}}],
            )
        ],
        restartPolicy="Never",
    )
    c.apply(secret(ns, "migrate-creds"), created=now - timedelta(days=11))
    c.apply(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "db-migrate-2024", "namespace": ns},
            "spec": {"template": job_tpl},
        },
        created=now - timedelta(days=10),
    )
    recent_tpl = pod_template(
        {"app": "db-seed"}, [container("seed", "ghcr.io/acme/migrate:5.0.0")], restartPolicy="Never"
    )
    c.apply(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "db-seed", "namespace": ns},
            "spec": {"template": recent_tpl},
        },
        created=now - timedelta(days=2),
    )
    job = ("Job", ns, "db-migrate-2024")
    w.add(
        Expected("Job", ns, "db-migrate-2024", "job-finished"),
        Expected("Secret", ns, "migrate-creds", "secret-unused", True, (job,)),
    )
    w.never(("Job", ns, "db-seed"))

    # A CronJob suspended for 30 days; its history Job (owned by it) is not a finished-Job finding
    suspended_at = now - timedelta(days=30)
    cj = c.apply(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "nightly-report", "namespace": ns},
            "spec": {
                "schedule": "0 2 * * *",
                "suspend": True,
                "jobTemplate": {
                    "spec": {
                        "template": pod_template(
                            {"app": "nightly-report"},
                            [container("report", "ghcr.io/acme/reports:0.9.2")],
                            restartPolicy="OnFailure",
                            volumes=[{"name": "tpl", "configMap": {"name": "report-template"}}],
                        )
                    }
                },
            },
            "status": {
                "lastScheduleTime": ts(suspended_at.replace(hour=2, minute=0, second=0)),
                "lastSuccessfulTime": ts(suspended_at.replace(hour=2, minute=1, second=3)),
            },
        },
        created=now - timedelta(days=200),
    )[0]
    c.apply(_cm(ns, "report-template"), created=now - timedelta(days=200))
    hist = copy.deepcopy(cj["spec"]["jobTemplate"])
    c.apply(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {
                "name": f"nightly-report-{int(suspended_at.timestamp() // 60)}",
                "namespace": ns,
                "ownerReferences": [owner_ref(cj)],
            },
            "spec": hist["spec"],
        },
        created=suspended_at.replace(hour=2, minute=0, second=0),
    )
    cron = ("CronJob", ns, "nightly-report")
    w.add(
        Expected("CronJob", ns, "nightly-report", "cronjob-suspended"),
        Expected("ConfigMap", ns, "report-template", "configmap-unused", True, (cron,)),
    )
    w.never(("Job", ns, f"nightly-report-{int(suspended_at.timestamp() // 60)}"))

    # Control: a PDB with matchExpressions that matches the storefront; a NetworkPolicy for all pods
    c.apply(
        [
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "storefront", "namespace": ns},
                "spec": {
                    "minAvailable": 1,
                    "selector": {
                        "matchExpressions": [
                            {"key": "app", "operator": "In", "values": ["storefront", "web"]}
                        ]
                    },
                },
            },
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": {"name": "old-api", "namespace": ns},
                "spec": {
                    "maxUnavailable": 1,
                    "selector": {
                        "matchLabels": {"tier": "api"},
                        "matchExpressions": [
                            {"key": "app", "operator": "In", "values": ["storefront"]}
                        ],
                    },
                },
            },
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": ns},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
            },
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "allow-legacy", "namespace": ns},
                "spec": {
                    "podSelector": {"matchLabels": {"app": "legacy"}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": [{"podSelector": {}}]}],
                },
            },
        ],
        created=old,
    )
    w.add(
        Expected("PodDisruptionBudget", ns, "old-api", "pdb-matches-nothing"),
        Expected("NetworkPolicy", ns, "allow-legacy", "networkpolicy-matches-nothing"),
    )
    w.never(("PodDisruptionBudget", ns, "storefront"), ("NetworkPolicy", ns, "default-deny"))

    # Storage: an unmounted premium 100Gi claim; a claim that can never bind; loose volumes
    premium = _premium_class(c)
    bound_claim(c, ns, "uploads-old", "100Gi", sc=premium, age_days=45)
    c.apply(
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "scratch", "namespace": ns},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "fast-nvme",
                "resources": {"requests": {"storage": "10Gi"}},
            },
        },
        created=old,
    )
    zone = c.nodes[0]["metadata"]["labels"]["topology.kubernetes.io/zone"]
    released_claim = {
        "metadata": {
            "name": "old-db-data",
            "namespace": ns,
            "uid": c.uid("pvc", "old-db-data"),
            "resourceVersion": "4711",
        }
    }
    released = c.provision_pv(
        "pvc-" + c.uid("pvc", "old-db-data"),
        premium,
        "80Gi",
        ["ReadWriteOnce"],
        released_claim,
        zone,
        now - timedelta(days=70),
        phase="Released",
    )
    released["spec"]["persistentVolumeReclaimPolicy"] = "Retain"
    available = c.provision_pv(
        "pv-nfs-archive", premium, "200Gi", ["ReadWriteOnce"], None, zone, now - timedelta(days=70)
    )
    available["spec"]["persistentVolumeReclaimPolicy"] = "Retain"
    available["metadata"]["annotations"] = {}
    w.add(
        Expected("PersistentVolumeClaim", ns, "uploads-old", "pvc-unused", costly=True),
        Expected("PersistentVolumeClaim", ns, "scratch", "pvc-pending"),
        Expected("PersistentVolume", None, released["metadata"]["name"], "pv-unbound", costly=True),
        Expected("PersistentVolume", None, "pv-nfs-archive", "pv-unbound", costly=True),
    )

    # A StorageClass nobody uses; a PriorityClass nobody uses; a CRD group with no instances
    c.apply(
        [
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": "fast-ssd-old"},
                "provisioner": premium["provisioner"],
                "parameters": dict(premium.get("parameters") or {}),
                "reclaimPolicy": "Retain",
                "volumeBindingMode": "WaitForFirstConsumer",
            },
            {
                "apiVersion": "scheduling.k8s.io/v1",
                "kind": "PriorityClass",
                "metadata": {"name": "batch-low"},
                "value": 100,
                "globalDefault": False,
                "description": "batch jobs",
            },
            crd("widgets.legacy.example.com", "Widget", ("v1alpha1", "v1"), "Namespaced"),
        ],
        created=old,
    )
    w.add(
        Expected("StorageClass", None, "fast-ssd-old", "storageclass-unused"),
        Expected("PriorityClass", None, "batch-low", "priorityclass-unused"),
        Expected(
            "CustomResourceDefinition", None, "widgets.legacy.example.com", "crd-no-instances"
        ),
    )

    # RBAC leftovers
    c.apply(
        [
            role(ns, "old-deployer"),
            cluster_role("old-namespace-reader"),
            rb(ns, "ci-binding", "Role", "ci-role", [subj("Group", "ci-runners")]),
            crb(
                "old-ci-admin",
                "cluster-admin",
                [subj("ServiceAccount", "old-runner", "ci"), subj("ServiceAccount", "ghost", ns)],
            ),
        ],
        created=old,
    )
    w.add(
        Expected("Role", ns, "old-deployer", "role-unbound"),
        Expected("ClusterRole", None, "old-namespace-reader", "role-unbound"),
        Expected("RoleBinding", ns, "ci-binding", "binding-role-missing"),
        Expected("ClusterRoleBinding", None, "old-ci-admin", "binding-subjects-missing"),
    )

    c.settle()  # controllers run; what follows is state no controller repairs

    # Pods: evicted, completed without a Job, crash-looping, and one whose ReplicaSet is gone
    rs = next(
        r
        for r in c.items("ReplicaSet", ns)
        if r["metadata"]["name"].startswith("storefront-") and r["spec"]["replicas"] > 0
    )
    evicted = c.make_pod(
        f"{rs['metadata']['name']}-{safe_suffix('evicted', 5)}",
        ns,
        rs["spec"]["template"],
        owner=rs,
        phase="Failed",
        created=now - timedelta(days=9),
    )
    evicted["status"].update(
        {
            "reason": "Evicted",
            "message": "The node was low on resource: memory. Threshold quantity: 100Mi, available: 91340Ki.",  # noqa: E501
        }
    )
    evicted["status"]["containerStatuses"][0]["state"] = {
        "terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown"}
    }
    debug = c.make_pod(
        "debug-shell",
        ns,
        pod_template(
            {"run": "debug-shell"},
            [container("debug-shell", "busybox:1.36", command=["sh", "-c", "nslookup storefront"])],
            restartPolicy="Never",
        ),
        owner=None,
        phase="Succeeded",
        created=now - timedelta(days=5),
    )
    crash = next(
        p for p in c.items("Pod", ns) if (p["metadata"].get("labels") or {}).get("app") == "worker"
    )
    cs = crash["status"]["containerStatuses"][0]
    cs.update(
        {
            "ready": False,
            "started": False,
            "restartCount": 50,
            "state": {
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 5m0s restarting failed container=worker",
                }
            },
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
        }
    )
    for cond in crash["status"]["conditions"]:
        if cond["type"] in ("Ready", "ContainersReady"):
            cond.update({"status": "False", "reason": "ContainersNotReady"})
    fake_rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": "orphan-worker-5d8f7c9b4",
            "uid": c.uid("apps", "ReplicaSet", ns, "orphan-worker-5d8f7c9b4"),
        },
    }
    orphan = c.make_pod(
        "orphan-worker-5d8f7c9b4-x2v9k",
        ns,
        pod_template(
            {"app": "orphan-worker", "pod-template-hash": "5d8f7c9b4"},
            [container("w", "ghcr.io/acme/worker:0.1.0")],
        ),
        owner=fake_rs,
        created=now - timedelta(days=20),
    )
    w.add(
        Expected("Pod", ns, evicted["metadata"]["name"], "pod-failed"),
        Expected("Pod", ns, debug["metadata"]["name"], "pod-completed"),
        Expected("Pod", ns, crash["metadata"]["name"], "pod-crashloop", costly=True),
        Expected("Pod", ns, orphan["metadata"]["name"], "owner-missing"),
    )
    w.never(("Deployment", ns, "worker"))

    # A VolumeAttachment whose PV is gone
    node = c.nodes[-1]["metadata"]["name"]
    driver = premium["provisioner"]
    gone_pv = "pvc-" + c.uid("pv", "gone")
    c.add(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "VolumeAttachment",
            "metadata": {
                "name": "csi-" + digest(gone_pv, driver, node),
                "finalizers": [f"external-attacher/{driver.replace('.', '-')}"],
            },
            "spec": {
                "attacher": driver,
                "nodeName": node,
                "source": {"persistentVolumeName": gone_pv},
            },
            "status": {"attached": True},
        },
        now - timedelta(days=12),
    )
    w.add(
        Expected(
            "VolumeAttachment",
            None,
            "csi-" + digest(gone_pv, driver, node),
            "volumeattachment-dangling",
        )
    )

    # Stuck in deletion for 3 hours (a finalizer nobody removes)
    stuck = c.apply(_cm(ns, "stuck-export"), created=old)[0]
    stuck["metadata"]["deletionTimestamp"] = ts(now - timedelta(hours=3))
    stuck["metadata"]["deletionGracePeriodSeconds"] = 0
    stuck["metadata"]["finalizers"] = ["export.acme.io/flush"]
    w.add(Expected("ConfigMap", ns, "stuck-export", "stuck-deletion", None))

    # Label overrides
    c.apply(
        [
            _cm(ns, "keep-me", {"leftover.dev/ignore": "true"}),
            secret(ns, "kor-keep", labels={"kor/used": "true"}),
            _cm(ns, "storefront-flags", {"kor/used": "false"}),  # mounted by the storefront
        ],
        created=old,
    )
    w.never(("ConfigMap", ns, "keep-me"), ("Secret", ns, "kor-keep"))
    w.add(Expected("ConfigMap", ns, "storefront-flags", "configmap-unused|labelled-unused"))

    # Known indirect users: low confidence, never silent, never high
    c.apply(
        [
            _cm(
                ns, "router-config"
            ),  # named in the storefront's args: --configmap=shop/router-config
            _cm(ns, "storefront-dashboard", {"grafana_dashboard": "1"}),
            secret(ns, "storefront-webhook", labels={"app.kubernetes.io/part-of": "storefront"}),
        ],
        created=old,
    )
    w.add(
        Expected("ConfigMap", ns, "router-config", "configmap-unused", low=True),
        Expected("ConfigMap", ns, "storefront-dashboard", "configmap-unused", low=True),
        Expected("Secret", ns, "storefront-webhook", "secret-unused", low=True),
    )
    w.never(
        ("ConfigMap", ns, "storefront-config"),
        ("Secret", ns, "storefront-db"),
        ("ServiceAccount", ns, "storefront"),
    )

    add_abandoned_namespace(c, w)
    c.settle()
    return w


def add_abandoned_namespace(c: Cluster, w: Waste) -> None:
    """``legacy``: a scaled-down app and its leftovers; nothing in it will run."""
    ns = "legacy"
    when = c.now - timedelta(days=200)
    c.apply(ns_obj(ns), created=when)
    labels = {"app": "old-api"}
    c.apply(
        [
            _cm(ns, "old-api-config"),
            deployment(
                ns,
                "old-api",
                labels,
                pod_template(
                    labels,
                    [container("api", "ghcr.io/acme/old-api:0.4.2")],
                    volumes=[{"name": "cfg", "configMap": {"name": "old-api-config"}}],
                ),
                replicas=0,
            ),
            service(ns, "old-api", labels, [("http", 80, 8080)]),
        ],
        created=when,
    )
    dep = ("Deployment", ns, "old-api")
    w.add(
        Expected("Namespace", None, ns, "namespace-abandoned"),
        Expected("Deployment", ns, "old-api", "workload-scaled-to-zero"),
        Expected("ConfigMap", ns, "old-api-config", "configmap-unused", True, (dep,)),
        Expected("Service", ns, "old-api", "service-no-endpoints", None),
    )
    w.never(("ServiceAccount", ns, "default"), ("ConfigMap", ns, "kube-root-ca.crt"))
