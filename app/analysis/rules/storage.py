"""PersistentVolumeClaims, PersistentVolumes, StorageClasses and VolumeAttachments."""

from __future__ import annotations

import re

from app.analysis.context import TEMPLATE_KINDS
from app.analysis.model import Confidence, ObjectRef
from app.analysis.references import Use
from app.analysis.rules.base import Candidate, Found
from app.kube import objects as o

DEFAULT_CLASS_ANNOTATIONS = (
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
)


def is_default_class(sc: o.StorageClass) -> bool:
    return any(sc.metadata.annotations.get(a) == "true" for a in DEFAULT_CLASS_ANNOTATIONS)


def _statefulset_uses(found: Found) -> dict[tuple[str | None, str], Use]:
    """PVCs a StatefulSet's claim templates created, with whether an ordinal still runs.

    A StatefulSet names its claims ``<template>-<set>-<ordinal>``; scaling down keeps the
    higher ordinals' claims (for a later scale-up), which is exactly what goes unnoticed.
    """
    uses: dict[tuple[str | None, str], Use] = {}
    ctx = found.ctx
    by_ns: dict[str | None, list[str]] = {}
    for pvc in ctx.snap.pvcs:
        by_ns.setdefault(pvc.metadata.namespace, []).append(pvc.metadata.name)
    for sts in ctx.snap.workloads("StatefulSet"):
        meta = sts.metadata
        ref = ObjectRef("StatefulSet", meta.namespace, meta.name)
        live_sts, state = ctx.workload_state("StatefulSet", sts)
        replicas = 1 if sts.spec.replicas is None else sts.spec.replicas
        for vct in sts.spec.volume_claim_templates:
            pattern = re.compile(re.escape(f"{vct.metadata.name}-{meta.name}-") + r"(\d+)")
            for name in by_ns.get(meta.namespace, ()):
                m = pattern.fullmatch(name)
                if m is None:
                    continue
                ordinal = int(m.group(1))
                if not live_sts:
                    use = Use(ref, "volumeClaimTemplates", live=False, state=state)
                elif ordinal >= replicas and state == "running":
                    use = Use(
                        ref,
                        "volumeClaimTemplates",
                        live=False,
                        state=f"runs {replicas} replica{'s' if replicas != 1 else ''}, "
                        f"so ordinal {ordinal} is not running",
                    )
                else:
                    use = Use(ref, "volumeClaimTemplates", live=True)
                uses[(meta.namespace, name)] = use
    return uses


def check_pvcs(found: Found) -> None:
    """Report claims no live pod mounts (idle-only users → cascade) and unbindable Pending ones."""
    if found.skip("pvc-unused", ("PersistentVolumeClaim", *TEMPLATE_KINDS)):
        return
    sts_uses = _statefulset_uses(found)
    for pvc in found.ctx.snap.pvcs:
        meta = pvc.metadata
        if any(r.kind == "Pod" for r in meta.owner_references):
            continue  # a generic ephemeral volume lives and dies with its pod
        uses = list(found.refs.of("PersistentVolumeClaim", meta.namespace, meta.name))
        sts_use = sts_uses.get((meta.namespace, meta.name))
        if sts_use is not None:
            # The StatefulSet's verdict on an ordinal outranks its own pods' idle records.
            uses = [sts_use] if not sts_use.live else [*uses, sts_use]
        if pvc.status.phase == "Pending":
            used, _ = found.judge_uses(uses)
            if used:
                continue
            found.add(
                Candidate(
                    "PersistentVolumeClaim",
                    pvc,
                    "pvc-pending",
                    "Pending: no PersistentVolume is bound and no live pod waits for it",
                    Confidence.MEDIUM,
                    evidence=("status.phase=Pending",),
                    by_reference=True,
                )
            )
            continue
        found.add_unreferenced(
            "PersistentVolumeClaim",
            pvc,
            rule="pvc-unused",
            uses=uses,
            noun="live pod or template",
            confidence=Confidence.HIGH,
        )


def check_pvs(found: Found) -> None:
    """Report volumes that are provisioned (and billed) but bound to no claim."""
    for pv in found.ctx.snap.pvs:
        phase = pv.status.phase
        if phase not in ("Released", "Available", "Failed"):
            continue
        claim = pv.spec.claim_ref
        reason = {
            "Released": "Released: its claim"
            + (f" {claim.namespace}/{claim.name}" if claim and claim.name else "")
            + " was deleted but the volume was kept (reclaim policy "
            + (pv.spec.persistent_volume_reclaim_policy or "Retain")
            + ")",
            "Available": "Available: provisioned but bound to no claim",
            "Failed": "Failed: automatic reclamation failed; the disk still exists",
        }[phase]
        found.add(
            Candidate(
                "PersistentVolume",
                pv,
                "pv-unbound",
                reason,
                Confidence.MEDIUM if phase == "Available" else Confidence.HIGH,
                evidence=(f"status.phase={phase}",),
            )
        )


def check_storage_classes(found: Found) -> None:
    """Report non-default StorageClasses no PV, PVC or claim template names."""
    if found.skip(
        "storageclass-unused",
        ("StorageClass", "PersistentVolume", "PersistentVolumeClaim", "StatefulSet"),
    ):
        return
    for sc in found.ctx.snap.storage_classes:
        if is_default_class(sc):
            continue
        if found.refs.of("StorageClass", None, sc.metadata.name):
            continue
        found.add(
            Candidate(
                "StorageClass",
                sc,
                "storageclass-unused",
                "no PersistentVolume, claim or StatefulSet claim template uses it",
                Confidence.MEDIUM,
                evidence=("it is not the default class",),
                by_reference=True,
            )
        )


def check_volume_attachments(found: Found) -> None:
    """Report VolumeAttachments whose PersistentVolume or Node no longer exists."""
    if found.skip("volumeattachment-dangling", ("VolumeAttachment", "PersistentVolume", "Node")):
        return
    ctx = found.ctx
    for va in ctx.snap.volume_attachments:
        pv = va.spec.source.persistent_volume_name
        missing: list[str] = []
        if pv and not ctx.exists("PersistentVolume", None, pv):
            missing.append(f"PersistentVolume {pv}")
        if va.spec.node_name and not ctx.exists("Node", None, va.spec.node_name):
            missing.append(f"Node {va.spec.node_name}")
        if missing:
            found.add(
                Candidate(
                    "VolumeAttachment",
                    va,
                    "volumeattachment-dangling",
                    " and ".join(missing)
                    + (" no longer exists" if len(missing) == 1 else " no longer exist"),
                    Confidence.HIGH,
                    evidence=tuple(f"{m} not found" for m in missing),
                )
            )
