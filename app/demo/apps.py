"""Live applications: each a workload with the Service, configuration, identity, RBAC,
autoscaler, disruption budget and network policy a real team ships with it."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.demo.objects import Gen, Obj, Owner, rbac_rule, role_ref, sa_subject
from app.demo.storage import statefulset
from app.demo.workloads import (
    Workload,
    container,
    daemonset,
    deployment,
    service,
    template,
)


@dataclass(frozen=True, slots=True)
class Part:
    """One application: what it runs and what it comes with."""

    name: str
    image: str  # "shop/cart" (the cluster's registry) or a full third-party reference
    version: str = "1.4.2"
    kind: str = "Deployment"  # Deployment | DaemonSet | StatefulSet
    replicas: int = 2
    port: int | None = 8080
    cpu: str = "100m"
    memory: str = "256Mi"
    configs: tuple[str, ...] | None = None  # envFrom ConfigMaps; None: "<name>-config"
    secrets: tuple[str, ...] | None = None  # env Secrets; None: "<name>-credentials"
    files: tuple[str, ...] = ()  # ConfigMaps mounted as files
    service: str | None = ""  # "" → the part's name, None → no Service
    lb: bool = False
    cluster_role: bool = False
    leader_election: bool = False
    hpa: bool = False
    pdb: bool = False
    size_gi: int = 0  # StatefulSet claim size
    selector_key: str = "app.kubernetes.io/name"
    priority_class: str | None = None


@dataclass(slots=True)
class Built:
    workload: Workload
    labels: dict[str, str]
    service: Obj | None = None
    configs: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)


def image_of(gen: Gen, part: Part) -> str:
    if "/" in part.image and "." in part.image.split("/", 1)[0]:
        return f"{part.image}:{part.version}"
    return f"{gen.cloud.registry}/{part.image}:{part.version}"


def build(
    gen: Gen,
    ns: str,
    part: Part,
    owner: Owner,
    *,
    created: str,
    labels: dict[str, str] | None = None,
    pull_secret: str | None = None,
    replicas: int | None = None,
    storage_class: str | None = None,
) -> Built:
    """The part's workload and everything it references, all in use."""
    sel = {part.selector_key: part.name}
    # Pods carry the release and team labels too (what dashboards and cost tools group by).
    pod_labels = {
        k: owner.labels[k] for k in ("app.kubernetes.io/instance", "team") if k in owner.labels
    }
    pod_labels |= sel | (labels or {})
    configs = list(part.configs if part.configs is not None else (f"{part.name}-config",))
    secrets = list(part.secrets if part.secrets is not None else (f"{part.name}-credentials",))
    for cm in (*configs, *part.files):
        gen.obj(
            "v1",
            "ConfigMap",
            gen.meta("ConfigMap", cm, ns, created=created, owner=owner, labels=sel),
            data={"LOG_LEVEL": "info", "PORT": str(part.port or 8080)},
        )
    for sec in secrets:
        gen.obj(
            "v1",
            "Secret",
            gen.meta("Secret", sec, ns, created=created, owner=owner, labels=sel),
            type="Opaque",
            data={"password": "cmVkYWN0ZWQ="},
        )
    sa = part.name
    gen.obj(
        "v1", "ServiceAccount", gen.meta("ServiceAccount", sa, ns, created=created, owner=owner)
    )
    env = [
        {
            "name": "DATABASE_PASSWORD" if i == 0 else f"{s.upper().replace('-', '_')}_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": s, "key": "password"}},
        }
        for i, s in enumerate(secrets)
    ]
    env.append(
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}
    )
    volumes = [{"name": f"files-{i}", "configMap": {"name": f}} for i, f in enumerate(part.files)]
    mounts = [
        {"name": v["name"], "mountPath": f"/etc/{part.name}/{i}"} for i, v in enumerate(volumes)
    ]
    tmpl = template(
        pod_labels,
        [
            container(
                part.name,
                image_of(gen, part),
                cpu=part.cpu,
                memory=part.memory,
                port=part.port,
                env=env,
                env_from=[{"configMapRef": {"name": c}} for c in configs],
                mounts=mounts,
            )
        ],
        service_account=sa,
        volumes=volumes,
        priority_class=part.priority_class,
        pull_secrets=(pull_secret,) if pull_secret else (),
    )
    count = part.replicas if replicas is None else replicas
    if part.kind == "DaemonSet":
        wl = daemonset(gen, ns, part.name, tmpl, owner=owner, created=created)
    elif part.kind == "StatefulSet":
        wl = statefulset(
            gen,
            ns,
            part.name,
            tmpl,
            replicas=count,
            claims=count,
            size_gi=part.size_gi or 20,
            storage_class=storage_class or gen.cloud.default_class,
            owner=owner,
            created=created,
            service_name=part.name if part.service == "" else (part.service or part.name),
        )
    else:
        wl = deployment(gen, ns, part.name, tmpl, replicas=count, owner=owner, created=created)
    built = Built(wl, sel, configs=configs + list(part.files), secrets=secrets)
    if part.service is not None and part.port:
        built.service = service(
            gen,
            ns,
            part.service or part.name,
            sel,
            owner=owner,
            created=created,
            target_port=part.port,
            endpoints=wl.pods,
            kind="LoadBalancer" if part.lb else "ClusterIP",
            headless=part.kind == "StatefulSet",
            annotations=lb_annotations(gen) if part.lb else None,
        )
    _rbac(gen, ns, part, sa, owner, created)
    if part.hpa and part.kind == "Deployment":
        autoscaler(gen, ns, part.name, "Deployment", part.name, owner=owner, created=created)
    if part.pdb:
        disruption_budget(gen, ns, part.name, sel, owner=owner, created=created)
    return built


