"""Leftover workloads: retired Deployments and StatefulSets with what only they used, claims a
scale-down left, autoscalers that cannot wake their target, crash loops, orphaned ReplicaSets,
node agents that fit no node, and what owners marked for removal."""

from __future__ import annotations

from app.demo.apps import autoscaler, disruption_budget, ingress, network_policy
from app.demo.catalog import RETIRED_SUFFIXES
from app.demo.leftovers import (
    add_configmap,
    app_name,
    disk_size,
    retired_template,
    some_class,
    waste_age,
)
from app.demo.objects import Gen, Owner, stale_ref
from app.demo.storage import statefulset
from app.demo.tenants import Tenant
from app.demo.workloads import container, deployment, service, template


def retired_deployment(gen: Gen, t: Tenant) -> None:
    """A Deployment scaled to zero, and everything only it used."""
    app = app_name(gen, t)
    name = gen.unique("Deployment", t.ns, f"{app}-{gen.pick(RETIRED_SUFFIXES)}")
    owner = t.owner(name, gen.cloud.environment) if gen.chance(0.7) else Owner.team(t.team)
    created = gen.ago(waste_age(gen) + 20)
    tmpl = retired_template(gen, t, name, owner, created)
    deployment(gen, t.ns, name, tmpl, replicas=0, owner=owner, created=created)
    sel = tmpl["metadata"]["labels"]
    svc = service(gen, t.ns, gen.unique("Service", t.ns, name), sel, owner=owner, created=created)
    if gen.chance(0.5):
        disruption_budget(
            gen,
            t.ns,
            gen.unique("PodDisruptionBudget", t.ns, name),
            sel,
            owner=owner,
            created=created,
        )
    if gen.chance(0.3):
        network_policy(
            gen,
            t.ns,
            gen.unique("NetworkPolicy", t.ns, f"allow-{name}"),
            sel,
            owner=owner,
            created=created,
        )
    if gen.chance(0.3):
        host = f"{name}.{t.ns}.{gen.cloud.environment}.acme-corp.io"
        ingress(
            gen,
            t.ns,
            gen.unique("Ingress", t.ns, name),
            host,
            svc["metadata"]["name"],
            owner=owner,
            created=created,
        )


def retired_statefulset(gen: Gen, t: Tenant) -> None:
    """A database nobody runs any more, still holding its disks."""
    base = gen.pick(("postgres", "redis", "mongodb", "elasticsearch", "rabbitmq", "mysql"))
    name = gen.unique("StatefulSet", t.ns, f"{base}-{gen.pick(RETIRED_SUFFIXES)}")
    owner = t.owner(name, gen.cloud.environment) if gen.chance(0.6) else Owner.team(t.team)
    created = gen.ago(waste_age(gen) + 30)
    tmpl = retired_template(gen, t, name, owner, created)
    claims = gen.rng.randint(1, 3)
    statefulset(
        gen,
        t.ns,
        name,
        tmpl,
        replicas=0,
        claims=claims,
        size_gi=disk_size(gen),
        storage_class=some_class(gen),
        owner=owner,
        created=created,
        service_name=name,
    )
    service(
        gen,
        t.ns,
        gen.unique("Service", t.ns, name),
        tmpl["metadata"]["labels"],
        owner=owner,
        created=created,
        headless=True,
    )


def scaled_down_statefulset(gen: Gen, t: Tenant) -> None:
    """Scaled from three replicas to one: the higher ordinals' claims stay behind."""
    base = gen.pick(("redis-sessions", "zookeeper", "nats", "etcd", "memcached"))
    name = gen.unique("StatefulSet", t.ns, base)
    owner = t.owner(name, gen.cloud.environment)
    created = gen.ago(gen.rng.uniform(30, 300))
    tmpl = template(
        {"app.kubernetes.io/name": name},
        [container(name, f"{gen.cloud.registry}/infra/{base}:3.1", port=6379)],
    )
    statefulset(
        gen,
        t.ns,
        name,
        tmpl,
        replicas=1,
        claims=3,
        size_gi=disk_size(gen),
        storage_class=some_class(gen),
        owner=owner,
        created=created,
        service_name=name,
    )


