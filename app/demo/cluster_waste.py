"""Cluster-wide leftovers: volumes kept after their claims went, StorageClasses, priority
classes and ClusterRoles nobody uses, bindings to deleted accounts, CRDs of uninstalled tools,
dangling volume attachments, abandoned and stuck namespaces."""

from __future__ import annotations

from app.demo.addons import crd
from app.demo.catalog import (
    ABANDONED_PREFIXES,
    ABANDONED_TOPICS,
    STALE_CLUSTER_ROLES,
    STALE_CRD_GROUPS,
    STALE_PRIORITY_CLASSES,
    STALE_STORAGE_CLASSES,
)
from app.demo.cloud import DISK_SIZES
from app.demo.leftovers import retired_template
from app.demo.objects import Gen, Owner, rbac_rule, role_ref, sa_subject
from app.demo.platform import namespace, storage_class
from app.demo.storage import persistent_volume
from app.demo.tenants import Tenant
from app.demo.waste import idle_disk, stale_config, stale_secret
from app.demo.workloads import deployment, service

RBAC = "rbac.authorization.k8s.io/v1"


def released_volumes(gen: Gen, tenants: list[Tenant], count: int) -> None:
    """Disks whose claims were deleted with reclaim policy Retain (or made by hand and never
    claimed): billed every month, invisible from any namespace."""
    sizes = DISK_SIZES[gen.cloud.provider]
    for i in range(count):
        t = gen.pick(tenants)
        size = int(gen.pick(sizes))
        created = gen.ago(gen.rng.uniform(10, 365))
        klass = gen.cloud.default_class if gen.chance(0.6) else gen.cloud.fast_class
        roll = gen.rng.random()
        if roll < 0.75:
            claim_name = f"data-{gen.pick(t.apps)[0].name}-{gen.pick(('old', 'v1', 'restore'))}-{i}"
            pvc_uid = gen.uid("PersistentVolumeClaim", t.ns, claim_name)
            persistent_volume(
                gen,
                f"pvc-{pvc_uid}",
                size_gi=size,
                storage_class=klass,
                created=created,
                claim=(t.ns, claim_name, pvc_uid),
                phase="Released",
                reclaim="Retain",
            )
        elif roll < 0.95:
            name = gen.unique("PersistentVolume", None, f"{t.domain}-manual-{size}g")
            persistent_volume(
                gen,
                name,
                size_gi=size,
                storage_class=klass,
                created=created,
                claim=None,
                phase="Available",
                reclaim="Retain",
            )
        else:
            claim_name = f"scratch-{i}"
            pvc_uid = gen.uid("PersistentVolumeClaim", t.ns, claim_name)
            persistent_volume(
                gen,
                f"pvc-{pvc_uid}",
                size_gi=size,
                storage_class=klass,
                created=created,
                claim=(t.ns, claim_name, pvc_uid),
                phase="Failed",
            )


def unused_classes(gen: Gen) -> None:
    provider = gen.cloud.provider
    driver = gen.cloud.csi_driver
    key = {"aws": "type", "gcp": "type", "azure": "skuname"}[provider]
    for name, disk in STALE_STORAGE_CLASSES[provider]:
        params = {key: disk}
        if name == "regional-ssd":
            params["replication-type"] = "regional-pd"
        storage_class(
            gen,
            name,
            driver,
            params,
            created=gen.ago(gen.rng.uniform(100, 380)),
            reclaim="Retain" if "retain" in name else "Delete",
        )
    for name in gen.rng.sample(STALE_PRIORITY_CLASSES, 2):
        gen.obj(
            "scheduling.k8s.io/v1",
            "PriorityClass",
            gen.meta(
                "PriorityClass",
                name,
                created=gen.ago(gen.rng.uniform(60, 380)),
                owner=Owner.team(gen.pick(("platform", "data-eng", "devex"))),
            ),
            value=gen.pick((100, 1000, 10000, 100000)),
            globalDefault=False,
            description="",
        )


