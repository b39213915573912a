"""A large synthetic cluster, as the API server would return it, for the scan benchmark.

Each namespace runs a handful of applications shaped like real ones: a Deployment with its
current and two historical ReplicaSets and running Pods, a Service with its EndpointSlice,
ConfigMaps and Secrets mounted or injected, a ServiceAccount with a Role and RoleBinding, an
HPA and a PDB on some, a StatefulSet with claims on others, NetworkPolicies, an Ingress, and
a sprinkling of leftovers (unused ConfigMaps, scaled-down workloads, Released volumes) so the
analysis has real work to do. Objects carry the annotations real ones do (the last-applied
configuration) so decoding costs what it costs in production.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

NOW = "2026-11-25T12:00:00Z"
CREATED = "2026-09-01T08:00:00Z"
_NS_UUID = uuid.UUID("6f1c1a8e-9d3b-4a57-bb52-5f0c8f3b9b11")


def _uid(*parts: str) -> str:
    return str(uuid.uuid5(_NS_UUID, "/".join(parts)))


def _meta(
    kind: str, name: str, ns: str | None, labels: dict[str, str] | None = None, **extra: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": _uid(kind, ns or "", name),
        "resourceVersion": "123456",
        "creationTimestamp": CREATED,
        "labels": labels or {},
        "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": json.dumps(
                {"kind": kind, "metadata": {"name": name, "namespace": ns, "labels": labels}}
            ),
        },
    }
    if ns is not None:
        meta["namespace"] = ns
    meta.update(extra)
    return meta


def _container(app: str, cm: str, secret: str) -> dict[str, Any]:
    return {
        "name": app,
        "image": f"registry.example.com/{app}:1.4.2",
        "args": ["--port=8080", "--log-level=info"],
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_FORMAT", "value": "json"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": secret, "key": "pw"}}},
        ],
        "envFrom": [{"configMapRef": {"name": cm}}],
        "resources": {
            "requests": {"cpu": "250m", "memory": "256Mi"},
            "limits": {"memory": "512Mi"},
        },
        "readinessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
        "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}],
    }


def _pod_spec(app: str, cm: str, secret: str, sa: str) -> dict[str, Any]:
    return {
        "serviceAccountName": sa,
        "containers": [_container(app, cm, secret)],
        "volumes": [{"name": "config", "configMap": {"name": f"{app}-files"}}],
        "imagePullSecrets": [{"name": "registry-pull"}],
    }


def _app(ns: str, app: str, i: int, rng: random.Random, nodes: list[str]) -> list[dict[str, Any]]:
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": ns}
    cm, secret, sa = f"{app}-env", f"{app}-db", app
    spec = _pod_spec(app, cm, secret, sa)
    replicas = 0 if rng.random() < 0.04 else rng.choice((2, 3))
    out: list[dict[str, Any]] = []
    dep_uid = _uid("Deployment", ns, app)
    out.append(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta("Deployment", app, ns, labels),
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {"metadata": {"labels": labels}, "spec": spec},
            },
            "status": {"replicas": replicas, "readyReplicas": replicas},
        }
    )
    for rev in range(3):
        rs_name = f"{app}-{rev:x}{i:04x}f9c"
        rs_replicas = replicas if rev == 2 else 0
        rs_labels = {**labels, "pod-template-hash": f"{rev:x}{i:04x}f9c"}
        out.append(
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "metadata": _meta(
                    "ReplicaSet",
                    rs_name,
                    ns,
                    rs_labels,
                    ownerReferences=[
                        {
                            "apiVersion": "apps/v1",
                            "kind": "Deployment",
                            "name": app,
                            "uid": dep_uid,
                            "controller": True,
                        }
                    ],
                ),
                "spec": {
                    "replicas": rs_replicas,
                    "selector": {"matchLabels": rs_labels},
                    "template": {"metadata": {"labels": rs_labels}, "spec": spec},
                },
                "status": {"replicas": rs_replicas},
            }
        )
        for p in range(rs_replicas):
            pod = f"{rs_name}-{p}x{i:03d}"
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": _meta(
                        "Pod",
                        pod,
                        ns,
                        rs_labels,
                        ownerReferences=[
                            {
                                "apiVersion": "apps/v1",
                                "kind": "ReplicaSet",
                                "name": rs_name,
                                "uid": _uid("ReplicaSet", ns, rs_name),
                                "controller": True,
                            }
                        ],
                    ),
                    "spec": {**spec, "nodeName": rng.choice(nodes)},
                    "status": {
                        "phase": "Running",
                        "podIP": f"10.{i % 250}.{p}.{rev + 1}",
                        "conditions": [{"type": "Ready", "status": "True"}],
                        "containerStatuses": [
                            {
                                "name": app,
                                "ready": True,
                                "restartCount": 0,
                                "state": {"running": {"startedAt": CREATED}},
                            }
                        ],
                    },
                }
            )
    out.append(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("Service", app, ns, labels),
            "spec": {
                "type": "ClusterIP",
                "selector": labels,
                "ports": [{"port": 80, "targetPort": 8080, "protocol": "TCP"}],
            },
        }
    )
    out.append(
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": _meta(
                "EndpointSlice",
                f"{app}-x{i:04d}",
                ns,
                {
                    "kubernetes.io/service-name": app,
                    "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
                },
            ),
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": [f"10.{i % 250}.{p}.3"], "conditions": {"ready": True}}
                for p in range(replicas)
            ],
            "ports": [{"port": 8080, "protocol": "TCP"}],
        }
    )
    for name in (cm, f"{app}-files"):
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _meta("ConfigMap", name, ns, labels),
                "data": {"settings.yaml": "x: 1\n" * 40},
            }
        )
    out.append(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": _meta("Secret", secret, ns, labels),
            "data": {"pw": "c2VjcmV0"},
        }
    )
    out.append(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta("ServiceAccount", sa, ns, labels),
        }
    )
    out.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta("Role", app, ns, labels),
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
        }
    )
    out.append(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta("RoleBinding", app, ns, labels),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": app},
            "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
        }
    )
    out.append(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta("PodDisruptionBudget", app, ns, labels),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": labels}},
        }
    )
    out.append(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta("NetworkPolicy", app, ns, labels),
            "spec": {"podSelector": {"matchLabels": labels}, "policyTypes": ["Ingress"]},
        }
    )
    if i % 3 == 0:
        out.append(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": _meta("HorizontalPodAutoscaler", app, ns, labels),
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": app},
                    "minReplicas": 2,
                    "maxReplicas": 10,
                },
            }
        )
    if rng.random() < 0.1:
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _meta("ConfigMap", f"{app}-old-settings", ns, {}),
                "data": {"k": "v"},
            }
        )
    return out


def generate(
    namespaces: int = 200, apps_per_namespace: int = 29, seed: int = 7
) -> list[dict[str, Any]]:
    """About 500 objects per namespace: 200 namespaces give roughly 100,000 objects."""
    rng = random.Random(seed)
    nodes = [f"ip-10-0-{n // 250}-{n % 250}.ec2.internal" for n in range(60)]
    objs: list[dict[str, Any]] = []
    for n in nodes:
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": _meta(
                    "Node",
                    n,
                    None,
                    {
                        "topology.kubernetes.io/region": "us-east-1",
                        "node.kubernetes.io/instance-type": "m5.xlarge",
                        "kubernetes.io/os": "linux",
                    },
                ),
                "spec": {"providerID": f"aws:///us-east-1a/i-{_uid(n)[:17]}"},
            }
        )
    objs.append(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta(
                "StorageClass",
                "gp3",
                None,
                {},
                annotations={"storageclass.kubernetes.io/is-default-class": "true"},
            ),
            "provisioner": "ebs.csi.aws.com",
            "parameters": {"type": "gp3"},
        }
    )
    for k in range(namespaces):
        ns = f"team-{k:03d}"
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": _meta("Namespace", ns, None, {"team": f"t{k % 17}"}),
                "status": {"phase": "Active"},
            }
        )
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": _meta("ServiceAccount", "default", ns),
            }
        )
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _meta("ConfigMap", "kube-root-ca.crt", ns),
                "data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n" + "A" * 1200},
            }
        )
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/dockerconfigjson",
                "metadata": _meta("Secret", "registry-pull", ns),
                "data": {".dockerconfigjson": "e30="},
            }
        )
        for i in range(apps_per_namespace):
            objs.extend(_app(ns, f"svc{i:02d}", k * apps_per_namespace + i, rng, nodes))
        pv = f"pvc-{_uid('pv', ns)}"
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": _meta("PersistentVolume", pv, None),
                "spec": {
                    "capacity": {"storage": "50Gi"},
                    "storageClassName": "gp3",
                    "persistentVolumeReclaimPolicy": "Retain",
                    "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": f"vol-{k}"},
                    "claimRef": {"namespace": ns, "name": "data-old"},
                },
                "status": {"phase": "Released" if k % 10 == 0 else "Bound"},
            }
        )
    return objs


def main() -> None:
    """Write a generated cluster as JSON: ``python -m bench.synthetic OUT [NAMESPACES APPS]``."""
    import sys

    import msgspec

    out = sys.argv[1]
    namespaces = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    apps = int(sys.argv[3]) if len(sys.argv) > 3 else 29
    objects = generate(namespaces, apps)
    with open(out, "wb") as fh:
        fh.write(msgspec.json.encode(objects))
    print(len(objects))


if __name__ == "__main__":
    main()