def lb_annotations(gen: Gen) -> dict[str, str]:
    if gen.cloud.provider == "aws":
        return {
            "service.beta.kubernetes.io/aws-load-balancer-type": gen.pick(("nlb", "external")),
            "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        }
    if gen.cloud.provider == "azure":
        return {"service.beta.kubernetes.io/azure-load-balancer-health-probe-request-path": "/"}
    return {"cloud.google.com/l4-rbs": "enabled"}


def _rbac(gen: Gen, ns: str, part: Part, sa: str, owner: Owner, created: str) -> None:
    if part.leader_election:
        gen.obj(
            "rbac.authorization.k8s.io/v1",
            "Role",
            gen.meta("Role", f"{part.name}-leader-election", ns, created=created, owner=owner),
            rules=[rbac_rule(["coordination.k8s.io"], ["leases"], ["get", "create", "update"])],
        )
        gen.obj(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            gen.meta(
                "RoleBinding", f"{part.name}-leader-election", ns, created=created, owner=owner
            ),
            roleRef=role_ref("Role", f"{part.name}-leader-election"),
            subjects=[sa_subject(sa, ns)],
        )
    if part.cluster_role:
        name = gen.unique(
            "ClusterRole", None, part.name if ns == "kube-system" else f"{ns}-{part.name}"
        )
        gen.obj(
            "rbac.authorization.k8s.io/v1",
            "ClusterRole",
            gen.meta("ClusterRole", name, created=created, owner=owner),
            rules=[rbac_rule([""], ["nodes", "pods", "services"], ["get", "list", "watch"])],
        )
        gen.obj(
            "rbac.authorization.k8s.io/v1",
            "ClusterRoleBinding",
            gen.meta("ClusterRoleBinding", name, created=created, owner=owner),
            roleRef=role_ref("ClusterRole", name),
            subjects=[sa_subject(sa, ns)],
        )


def autoscaler(
    gen: Gen,
    ns: str,
    name: str,
    target_kind: str,
    target: str,
    *,
    owner: Owner,
    created: str,
    min_replicas: int = 2,
) -> Obj:
    return gen.obj(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        gen.meta("HorizontalPodAutoscaler", name, ns, created=created, owner=owner),
        spec={
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": target_kind, "name": target},
            "minReplicas": min_replicas,
            "maxReplicas": 10,
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
    )


def disruption_budget(
    gen: Gen, ns: str, name: str, selector: dict[str, str], *, owner: Owner, created: str
) -> Obj:
    return gen.obj(
        "policy/v1",
        "PodDisruptionBudget",
        gen.meta("PodDisruptionBudget", name, ns, created=created, owner=owner),
        spec={"maxUnavailable": 1, "selector": {"matchLabels": dict(selector)}},
    )


def network_policy(
    gen: Gen, ns: str, name: str, selector: dict[str, str], *, owner: Owner, created: str
) -> Obj:
    return gen.obj(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        gen.meta("NetworkPolicy", name, ns, created=created, owner=owner),
        spec={
            "podSelector": {"matchLabels": dict(selector)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                            }
                        }
                    ]
                }
            ],
        },
    )


def ingress(
    gen: Gen,
    ns: str,
    name: str,
    host: str,
    backend: str,
    *,
    owner: Owner,
    created: str,
    tls_secret: str | None = None,
) -> Obj:
    spec: Obj = {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": host,
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
    }
    if tls_secret:
        spec["tls"] = [{"hosts": [host], "secretName": tls_secret}]
    return gen.obj(
        "networking.k8s.io/v1",
        "Ingress",
        gen.meta(
            "Ingress",
            name,
            ns,
            created=created,
            owner=owner,
            annotations={"cert-manager.io/cluster-issuer": "letsencrypt-prod"}
            if tls_secret
            else None,
        ),
        spec=spec,
    )
