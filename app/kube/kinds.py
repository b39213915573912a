"""The kinds Leftover reads: where each lives in the API and which struct decodes it.

One table drives the reader (what to LIST and how), the snapshot loader (which struct decodes a
``kind`` in a List file), the ``--kinds`` flag (which names exist) and the analysis (which kinds
were read). Versions are in preference order; discovery picks the first one the cluster serves.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from app.kube import objects as o


@dataclass(frozen=True, slots=True)
class KindSpec:
    kind: str
    group: str  # "" for the core group
    versions: tuple[str, ...]
    plural: str
    namespaced: bool
    struct: type[msgspec.Struct]
    metadata_only: bool = False  # list as PartialObjectMetadata: never fetch the object's data
    reportable: bool = True  # False: read only as evidence (Node, EndpointSlice, …)

    def api_version(self, version: str) -> str:
        """The apiVersion string for one of this kind's versions."""
        return f"{self.group}/{version}" if self.group else version

    @property
    def default_api_version(self) -> str:
        return self.api_version(self.versions[0])


def _k(
    kind: str,
    group: str,
    versions: tuple[str, ...],
    plural: str,
    struct: type[msgspec.Struct],
    *,
    namespaced: bool = True,
    metadata_only: bool = False,
    reportable: bool = True,
) -> KindSpec:
    return KindSpec(
        kind=kind,
        group=group,
        versions=versions,
        plural=plural,
        namespaced=namespaced,
        struct=struct,
        metadata_only=metadata_only,
        reportable=reportable,
    )


KINDS: tuple[KindSpec, ...] = (
    _k("Namespace", "", ("v1",), "namespaces", o.Namespace, namespaced=False),
    _k("Node", "", ("v1",), "nodes", o.Node, namespaced=False, reportable=False),
    _k("Pod", "", ("v1",), "pods", o.Pod),
    _k("Service", "", ("v1",), "services", o.Service),
    _k("ConfigMap", "", ("v1",), "configmaps", o.ConfigMap, metadata_only=True),
    _k("Secret", "", ("v1",), "secrets", o.Secret, metadata_only=True),
    _k("ServiceAccount", "", ("v1",), "serviceaccounts", o.ServiceAccount),
    _k("PersistentVolumeClaim", "", ("v1",), "persistentvolumeclaims", o.PersistentVolumeClaim),
    _k("PersistentVolume", "", ("v1",), "persistentvolumes", o.PersistentVolume, namespaced=False),
    _k("Deployment", "apps", ("v1",), "deployments", o.Workload),
    _k("StatefulSet", "apps", ("v1",), "statefulsets", o.Workload),
    _k("ReplicaSet", "apps", ("v1",), "replicasets", o.Workload),
    _k("DaemonSet", "apps", ("v1",), "daemonsets", o.Workload),
    _k("Job", "batch", ("v1",), "jobs", o.Job),
    _k("CronJob", "batch", ("v1", "v1beta1"), "cronjobs", o.CronJob),
    _k(
        "HorizontalPodAutoscaler",
        "autoscaling",
        ("v2", "v1"),
        "horizontalpodautoscalers",
        o.HorizontalPodAutoscaler,
    ),
    _k("PodDisruptionBudget", "policy", ("v1",), "poddisruptionbudgets", o.PodDisruptionBudget),
    _k("Ingress", "networking.k8s.io", ("v1",), "ingresses", o.Ingress),
    _k("NetworkPolicy", "networking.k8s.io", ("v1",), "networkpolicies", o.NetworkPolicy),
    _k(
        "EndpointSlice",
        "discovery.k8s.io",
        ("v1",),
        "endpointslices",
        o.EndpointSlice,
        reportable=False,
    ),
    _k("Role", "rbac.authorization.k8s.io", ("v1",), "roles", o.Role),
    _k(
        "ClusterRole",
        "rbac.authorization.k8s.io",
        ("v1",),
        "clusterroles",
        o.Role,
        namespaced=False,
    ),
    _k("RoleBinding", "rbac.authorization.k8s.io", ("v1",), "rolebindings", o.RoleBinding),
    _k(
        "ClusterRoleBinding",
        "rbac.authorization.k8s.io",
        ("v1",),
        "clusterrolebindings",
        o.RoleBinding,
        namespaced=False,
    ),
    _k(
        "PriorityClass",
        "scheduling.k8s.io",
        ("v1",),
        "priorityclasses",
        o.PriorityClass,
        namespaced=False,
    ),
    _k(
        "StorageClass",
        "storage.k8s.io",
        ("v1",),
        "storageclasses",
        o.StorageClass,
        namespaced=False,
    ),
    _k(
        "VolumeAttachment",
        "storage.k8s.io",
        ("v1",),
        "volumeattachments",
        o.VolumeAttachment,
        namespaced=False,
    ),
    _k(
        "CustomResourceDefinition",
        "apiextensions.k8s.io",
        ("v1",),
        "customresourcedefinitions",
        o.CustomResourceDefinition,
        namespaced=False,
    ),
    _k(
        "ValidatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        ("v1",),
        "validatingwebhookconfigurations",
        o.WebhookConfiguration,
        namespaced=False,
        reportable=False,
    ),
    _k(
        "MutatingWebhookConfiguration",
        "admissionregistration.k8s.io",
        ("v1",),
        "mutatingwebhookconfigurations",
        o.WebhookConfiguration,
        namespaced=False,
        reportable=False,
    ),
    _k(
        "APIService",
        "apiregistration.k8s.io",
        ("v1",),
        "apiservices",
        o.APIService,
        namespaced=False,
        reportable=False,
    ),
    _k("ScaledObject", "keda.sh", ("v1alpha1",), "scaledobjects", o.ScaledObject, reportable=False),
    _k(
        "Gateway",
        "gateway.networking.k8s.io",
        ("v1", "v1beta1"),
        "gateways",
        o.Gateway,
        reportable=False,
    ),
)

