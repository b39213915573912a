"""Leftovers inside team namespaces, as real clusters accumulate them: stale configuration and
credentials, retired workloads with everything they referenced, idle disks and load balancers,
finished jobs, broken autoscalers, budgets and policies that select nothing, dangling RBAC.

Each scenario builds real objects; the engine decides what they are. ``SCENARIOS`` weighs how
often each happens; ``namespace_waste`` draws them for one namespace.
"""

from __future__ import annotations

from collections.abc import Callable

from app.demo.apps import autoscaler, disruption_budget, ingress, network_policy
from app.demo.catalog import RETIRED_SUFFIXES, STALE_CONFIG_SUFFIXES, STALE_SECRET_SUFFIXES
from app.demo.leftovers import (
    add_configmap,
    add_secret,
    app_name,
    disk_size,
    idle_lb_annotations,
    leftover_owner,
    some_class,
    waste_age,
)
from app.demo.objects import Gen, Owner, rbac_rule, role_ref, sa_subject
from app.demo.storage import claim
from app.demo.tenants import Tenant
from app.demo.waste_runs import debug_pod, evicted_pods, finished_job, stale_owner, suspended_cron
from app.demo.waste_workloads import (
    autoscaled_to_zero,
    crashloop,
    marked_for_removal,
    orphan_replicaset,
    retired_deployment,
    retired_statefulset,
    scaled_down_statefulset,
    unschedulable_daemonset,
)
from app.demo.workloads import service

RBAC = "rbac.authorization.k8s.io/v1"


