"""Workloads as the controllers leave them: Deployments with their ReplicaSets and Pods,
DaemonSets, StatefulSets with bound claims and volumes, Services with EndpointSlices, Jobs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.demo.objects import Gen, Obj, Owner, owner_ref

APPS = "apps/v1"


@dataclass(slots=True)
class Workload:
    obj: Obj
    replica_set: Obj | None = None
    pods: list[Obj] = field(default_factory=list)


def container(
    name: str,
    image: str,
    *,
    cpu: str = "100m",
    memory: str = "128Mi",
    port: int | None = None,
    env: Sequence[Obj] = (),
    env_from: Sequence[Obj] = (),
    mounts: Sequence[Obj] = (),
    args: Sequence[str] = (),
) -> Obj:
    c: Obj = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"memory": memory}},
    }
    if args:
        c["args"] = list(args)
    if port:
        c["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        c["readinessProbe"] = {"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 10}
    if env:
        c["env"] = list(env)
    if env_from:
        c["envFrom"] = list(env_from)
    if mounts:
        c["volumeMounts"] = list(mounts)
    return c


def template(
    labels: dict[str, str],
    containers: Sequence[Obj],
    *,
    service_account: str | None = None,
    volumes: Sequence[Obj] = (),
    priority_class: str | None = None,
    node_selector: dict[str, str] | None = None,
    pull_secrets: Sequence[str] = (),
) -> Obj:
    spec: Obj = {"containers": list(containers), "terminationGracePeriodSeconds": 30}
    if service_account:
        spec["serviceAccountName"] = service_account
    if volumes:
        spec["volumes"] = list(volumes)
    if priority_class:
        spec["priorityClassName"] = priority_class
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": s} for s in pull_secrets]
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def running_pod(
    gen: Gen,
    ns: str,
    name: str,
    tmpl: Obj,
    *,
    owner: Obj | None,
    created: str,
    node: str | None = None,
    restarts: int = 0,
    labels: dict[str, str] | None = None,
) -> Obj:
    node = node or gen.pick(gen.nodes)
    spec = {**tmpl["spec"], "nodeName": node}
    statuses = [
        {
            "name": c["name"],
            "ready": True,
            "restartCount": restarts,
            "image": c["image"],
            "state": {"running": {"startedAt": created}},
        }
        for c in spec["containers"]
    ]
    return gen.obj(
        "v1",
        "Pod",
        gen.meta(
            "Pod",
            name,
            ns,
            created=created,
            labels={**tmpl["metadata"]["labels"], **(labels or {})},
            owners=[owner_ref(owner)] if owner else None,
        ),
        spec=spec,
        status={
            "phase": "Running",
            "podIP": gen.pod_ip(),
            "startTime": created,
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": statuses,
            "qosClass": "Burstable",
        },
    )


def deployment(
    gen: Gen,
    ns: str,
    name: str,
    tmpl: Obj,
    *,
    replicas: int,
    owner: Owner,
    created: str,
    revisions: int = 2,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> Workload:
    """A Deployment, its current ReplicaSet (with running pods) and older empty revisions."""
    dep = gen.obj(
        APPS,
        "Deployment",
        gen.meta(
            "Deployment",
            name,
            ns,
            created=created,
            owner=owner,
            labels={**tmpl["metadata"]["labels"], **(labels or {})},
            annotations={
                "deployment.kubernetes.io/revision": str(revisions),
                **(annotations or {}),
            },
        ),
        spec={
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(tmpl["metadata"]["labels"])},
            "template": tmpl,
            "strategy": {"type": "RollingUpdate"},
        },
        status={"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    )
    current: Obj | None = None
    pods: list[Obj] = []
    for rev in range(1, revisions + 1):
        latest = rev == revisions
        rs_replicas = replicas if latest else 0
        pod_hash = gen.suffix(9 + rev % 2, "rs", ns, name, rev)
        rs_labels = {**tmpl["metadata"]["labels"], "pod-template-hash": pod_hash}
        rs_tmpl = {"metadata": {"labels": rs_labels}, "spec": tmpl["spec"]}
        rs_created = created if rev == 1 else gen.since(created, 1)
        rs = gen.obj(
            APPS,
            "ReplicaSet",
            gen.meta(
                "ReplicaSet",
                f"{name}-{pod_hash}",
                ns,
                created=rs_created,
                owner=owner,
                labels=rs_labels,
                annotations={"deployment.kubernetes.io/revision": str(rev)},
                owners=[owner_ref(dep)],
            ),
            spec={
                "replicas": rs_replicas,
                "selector": {"matchLabels": rs_labels},
                "template": rs_tmpl,
            },
            status={"replicas": rs_replicas, "readyReplicas": rs_replicas},
        )
        if latest:
            current = rs
            for _ in range(rs_replicas):
                pod_name = f"{rs['metadata']['name']}-{gen.suffix(5, 'pod', ns, name, len(pods))}"
                pods.append(
                    running_pod(
                        gen,
                        ns,
                        pod_name,
                        rs_tmpl,
                        owner=rs,
                        created=gen.since(max(rs_created, gen.ago(20)), 0.2),
                    )
                )
    return Workload(dep, current, pods)


def daemonset(
    gen: Gen,
    ns: str,
    name: str,
    tmpl: Obj,
    *,
    owner: Owner,
    created: str,
    nodes: Sequence[str] | None = None,
    labels: dict[str, str] | None = None,
) -> Workload:
    """A DaemonSet with one running pod on each of ``nodes`` (every node by default)."""
    targets = list(gen.nodes if nodes is None else nodes)
    ds = gen.obj(
        APPS,
        "DaemonSet",
        gen.meta(
            "DaemonSet",
            name,
            ns,
            created=created,
            owner=owner,
            labels={**tmpl["metadata"]["labels"], **(labels or {})},
        ),
        spec={
            "selector": {"matchLabels": dict(tmpl["metadata"]["labels"])},
            "template": tmpl,
            "updateStrategy": {"type": "RollingUpdate"},
        },
        status={
            "desiredNumberScheduled": len(targets),
            "currentNumberScheduled": len(targets),
            "numberReady": len(targets),
        },
    )
    pods = [
        running_pod(
            gen,
            ns,
            f"{name}-{gen.suffix(5, 'ds', ns, name, node)}",
            tmpl,
            owner=ds,
            created=gen.since(max(created, gen.ago(30)), 0.5),
            node=node,
        )
        for node in targets
    ]
    return Workload(ds, None, pods)


def service(
    gen: Gen,
    ns: str,
    name: str,
    selector: dict[str, str] | None,
    *,
    owner: Owner,
    created: str,
    port: int = 80,
    target_port: int = 8080,
    endpoints: Sequence[Obj] = (),
    kind: str = "ClusterIP",
    headless: bool = False,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    slice_: bool = True,
) -> Obj:
    """A Service and, when it has a selector (or ``slice_``), its EndpointSlice listing the
    ready pods among ``endpoints``."""
    spec: Obj = {
        "type": kind,
        "ports": [{"name": "http", "port": port, "targetPort": target_port, "protocol": "TCP"}],
        "sessionAffinity": "None",
    }
    if selector is not None:
        spec["selector"] = dict(selector)
    if headless:
        spec["clusterIP"] = "None"
    else:
        spec["clusterIP"] = f"172.20.{int(gen.hexid(2, 'svc', ns, name), 16)}.{len(name) * 7 % 250}"
    svc_status: Obj = {}
    if kind == "LoadBalancer":
        spec["externalTrafficPolicy"] = "Cluster"
        svc_status = {"loadBalancer": {"ingress": [gen.cloud.lb_address(ns, name)]}}
    svc = gen.obj(
        "v1",
        "Service",
        gen.meta(
            "Service",
            name,
            ns,
            created=created,
            owner=owner,
            labels=labels or (dict(selector) if selector else None),
            annotations=annotations,
        ),
        spec=spec,
        status=svc_status,
    )
    if selector is not None and slice_:
        endpoint_slice(gen, ns, name, endpoints, created=created, port=target_port)
    return svc


def endpoint_slice(
    gen: Gen, ns: str, service_name: str, pods: Sequence[Obj], *, created: str, port: int
) -> Obj:
    eps: list[Obj] = [
        {
            "addresses": [p["status"]["podIP"]],
            "conditions": {"ready": True, "serving": True, "terminating": False},
            "nodeName": p["spec"]["nodeName"],
            "targetRef": {"kind": "Pod", "name": p["metadata"]["name"], "namespace": ns},
        }
        for p in pods
        if p["status"].get("phase") == "Running"
    ]
    return gen.obj(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        gen.meta(
            "EndpointSlice",
            f"{service_name}-{gen.suffix(5, 'eps', ns, service_name)}",
            ns,
            created=created,
            labels={
                "kubernetes.io/service-name": service_name,
                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            },
        ),
        addressType="IPv4",
        endpoints=eps,
        ports=[{"name": "http", "port": port, "protocol": "TCP"}],
    )