BY_KIND: dict[str, KindSpec] = {k.kind: k for k in KINDS}
_BY_LOWER: dict[str, KindSpec] = {}
for _spec in KINDS:
    for _alias in (_spec.kind.lower(), _spec.plural, _spec.plural.rstrip("s")):
        _BY_LOWER.setdefault(_alias, _spec)
_SHORT = {
    "cm": "ConfigMap",
    "svc": "Service",
    "sa": "ServiceAccount",
    "pvc": "PersistentVolumeClaim",
    "pv": "PersistentVolume",
    "deploy": "Deployment",
    "sts": "StatefulSet",
    "rs": "ReplicaSet",
    "ds": "DaemonSet",
    "cj": "CronJob",
    "hpa": "HorizontalPodAutoscaler",
    "pdb": "PodDisruptionBudget",
    "ing": "Ingress",
    "netpol": "NetworkPolicy",
    "pc": "PriorityClass",
    "sc": "StorageClass",
    "crd": "CustomResourceDefinition",
    "ns": "Namespace",
}
for _short, _kind in _SHORT.items():
    _BY_LOWER[_short] = BY_KIND[_kind]

REPORTABLE_KINDS: tuple[str, ...] = tuple(k.kind for k in KINDS if k.reportable)


def resolve_kind(name: str) -> KindSpec | None:
    """The kind a user means by ``name`` (Kind, plural, singular or kubectl short name)."""
    return BY_KIND.get(name) or _BY_LOWER.get(name.strip().lower())


def cluster_role_rules() -> list[dict[str, list[str]]]:
    """The least-privilege RBAC rules a scan needs: get/list on every kind read, by group.

    Secrets are listed as metadata only, but RBAC has no metadata-only verb: ``list secrets``
    is required, and the reader never asks for their data. Telling whether a CRD has instances
    needs ``list`` on the custom resources too; that grant is optional (see the README) and,
    without it, the CRD rule reports "not evaluated".
    """
    by_group: dict[str, list[str]] = {}
    for spec in KINDS:
        by_group.setdefault(spec.group, []).append(spec.plural)
    rules = [
        {"apiGroups": [group], "resources": sorted(plurals), "verbs": ["get", "list"]}
        for group, plurals in sorted(by_group.items())
    ]
    return rules