def stale_rbac(gen: Gen, count: int) -> None:
    """Unbound ClusterRoles, bindings whose accounts are gone, bindings to deleted roles."""
    roles = list(STALE_CLUSTER_ROLES)
    for i in range(count):
        created = gen.ago(gen.rng.uniform(30, 380))
        base = roles[i % len(roles)]
        roll = i % 3
        kind = "ClusterRole" if roll == 0 else "ClusterRoleBinding"
        name = gen.unique(kind, None, base if i < len(roles) else f"{base}-{i}")
        owner = Owner.team(gen.pick(("platform", "sre", "devex")))
        if roll == 0:
            gen.obj(
                RBAC,
                "ClusterRole",
                gen.meta("ClusterRole", name, created=created, owner=owner),
                rules=[rbac_rule([""], ["secrets", "configmaps"], ["get", "list"])],
            )
        elif roll == 1:
            ns = gen.pick(("logging", "jenkins", "spinnaker", "tools"))
            gen.obj(
                RBAC,
                "ClusterRoleBinding",
                gen.meta("ClusterRoleBinding", name, created=created, owner=owner),
                roleRef=role_ref("ClusterRole", "view"),
                subjects=[sa_subject(base.split("-")[-1], ns)],
            )
        else:
            gen.obj(
                RBAC,
                "ClusterRoleBinding",
                gen.meta("ClusterRoleBinding", name, created=created, owner=owner),
                roleRef=role_ref("ClusterRole", f"{base}-role"),
                subjects=[sa_subject("default", "kube-system")],
            )


def stale_crds(gen: Gen) -> None:
    """CRDs a tool left behind when it was uninstalled."""
    groups = list(STALE_CRD_GROUPS)
    picked = gen.rng.sample(groups, 2 if gen.cloud.environment in ("dev", "staging", "data") else 1)
    for group, version, kinds, release in picked:
        created = gen.ago(gen.rng.uniform(200, 400))
        owner = Owner.helm(release, release, "1.0.0", "kube-system", "platform")
        for kind in kinds:
            lower = kind.lower()
            plural = lower[:-1] + "ies" if lower.endswith("y") else lower + "s"
            if lower.endswith("s"):
                plural = lower + "es"
            crd(gen, plural, group, kind, version, created=created, owner=owner)


def dangling_attachment(gen: Gen, count: int) -> None:
    for i in range(count):
        pv = f"pvc-{gen.uid('PersistentVolume', None, f'deleted-{i}')}"
        name = f"csi-{gen.hexid(64, 'va', pv)}"
        gen.obj(
            "storage.k8s.io/v1",
            "VolumeAttachment",
            gen.meta("VolumeAttachment", name, created=gen.ago(gen.rng.uniform(5, 120))),
            spec={
                "attacher": gen.cloud.csi_driver,
                "nodeName": gen.pick(gen.nodes),
                "source": {"persistentVolumeName": pv},
            },
            status={"attached": True},
        )


def abandoned_namespace(gen: Gen, index: int) -> Tenant:
    """A namespace for a project that ended: nothing runs, everything else stayed."""
    topic = ABANDONED_TOPICS[index % len(ABANDONED_TOPICS)]
    prefix = ABANDONED_PREFIXES[(index // len(ABANDONED_TOPICS) + index) % len(ABANDONED_PREFIXES)]
    name = gen.unique("Namespace", None, f"{prefix}{topic}")
    team = gen.pick(("web", "checkout", "growth", "search", "data-eng", "ml-platform"))
    created_days = gen.rng.uniform(60, 380)
    namespace(gen, name, created=gen.ago(created_days), labels={"team": team})
    t = Tenant(name, team, topic, gen.pick(("helm", "team")), created_days)
    owner = t.owner(topic, gen.cloud.environment)
    born = gen.ago(created_days - 1)
    tmpl = retired_template(gen, t, topic, owner, born)
    deployment(gen, name, topic, tmpl, replicas=0, owner=owner, created=born)
    service(gen, name, topic, tmpl["metadata"]["labels"], owner=owner, created=born)
    stale_config(gen, t)
    if gen.chance(0.5):
        stale_secret(gen, t)
    if gen.chance(0.6):
        idle_disk(gen, t)
    return t


def stuck_namespace(gen: Gen) -> None:
    """A namespace deleted weeks ago that still waits on a finalizer of an uninstalled operator."""
    name = gen.unique("Namespace", None, gen.pick(("kafka-old", "istio-system", "elastic-system")))
    created = gen.ago(gen.rng.uniform(200, 380))
    obj = gen.obj(
        "v1",
        "Namespace",
        gen.meta("Namespace", name, created=created, labels={"kubernetes.io/metadata.name": name}),
        spec={"finalizers": ["kubernetes"]},
        status={
            "phase": "Terminating",
            "conditions": [
                {
                    "type": "NamespaceFinalizersRemaining",
                    "status": "True",
                    "message": "Some content in the namespace has finalizers remaining",
                }
            ],
        },
    )
    obj["metadata"]["deletionTimestamp"] = gen.ago(gen.rng.uniform(3, 60))