def autoscaled_to_zero(gen: Gen, t: Tenant) -> None:
    """Someone scaled an autoscaled Deployment to zero by hand; the HPA cannot wake it."""
    app = app_name(gen, t)
    name = gen.unique("Deployment", t.ns, f"{app}-{gen.pick(('worker', 'consumer', 'batch'))}")
    owner = t.owner(name, gen.cloud.environment)
    created = gen.ago(waste_age(gen) + 10)
    tmpl = retired_template(gen, t, name, owner, created)
    deployment(gen, t.ns, name, tmpl, replicas=0, owner=owner, created=created)
    autoscaler(gen, t.ns, name, "Deployment", name, owner=owner, created=created)


def crashloop(gen: Gen, t: Tenant) -> None:
    """A worker that has crashed for weeks, holding its CPU and memory requests."""
    app = app_name(gen, t)
    name = gen.unique(
        "Deployment", t.ns, f"{app}-{gen.pick(('sync', 'importer', 'webhook-relay'))}"
    )
    owner = t.owner(name, gen.cloud.environment)
    created = gen.ago(gen.rng.uniform(20, 200))
    tmpl = template(
        {"app.kubernetes.io/name": name, "team": t.team},
        [
            container(
                name,
                f"{gen.cloud.registry}/{t.domain}/{name}:0.9.{gen.rng.randint(0, 9)}",
                cpu=gen.pick(("250m", "500m", "1")),
                memory=gen.pick(("512Mi", "1Gi", "2Gi")),
            )
        ],
        service_account=app,
    )
    wl = deployment(gen, t.ns, name, tmpl, replicas=1, owner=owner, created=created)
    restarts = gen.rng.randint(40, 4000)
    for pod in wl.pods:
        pod["status"]["containerStatuses"] = [
            {
                "name": name,
                "ready": False,
                "restartCount": restarts,
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 5m0s restarting failed container",
                    }
                },
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}},
            }
        ]


def orphan_replicaset(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    old = f"{app}-{gen.pick(RETIRED_SUFFIXES)}"
    name = gen.unique("ReplicaSet", t.ns, f"{old}-{gen.suffix(9, 'orphan-rs', t.ns, old)}")
    labels = {
        "app.kubernetes.io/name": old,
        "team": t.team,
        "pod-template-hash": name.rsplit("-", 1)[-1],
    }
    gen.obj(
        "apps/v1",
        "ReplicaSet",
        gen.meta(
            "ReplicaSet",
            name,
            t.ns,
            created=gen.ago(waste_age(gen) + 20),
            labels=labels,
            owners=[stale_ref(gen, "apps/v1", "Deployment", t.ns, old)],
        ),
        spec={
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": template(labels, [container(old, f"{gen.cloud.registry}/{old}:1.0")]),
        },
        status={"replicas": 0},
    )


def unschedulable_daemonset(gen: Gen, t: Tenant) -> None:
    """A node agent for a node pool that was removed: it fits no node."""
    what = gen.pick(("log-shipper-legacy", "gpu-exporter", "node-tuner", "falco-legacy"))
    name = gen.unique("DaemonSet", t.ns, what)
    owner = Owner.team(t.team)
    created = gen.ago(gen.rng.uniform(30, 300))
    cm = add_configmap(gen, t, f"{name}-config", owner, created)
    labels = {"app.kubernetes.io/name": name}
    tmpl = template(
        labels,
        [
            container(
                name,
                f"{gen.cloud.registry}/infra/{what}:1.2.0",
                env_from=[{"configMapRef": {"name": cm}}],
            )
        ],
        node_selector={"node-pool": "legacy-batch"},
    )
    gen.obj(
        "apps/v1",
        "DaemonSet",
        gen.meta("DaemonSet", name, t.ns, created=created, owner=owner, labels=labels),
        spec={"selector": {"matchLabels": labels}, "template": tmpl},
        status={"desiredNumberScheduled": 0, "currentNumberScheduled": 0, "numberReady": 0},
    )


def marked_for_removal(gen: Gen, t: Tenant) -> None:
    """Its owner labelled a running Deployment ``kor/used=false``: due for decommissioning."""
    deps = [b for _, b, _ in t.apps if b.workload.obj["kind"] == "Deployment"]
    if deps:
        gen.pick(deps).workload.obj["metadata"].setdefault("labels", {})["kor/used"] = "false"
