"""Storage as the provisioner leaves it: bound claims, their volumes, StatefulSets."""

from __future__ import annotations

from typing import Any

from app.demo.objects import Gen, Obj, Owner
from app.demo.workloads import APPS, Workload, running_pod


def claim(
    gen: Gen,
    ns: str,
    name: str,
    *,
    size_gi: int,
    storage_class: str,
    owner: Owner,
    created: str,
    labels: dict[str, str] | None = None,
    pv_phase: str = "Bound",
    extra: dict[str, Any] | None = None,
) -> tuple[Obj, Obj]:
    """A bound PersistentVolumeClaim and the dynamically provisioned volume behind it."""
    pvc_uid = gen.uid("PersistentVolumeClaim", ns, name)
    pv_name = f"pvc-{pvc_uid}"
    size = f"{size_gi}Gi"
    pvc_meta = gen.meta(
        "PersistentVolumeClaim",
        name,
        ns,
        created=created,
        owner=owner,
        labels=labels,
        annotations={
            "pv.kubernetes.io/bind-completed": "yes",
            "volume.kubernetes.io/storage-provisioner": gen.cloud.csi_driver,
        },
        uid=pvc_uid,
    )
    pvc_meta["finalizers"] = ["kubernetes.io/pvc-protection"]
    pvc = gen.obj(
        "v1",
        "PersistentVolumeClaim",
        pvc_meta,
        spec={
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": storage_class,
            "volumeMode": "Filesystem",
            "volumeName": pv_name,
        },
        status={"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": size}},
        **(extra or {}),
    )
    pv = persistent_volume(
        gen,
        pv_name,
        size_gi=size_gi,
        storage_class=storage_class,
        created=created,
        claim=(ns, name, pvc_uid),
        phase=pv_phase,
    )
    return pvc, pv


def persistent_volume(
    gen: Gen,
    name: str,
    *,
    size_gi: int,
    storage_class: str | None,
    created: str,
    claim: tuple[str, str, str] | None,
    phase: str,
    reclaim: str = "Delete",
) -> Obj:
    cloud = gen.cloud
    zone = gen.pick(cloud.zones)
    spec: Obj = {
        "accessModes": ["ReadWriteOnce"],
        "capacity": {"storage": f"{size_gi}Gi"},
        "persistentVolumeReclaimPolicy": reclaim,
        "volumeMode": "Filesystem",
        "csi": {
            "driver": cloud.csi_driver,
            "fsType": "ext4",
            "volumeHandle": cloud.volume_handle(name, zone),
        },
        "nodeAffinity": {
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": cloud.zone_key, "operator": "In", "values": [zone]}
                        ]
                    }
                ]
            }
        },
    }
    if storage_class:
        spec["storageClassName"] = storage_class
    if claim:
        ns, claim_name, claim_uid = claim
        spec["claimRef"] = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "namespace": ns,
            "name": claim_name,
            "uid": claim_uid,
        }
    pv_meta = gen.meta(
        "PersistentVolume",
        name,
        created=created,
        annotations={"pv.kubernetes.io/provisioned-by": cloud.csi_driver},
    )
    pv_meta["finalizers"] = ["kubernetes.io/pv-protection"]
    return gen.obj("v1", "PersistentVolume", pv_meta, spec=spec, status={"phase": phase})


def statefulset(
    gen: Gen,
    ns: str,
    name: str,
    tmpl: Obj,
    *,
    replicas: int,
    claims: int,
    size_gi: int,
    storage_class: str,
    owner: Owner,
    created: str,
    service_name: str,
    volume: str = "data",
) -> Workload:
    """A StatefulSet with ``replicas`` running ordinals and claims for ordinals 0..claims-1
    (claims beyond the replicas are what a scale-down leaves behind)."""
    sts = gen.obj(
        APPS,
        "StatefulSet",
        gen.meta(
            "StatefulSet", name, ns, created=created, owner=owner, labels=tmpl["metadata"]["labels"]
        ),
        spec={
            "replicas": replicas,
            "serviceName": service_name,
            "selector": {"matchLabels": dict(tmpl["metadata"]["labels"])},
            "template": tmpl,
            "volumeClaimTemplates": [
                {
                    "metadata": {"name": volume},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": storage_class,
                        "resources": {"requests": {"storage": f"{size_gi}Gi"}},
                    },
                }
            ],
        },
        status={"replicas": replicas, "readyReplicas": replicas},
    )
    pods: list[Obj] = []
    for ordinal in range(max(claims, replicas)):
        claim_name = f"{volume}-{name}-{ordinal}"
        claim(
            gen,
            ns,
            claim_name,
            size_gi=size_gi,
            storage_class=storage_class,
            owner=owner,
            created=created,
            labels=dict(tmpl["metadata"]["labels"]),
        )
        if ordinal < replicas:
            pod_tmpl = {
                "metadata": tmpl["metadata"],
                "spec": {
                    **tmpl["spec"],
                    "volumes": [
                        *tmpl["spec"].get("volumes", []),
                        {"name": volume, "persistentVolumeClaim": {"claimName": claim_name}},
                    ],
                },
            }
            pods.append(
                running_pod(
                    gen,
                    ns,
                    f"{name}-{ordinal}",
                    pod_tmpl,
                    owner=sts,
                    created=gen.since(max(created, gen.ago(40)), 0.5),
                    labels={"statefulset.kubernetes.io/pod-name": f"{name}-{ordinal}"},
                )
            )
    return Workload(sts, None, pods)
