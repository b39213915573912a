"""A cluster's objects as read at one moment: what the analysis consumes.

The reader builds a Snapshot page by page from a live cluster; ``app.kube.snapshot_file``
builds one from ``kubectl get -o json|yaml`` output. Both fill ``listed`` with the kinds whose
every object is present, so a rule can tell "there are none" from "we could not look".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

from app.kube import objects as o


@dataclass(slots=True)
class ClusterInfo:
    name: str | None = None
    server: str | None = None
    version: str | None = None
    provider: str | None = None  # "aws" | "gcp" | "azure" | None when unknown
    region: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "server": self.server,
            "version": self.version,
            "provider": self.provider,
            "region": self.region,
        }


@dataclass(slots=True)
class Snapshot:
    objects: dict[str, list[Any]] = field(default_factory=dict)
    api_versions: dict[str, str] = field(default_factory=dict)
    listed: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    # Kinds skipped for a reason that may pass (429/5xx that outlasted the retries, a list
    # that kept expiring): a later read may well get them.
    transient_failures: dict[str, str] = field(default_factory=dict)  # kind -> the warning
    cluster: ClusterInfo = field(default_factory=ClusterInfo)
    # CRD name -> whether any served version has an instance; None when not checked.
    crd_instances: dict[str, bool] | None = None

    def add(self, kind: str, api_version: str, items: list[Any]) -> None:
        """Append decoded objects of one kind (one page, or one file's worth)."""
        self.objects.setdefault(kind, []).extend(items)
        self.api_versions.setdefault(kind, api_version)

    def items(self, kind: str) -> list[Any]:
        return self.objects.get(kind, [])

    @property
    def objects_scanned(self) -> int:
        return sum(len(v) for v in self.objects.values())

    # Typed views, so rules read ``snap.pods`` rather than casting ``items("Pod")``.
    @property
    def namespaces(self) -> list[o.Namespace]:
        return cast(list[o.Namespace], self.items("Namespace"))

    @property
    def nodes(self) -> list[o.Node]:
        return cast(list[o.Node], self.items("Node"))

    @property
    def pods(self) -> list[o.Pod]:
        return cast(list[o.Pod], self.items("Pod"))

    @property
    def services(self) -> list[o.Service]:
        return cast(list[o.Service], self.items("Service"))

    @property
    def endpoint_slices(self) -> list[o.EndpointSlice]:
        return cast(list[o.EndpointSlice], self.items("EndpointSlice"))

    @property
    def config_maps(self) -> list[o.ConfigMap]:
        return cast(list[o.ConfigMap], self.items("ConfigMap"))

    @property
    def secrets(self) -> list[o.Secret]:
        return cast(list[o.Secret], self.items("Secret"))

    @property
    def service_accounts(self) -> list[o.ServiceAccount]:
        return cast(list[o.ServiceAccount], self.items("ServiceAccount"))

    @property
    def pvcs(self) -> list[o.PersistentVolumeClaim]:
        return cast(list[o.PersistentVolumeClaim], self.items("PersistentVolumeClaim"))

    @property
    def pvs(self) -> list[o.PersistentVolume]:
        return cast(list[o.PersistentVolume], self.items("PersistentVolume"))

    def workloads(self, kind: str) -> list[o.Workload]:
        """Deployments, StatefulSets, ReplicaSets or DaemonSets."""
        return cast(list[o.Workload], self.items(kind))

    @property
    def jobs(self) -> list[o.Job]:
        return cast(list[o.Job], self.items("Job"))

    @property
    def cron_jobs(self) -> list[o.CronJob]:
        return cast(list[o.CronJob], self.items("CronJob"))

    @property
    def hpas(self) -> list[o.HorizontalPodAutoscaler]:
        return cast(list[o.HorizontalPodAutoscaler], self.items("HorizontalPodAutoscaler"))

    @property
    def scaled_objects(self) -> list[o.ScaledObject]:
        return cast(list[o.ScaledObject], self.items("ScaledObject"))

    @property
    def gateways(self) -> list[o.Gateway]:
        return cast(list[o.Gateway], self.items("Gateway"))

    @property
    def pdbs(self) -> list[o.PodDisruptionBudget]:
        return cast(list[o.PodDisruptionBudget], self.items("PodDisruptionBudget"))

    @property
    def ingresses(self) -> list[o.Ingress]:
        return cast(list[o.Ingress], self.items("Ingress"))

    @property
    def network_policies(self) -> list[o.NetworkPolicy]:
        return cast(list[o.NetworkPolicy], self.items("NetworkPolicy"))

    def roles(self, kind: str) -> list[o.Role]:
        """Roles or ClusterRoles."""
        return cast(list[o.Role], self.items(kind))

    def bindings(self, kind: str) -> list[o.RoleBinding]:
        """RoleBindings or ClusterRoleBindings."""
        return cast(list[o.RoleBinding], self.items(kind))

    @property
    def priority_classes(self) -> list[o.PriorityClass]:
        return cast(list[o.PriorityClass], self.items("PriorityClass"))

    @property
    def storage_classes(self) -> list[o.StorageClass]:
        return cast(list[o.StorageClass], self.items("StorageClass"))

    @property
    def volume_attachments(self) -> list[o.VolumeAttachment]:
        return cast(list[o.VolumeAttachment], self.items("VolumeAttachment"))

    @property
    def crds(self) -> list[o.CustomResourceDefinition]:
        return cast(list[o.CustomResourceDefinition], self.items("CustomResourceDefinition"))

    def webhooks(self, kind: str) -> list[o.WebhookConfiguration]:
        """Validating- or MutatingWebhookConfigurations."""
        return cast(list[o.WebhookConfiguration], self.items(kind))

    @property
    def api_services(self) -> list[o.APIService]:
        return cast(list[o.APIService], self.items("APIService"))