def stale_config(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    add_configmap(
        gen,
        t,
        f"{app}-{gen.pick(STALE_CONFIG_SUFFIXES)}",
        leftover_owner(gen, t, app),
        gen.ago(waste_age(gen)),
    )


def stale_secret(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    add_secret(
        gen,
        t,
        f"{app}-{gen.pick(STALE_SECRET_SUFFIXES)}",
        leftover_owner(gen, t, app),
        gen.ago(waste_age(gen)),
    )


def idle_disk(gen: Gen, t: Tenant) -> None:
    """A claim someone made for a migration or a restore, never mounted again."""
    app = app_name(gen, t)
    purpose = gen.pick(("restore", "migration", "backup", "export", "scratch", "snapshot-test"))
    name = gen.unique("PersistentVolumeClaim", t.ns, f"{app}-{purpose}")
    claim(
        gen,
        t.ns,
        name,
        size_gi=disk_size(gen),
        storage_class=some_class(gen),
        owner=leftover_owner(gen, t, app),
        created=gen.ago(waste_age(gen)),
    )


def idle_load_balancer(gen: Gen, t: Tenant) -> None:
    """A public LoadBalancer Service whose pods are long gone: billed by the hour."""
    app = app_name(gen, t)
    old = f"{app}-{gen.pick(RETIRED_SUFFIXES)}"
    name = gen.unique("Service", t.ns, f"{old}-public")
    service(
        gen,
        t.ns,
        name,
        {"app.kubernetes.io/name": old},
        owner=leftover_owner(gen, t, app),
        created=gen.ago(waste_age(gen)),
        kind="LoadBalancer",
        port=443,
        annotations=idle_lb_annotations(gen),
    )


def idle_service(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    created = gen.ago(waste_age(gen))
    owner = leftover_owner(gen, t, app)
    if gen.chance(0.3):
        name = gen.unique("Service", t.ns, gen.pick(("external-db", "legacy-smtp", "old-cache")))
        service(gen, t.ns, name, None, owner=owner, created=created, port=5432, target_port=5432)
        return
    old = f"{app}-{gen.pick(RETIRED_SUFFIXES)}"
    service(
        gen,
        t.ns,
        gen.unique("Service", t.ns, old),
        {"app.kubernetes.io/name": old},
        owner=owner,
        created=created,
    )


def broken_ingress(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    old = f"{app}-{gen.pick(RETIRED_SUFFIXES)}"
    name = gen.unique("Ingress", t.ns, old)
    ingress(
        gen,
        t.ns,
        name,
        f"{old}.{t.ns}.acme-corp.io",
        old,
        owner=leftover_owner(gen, t, app),
        created=gen.ago(waste_age(gen)),
    )


def orphan_autoscaler(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    old = f"{app}-{gen.pick(RETIRED_SUFFIXES)}"
    autoscaler(
        gen,
        t.ns,
        gen.unique("HorizontalPodAutoscaler", t.ns, old),
        "Deployment",
        old,
        owner=leftover_owner(gen, t, app),
        created=gen.ago(waste_age(gen)),
    )


def selects_nothing(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    old = f"{app}-{gen.pick(RETIRED_SUFFIXES)}"
    sel = {"app.kubernetes.io/name": old}
    owner = leftover_owner(gen, t, app)
    created = gen.ago(waste_age(gen))
    if gen.chance(0.5):
        disruption_budget(
            gen,
            t.ns,
            gen.unique("PodDisruptionBudget", t.ns, old),
            sel,
            owner=owner,
            created=created,
        )
    else:
        network_policy(
            gen,
            t.ns,
            gen.unique("NetworkPolicy", t.ns, f"allow-{old}"),
            sel,
            owner=owner,
            created=created,
        )


def dangling_rbac(gen: Gen, t: Tenant) -> None:
    """An unused ServiceAccount, an unbound Role, a binding to a deleted Role, or the token of a
    deleted ServiceAccount: grants nobody cleaned up."""
    app = app_name(gen, t)
    created = gen.ago(waste_age(gen) + 5)
    owner = Owner.team(t.team)
    roll = gen.rng.random()
    if roll < 0.4:
        name = gen.unique(
            "ServiceAccount",
            t.ns,
            gen.pick(("ci-deployer", "jenkins", f"{app}-migrator", "terraform")),
        )
        gen.obj(
            "v1",
            "ServiceAccount",
            gen.meta("ServiceAccount", name, t.ns, created=created, owner=owner),
        )
    elif roll < 0.7:
        name = gen.unique("Role", t.ns, f"{app}-debug")
        gen.obj(
            RBAC,
            "Role",
            gen.meta("Role", name, t.ns, created=created, owner=owner),
            rules=[rbac_rule([""], ["pods", "pods/log", "pods/exec"], ["get", "list", "create"])],
        )
    elif roll < 0.85:
        name = gen.unique("RoleBinding", t.ns, f"{app}-secrets-reader")
        gen.obj(
            RBAC,
            "RoleBinding",
            gen.meta("RoleBinding", name, t.ns, created=created, owner=owner),
            roleRef=role_ref("Role", f"{app}-secrets-reader"),
            subjects=[sa_subject(app, t.ns)],
        )
    else:
        sa = gen.pick(("deploy-bot", "gitlab-ci", "spinnaker", "old-operator"))
        name = gen.unique("Secret", t.ns, f"{sa}-token-{gen.suffix(5, 'tok', t.ns, sa)}")
        gen.obj(
            "v1",
            "Secret",
            gen.meta(
                "Secret",
                name,
                t.ns,
                created=created,
                annotations={
                    "kubernetes.io/service-account.name": sa,
                    "kubernetes.io/service-account.uid": gen.uid("SA", t.ns, sa),
                },
            ),
            type="kubernetes.io/service-account-token",
            data={"token": "cmVkYWN0ZWQ="},
        )


def pending_claim(gen: Gen, t: Tenant) -> None:
    app = app_name(gen, t)
    name = gen.unique("PersistentVolumeClaim", t.ns, f"{app}-data-new")
    gen.obj(
        "v1",
        "PersistentVolumeClaim",
        gen.meta(
            "PersistentVolumeClaim",
            name,
            t.ns,
            created=gen.ago(waste_age(gen)),
            owner=leftover_owner(gen, t, app),
        ),
        spec={
            "accessModes": ["ReadWriteOnce"],
            "storageClassName": "fast-ssd",
            "resources": {"requests": {"storage": f"{disk_size(gen)}Gi"}},
        },
        status={"phase": "Pending"},
    )


def stuck_claim(gen: Gen, t: Tenant) -> None:
    """A claim deleted while a pod still mounted it, then forgotten: pvc-protection holds it."""
    app = app_name(gen, t)
    name = gen.unique("PersistentVolumeClaim", t.ns, f"{app}-cache")
    pvc, _ = claim(
        gen,
        t.ns,
        name,
        size_gi=disk_size(gen),
        storage_class=some_class(gen),
        owner=t.owner(app, gen.cloud.environment),
        created=gen.ago(gen.rng.uniform(30, 200)),
    )
    pvc["metadata"]["deletionTimestamp"] = gen.ago(gen.rng.uniform(2, 40))


# (scenario, weight): how often each kind of leftover turns up in a namespace.
SCENARIOS: tuple[tuple[Callable[[Gen, Tenant], None], float], ...] = (
    (stale_config, 10),
    (stale_secret, 8),
    (retired_deployment, 6),
    (retired_statefulset, 2.5),
    (scaled_down_statefulset, 1.5),
    (idle_disk, 4),
    (idle_load_balancer, 2.5),
    (idle_service, 3),
    (broken_ingress, 1.5),
    (orphan_autoscaler, 1.5),
    (autoscaled_to_zero, 1.5),
    (selects_nothing, 3),
    (finished_job, 4),
    (suspended_cron, 2.5),
    (evicted_pods, 2),
    (debug_pod, 1.5),
    (crashloop, 1.5),
    (orphan_replicaset, 1),
    (dangling_rbac, 4),
    (stale_owner, 1),
    (pending_claim, 1),
    (marked_for_removal, 0.5),
    (stuck_claim, 0.5),
    (unschedulable_daemonset, 0.7),
)
_FUNCS = tuple(f for f, _ in SCENARIOS)
_WEIGHTS = tuple(w for _, w in SCENARIOS)


def namespace_waste(
    gen: Gen, t: Tenant, count: int, first: tuple[Callable[[Gen, Tenant], None], ...] = ()
) -> None:
    """The ``first`` scenarios, then ``count`` more drawn by weight."""
    for fn in (*first, *gen.rng.choices(_FUNCS, weights=_WEIGHTS, k=count)):
        fn(gen, t)
