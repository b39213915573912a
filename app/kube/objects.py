"""The Kubernetes wire format, reduced to the fields Leftover's rules read.

Every struct ignores unknown fields, so decoding a full object (or a whole List page) with
msgspec keeps only what is declared here. Field names are the API's camelCase, renamed to
snake_case. Defaults mirror the API's own defaults where a rule depends on them (a Deployment
without ``spec.replicas`` runs one replica), which is why ``replicas`` is optional and read
through helpers instead of being defaulted here.

This module is pure data: the analysis imports it, so it must never grow I/O.
"""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct, field

# Annotations are kept only when a rule or the report reads them. A kubectl-applied object
# carries its whole previous manifest in an annotation; keeping those would multiply memory.
KEPT_ANNOTATION_PREFIXES: tuple[str, ...] = (
    "kubernetes.io/service-account.name",
    "kubernetes.io/service-account.uid",
    "storageclass.kubernetes.io/is-default-class",
    "storageclass.beta.kubernetes.io/is-default-class",
    "service.beta.kubernetes.io/",
    "cloud.google.com/",
    "networking.gke.io/",
    "meta.helm.sh/",
    "argocd.argoproj.io/",
    "leftover.dev/",
    "volume.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-provisioner",
    "volume.beta.kubernetes.io/storage-class",
    "pv.kubernetes.io/provisioned-by",
    "deployment.kubernetes.io/revision",
    "autoscaling.keda.sh/",
    "cert-manager.io/",
    "helm.sh/hook",
    "nginx.ingress.kubernetes.io/auth-secret",
    "nginx.ingress.kubernetes.io/auth-tls-secret",
    "nginx.ingress.kubernetes.io/proxy-ssl-secret",
    "downscaler/",
    "kor/",
)


class Base(Struct, rename="camel", omit_defaults=True, gc=False):
    """Common base: camelCase on the wire, unknown fields ignored.

    ``gc=False``: a decoded object tree has no reference cycles, and leaving a 100k-object
    snapshot's structs out of the cyclic collector keeps its repeated full passes from
    costing more than decoding itself.
    """


class OwnerReference(Base):
    kind: str = ""
    name: str = ""
    uid: str = ""
    api_version: str = ""
    controller: bool | None = None


class ObjectMeta(Base):
    name: str = ""
    namespace: str | None = None
    uid: str = ""
    creation_timestamp: str | None = None
    deletion_timestamp: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    owner_references: list[OwnerReference] = field(default_factory=list)
    finalizers: list[str] = field(default_factory=list)


# --- selectors --------------------------------------------------------------------------


class LabelSelectorRequirement(Base):
    key: str = ""
    operator: str = ""
    values: list[str] = field(default_factory=list)


class LabelSelector(Base):
    match_labels: dict[str, str] = field(default_factory=dict)
    match_expressions: list[LabelSelectorRequirement] = field(default_factory=list)


# --- pod spec -----------------------------------------------------------------------------


class LocalRef(Base):
    """``{name}``: a LocalObjectReference, ConfigMap/Secret env source or key selector."""

    name: str | None = None
    optional: bool | None = None


class KeySelector(Base):
    name: str | None = None
    key: str = ""
    optional: bool | None = None


class EnvVarSource(Base):
    config_map_key_ref: KeySelector | None = None
    secret_key_ref: KeySelector | None = None


class EnvVar(Base):
    name: str = ""
    value: str | None = None
    value_from: EnvVarSource | None = None


class EnvFromSource(Base):
    config_map_ref: LocalRef | None = None
    secret_ref: LocalRef | None = None


class ResourceRequirements(Base):
    requests: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)


class Container(Base):
    name: str = ""
    image: str | None = None
    command: list[str] = field(default_factory=list)
    args: list[str] = field(default_factory=list)
    env: list[EnvVar] = field(default_factory=list)
    env_from: list[EnvFromSource] = field(default_factory=list)
    resources: ResourceRequirements | None = None


class ConfigMapVolumeSource(Base):
    name: str | None = None
    optional: bool | None = None


class SecretVolumeSource(Base):
    secret_name: str | None = None
    optional: bool | None = None


class PVCVolumeSource(Base):
    claim_name: str = ""
    read_only: bool | None = None


class VolumeProjection(Base):
    config_map: LocalRef | None = None
    secret: LocalRef | None = None


class ProjectedVolumeSource(Base):
    sources: list[VolumeProjection] = field(default_factory=list)


class CSIVolumeSource(Base):
    driver: str = ""
    node_publish_secret_ref: LocalRef | None = None


class SecretRefVolumeSource(Base):
    """cephfs, cinder, flexVolume, iscsi, rbd, scaleIO, storageos: each names ``secretRef``."""

    secret_ref: LocalRef | None = None


class AzureFileVolumeSource(Base):
    secret_name: str | None = None


class Volume(Base):
    name: str = ""
    config_map: ConfigMapVolumeSource | None = None
    secret: SecretVolumeSource | None = None
    persistent_volume_claim: PVCVolumeSource | None = None
    projected: ProjectedVolumeSource | None = None
    ephemeral: dict[str, Any] | None = None
    csi: CSIVolumeSource | None = None
    azure_file: AzureFileVolumeSource | None = None
    cephfs: SecretRefVolumeSource | None = None
    cinder: SecretRefVolumeSource | None = None
    flex_volume: SecretRefVolumeSource | None = None
    iscsi: SecretRefVolumeSource | None = None
    rbd: SecretRefVolumeSource | None = None
    scale_io: SecretRefVolumeSource | None = field(default=None, name="scaleIO")
    storageos: SecretRefVolumeSource | None = None


class NodeSelectorRequirement(Base):
    key: str = ""
    operator: str = ""
    values: list[str] = field(default_factory=list)


class NodeSelectorTerm(Base):
    match_expressions: list[NodeSelectorRequirement] = field(default_factory=list)


class NodeSelector(Base):
    node_selector_terms: list[NodeSelectorTerm] = field(default_factory=list)


class NodeAffinity(Base):
    required_during_scheduling_ignored_during_execution: NodeSelector | None = None


class Affinity(Base):
    node_affinity: NodeAffinity | None = None


class PodSpec(Base):
    containers: list[Container] = field(default_factory=list)
    init_containers: list[Container] = field(default_factory=list)
    ephemeral_containers: list[Container] = field(default_factory=list)
    volumes: list[Volume] = field(default_factory=list)
    image_pull_secrets: list[LocalRef] = field(default_factory=list)
    service_account_name: str | None = None
    service_account: str | None = None  # deprecated alias, still honoured by the API server
    priority_class_name: str | None = None
    runtime_class_name: str | None = None
    node_name: str | None = None
    node_selector: dict[str, str] = field(default_factory=dict)
    affinity: Affinity | None = None

    def node_label_keys(self) -> set[str]:
        """The node labels this pod requires (nodeSelector and required node affinity)."""
        keys = set(self.node_selector)
        na = self.affinity.node_affinity if self.affinity else None
        required = na.required_during_scheduling_ignored_during_execution if na else None
        for term in required.node_selector_terms if required else ():
            keys.update(r.key for r in term.match_expressions)
        return keys


class PodTemplateMeta(Base):
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


class PodTemplateSpec(Base):
    metadata: PodTemplateMeta = field(default_factory=PodTemplateMeta)
    spec: PodSpec = field(default_factory=PodSpec)


# --- pods ---------------------------------------------------------------------------------


class ContainerStateWaiting(Base):
    reason: str | None = None
    message: str | None = None


class ContainerState(Base):
    waiting: ContainerStateWaiting | None = None
    running: dict[str, Any] | None = None
    terminated: dict[str, Any] | None = None


class ContainerStatus(Base):
    name: str = ""
    ready: bool = False
    restart_count: int = 0
    state: ContainerState | None = None


class PodStatus(Base):
    phase: str | None = None
    reason: str | None = None
    message: str | None = None
    start_time: str | None = None
    container_statuses: list[ContainerStatus] = field(default_factory=list)
    init_container_statuses: list[ContainerStatus] = field(default_factory=list)


class Pod(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PodSpec = field(default_factory=PodSpec)
    status: PodStatus = field(default_factory=PodStatus)


# --- workloads ----------------------------------------------------------------------------


class PVCTemplateSpec(Base):
    storage_class_name: str | None = None
    resources: ResourceRequirements | None = None


class PVCTemplate(Base):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PVCTemplateSpec = field(default_factory=PVCTemplateSpec)


class WorkloadSpec(Base):
    """Deployment, StatefulSet, ReplicaSet and DaemonSet share this shape."""

    replicas: int | None = None
    selector: LabelSelector | None = None
    template: PodTemplateSpec = field(default_factory=PodTemplateSpec)
    volume_claim_templates: list[PVCTemplate] = field(default_factory=list)
    service_name: str | None = None


class WorkloadStatus(Base):
    replicas: int | None = None
    ready_replicas: int | None = None
    available_replicas: int | None = None
    desired_number_scheduled: int | None = None
    number_ready: int | None = None
    current_number_scheduled: int | None = None


class Workload(Base, kw_only=True):
    """A Deployment, StatefulSet, ReplicaSet or DaemonSet (the kind says which)."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: WorkloadSpec = field(default_factory=WorkloadSpec)
    status: WorkloadStatus = field(default_factory=WorkloadStatus)


class Condition(Base):
    type: str = ""
    status: str = ""
    reason: str | None = None
    message: str | None = None
    last_transition_time: str | None = None


class JobSpec(Base):
    template: PodTemplateSpec = field(default_factory=PodTemplateSpec)
    ttl_seconds_after_finished: int | None = None
    suspend: bool | None = None


class JobStatus(Base):
    conditions: list[Condition] = field(default_factory=list)
    start_time: str | None = None
    completion_time: str | None = None
    active: int | None = None
    succeeded: int | None = None
    failed: int | None = None


class Job(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: JobSpec = field(default_factory=JobSpec)
    status: JobStatus = field(default_factory=JobStatus)


class JobTemplateSpec(Base):
    metadata: PodTemplateMeta = field(default_factory=PodTemplateMeta)
    spec: JobSpec = field(default_factory=JobSpec)


class CronJobSpec(Base):
    schedule: str = ""
    suspend: bool | None = None
    job_template: JobTemplateSpec = field(default_factory=JobTemplateSpec)


class CronJobStatus(Base):
    last_schedule_time: str | None = None
    last_successful_time: str | None = None


class CronJob(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: CronJobSpec = field(default_factory=CronJobSpec)
    status: CronJobStatus = field(default_factory=CronJobStatus)


# --- config and identity ------------------------------------------------------------------


class ConfigMap(Base, kw_only=True):
    """Only metadata: a ConfigMap's data never matters to a rule and can be megabytes."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)


class Secret(Base, kw_only=True):
    """Metadata and type only. Secrets are listed as PartialObjectMetadata: no value is fetched."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    type: str | None = None


class ServiceAccount(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    secrets: list[LocalRef] = field(default_factory=list)
    image_pull_secrets: list[LocalRef] = field(default_factory=list)


# --- networking ---------------------------------------------------------------------------


class ServicePort(Base):
    name: str | None = None
    port: int = 0
    protocol: str | None = None


class ServiceSpec(Base):
    type: str | None = None
    selector: dict[str, str] | None = None
    cluster_ip: str | None = field(default=None, name="clusterIP")
    external_name: str | None = None
    ports: list[ServicePort] = field(default_factory=list)
    load_balancer_class: str | None = None


class LoadBalancerIngress(Base):
    ip: str | None = None
    hostname: str | None = None


class LoadBalancerStatus(Base):
    ingress: list[LoadBalancerIngress] = field(default_factory=list)


class ServiceStatus(Base):
    load_balancer: LoadBalancerStatus | None = None


class Service(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: ServiceSpec = field(default_factory=ServiceSpec)
    status: ServiceStatus = field(default_factory=ServiceStatus)


class EndpointConditions(Base):
    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None


class Endpoint(Base):
    addresses: list[str] = field(default_factory=list)
    conditions: EndpointConditions = field(default_factory=EndpointConditions)


class EndpointSlice(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    endpoints: list[Endpoint] | None = None


class ServiceBackendPort(Base):
    name: str | None = None
    number: int | None = None


class IngressServiceBackend(Base):
    name: str = ""
    port: ServiceBackendPort | None = None


class IngressBackend(Base):
    service: IngressServiceBackend | None = None
    resource: dict[str, Any] | None = None


class HTTPIngressPath(Base):
    path: str | None = None
    backend: IngressBackend = field(default_factory=IngressBackend)


class HTTPIngressRuleValue(Base):
    paths: list[HTTPIngressPath] = field(default_factory=list)


class IngressRule(Base):
    host: str | None = None
    http: HTTPIngressRuleValue | None = None


class IngressTLS(Base):
    hosts: list[str] = field(default_factory=list)
    secret_name: str | None = None


class IngressSpec(Base):
    ingress_class_name: str | None = None
    default_backend: IngressBackend | None = None
    rules: list[IngressRule] = field(default_factory=list)
    tls: list[IngressTLS] = field(default_factory=list)


class Ingress(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: IngressSpec = field(default_factory=IngressSpec)
    status: ServiceStatus = field(default_factory=ServiceStatus)


class NetworkPolicySpec(Base):
    pod_selector: LabelSelector = field(default_factory=LabelSelector)


class NetworkPolicy(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: NetworkPolicySpec = field(default_factory=NetworkPolicySpec)


# --- storage ------------------------------------------------------------------------------


class ObjectReference(Base):
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    uid: str | None = None


class PVCSpec(Base):
    storage_class_name: str | None = None
    volume_name: str | None = None
    resources: ResourceRequirements | None = None
    access_modes: list[str] = field(default_factory=list)


class PVCStatus(Base):
    phase: str | None = None
    capacity: dict[str, str] = field(default_factory=dict)


class PersistentVolumeClaim(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PVCSpec = field(default_factory=PVCSpec)
    status: PVCStatus = field(default_factory=PVCStatus)


class PVSource(Base):
    driver: str = ""
    volume_handle: str | None = None
    volume_attributes: dict[str, str] = field(default_factory=dict)


class PVSpec(Base):
    capacity: dict[str, str] = field(default_factory=dict)
    storage_class_name: str | None = None
    claim_ref: ObjectReference | None = None
    persistent_volume_reclaim_policy: str | None = None
    csi: PVSource | None = None
    aws_elastic_block_store: dict[str, Any] | None = None
    gce_persistent_disk: dict[str, Any] | None = None
    azure_disk: dict[str, Any] | None = None


class PVStatus(Base):
    phase: str | None = None


class PersistentVolume(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PVSpec = field(default_factory=PVSpec)
    status: PVStatus = field(default_factory=PVStatus)


class StorageClass(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    provisioner: str = ""
    parameters: dict[str, str] = field(default_factory=dict)
    reclaim_policy: str | None = None


class VolumeAttachmentSource(Base):
    persistent_volume_name: str | None = None


class VolumeAttachmentSpec(Base):
    attacher: str = ""
    node_name: str = ""
    source: VolumeAttachmentSource = field(default_factory=VolumeAttachmentSource)


class VolumeAttachment(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: VolumeAttachmentSpec = field(default_factory=VolumeAttachmentSpec)


# --- autoscaling, disruption --------------------------------------------------------------


class CrossVersionObjectReference(Base):
    kind: str = ""
    name: str = ""
    api_version: str | None = None


class HPASpec(Base):
    scale_target_ref: CrossVersionObjectReference = field(
        default_factory=CrossVersionObjectReference
    )
    min_replicas: int | None = None
    max_replicas: int = 0


class HorizontalPodAutoscaler(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: HPASpec = field(default_factory=HPASpec)


class ScaledObjectSpec(Base):
    scale_target_ref: CrossVersionObjectReference = field(
        default_factory=CrossVersionObjectReference
    )


class ScaledObject(Base, kw_only=True):
    """KEDA's autoscaler (keda.sh/v1alpha1); its target Kind defaults to Deployment."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: ScaledObjectSpec = field(default_factory=ScaledObjectSpec)


class PDBSpec(Base):
    selector: LabelSelector | None = None
    min_available: int | str | None = None
    max_unavailable: int | str | None = None


class PodDisruptionBudget(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: PDBSpec = field(default_factory=PDBSpec)


# --- RBAC ---------------------------------------------------------------------------------


class AggregationRule(Base):
    cluster_role_selectors: list[LabelSelector] = field(default_factory=list)


class PolicyRule(Base):
    api_groups: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)
    resource_names: list[str] = field(default_factory=list)


class Role(Base, kw_only=True):
    """A Role or a ClusterRole (the kind says which). Its rules tell which applications may
    read ConfigMaps and Secrets through the API instead of mounting them."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    rules: list[PolicyRule] = field(default_factory=list)
    aggregation_rule: AggregationRule | None = None


class RoleRef(Base):
    api_group: str = ""
    kind: str = ""
    name: str = ""


class Subject(Base):
    kind: str = ""
    name: str = ""
    namespace: str | None = None
    api_group: str | None = None


class RoleBinding(Base, kw_only=True):
    """A RoleBinding or a ClusterRoleBinding (the kind says which)."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    role_ref: RoleRef = field(default_factory=RoleRef)
    subjects: list[Subject] = field(default_factory=list)


# --- cluster-scoped odds and ends ---------------------------------------------------------


class PriorityClass(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    value: int = 0
    global_default: bool | None = None


class NamespaceStatus(Base):
    phase: str | None = None


class Namespace(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    status: NamespaceStatus = field(default_factory=NamespaceStatus)


class NodeSystemInfo(Base):
    kubelet_version: str | None = None
    os_image: str | None = None
    architecture: str | None = None


class NodeStatus(Base):
    capacity: dict[str, str] = field(default_factory=dict)
    allocatable: dict[str, str] = field(default_factory=dict)
    node_info: NodeSystemInfo | None = None


class NodeSpec(Base):
    provider_id: str | None = field(default=None, name="providerID")
    unschedulable: bool | None = None


class Node(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: NodeSpec = field(default_factory=NodeSpec)
    status: NodeStatus = field(default_factory=NodeStatus)


class CRDVersion(Base):
    name: str = ""
    served: bool = True
    storage: bool = False


class CRDNames(Base):
    plural: str = ""
    kind: str = ""


class CRDSpec(Base):
    group: str = ""
    scope: str = "Namespaced"
    names: CRDNames = field(default_factory=CRDNames)
    versions: list[CRDVersion] = field(default_factory=list)


class CustomResourceDefinition(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: CRDSpec = field(default_factory=CRDSpec)


class ServiceReference(Base):
    namespace: str | None = None
    name: str | None = None


class WebhookClientConfig(Base):
    service: ServiceReference | None = None


class Webhook(Base):
    name: str = ""
    client_config: WebhookClientConfig = field(default_factory=WebhookClientConfig)


class WebhookConfiguration(Base, kw_only=True):
    """A Validating- or MutatingWebhookConfiguration (the kind says which)."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    webhooks: list[Webhook] = field(default_factory=list)


class APIServiceSpec(Base):
    service: ServiceReference | None = None
    group: str | None = None
    version: str | None = None


class APIService(Base, kw_only=True):
    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: APIServiceSpec = field(default_factory=APIServiceSpec)


class SecretObjectReference(Base):
    name: str = ""
    namespace: str | None = None
    kind: str | None = None
    group: str | None = None


class GatewayTLSConfig(Base):
    certificate_refs: list[SecretObjectReference] = field(default_factory=list)


class Listener(Base):
    name: str = ""
    tls: GatewayTLSConfig | None = None


class GatewaySpec(Base):
    gateway_class_name: str = ""
    listeners: list[Listener] = field(default_factory=list)


class Gateway(Base, kw_only=True):
    """A Gateway API Gateway: its listeners' TLS certificates are Secrets in use."""

    metadata: ObjectMeta = field(default_factory=ObjectMeta)
    spec: GatewaySpec = field(default_factory=GatewaySpec)


class ListMeta(Base):
    resource_version: str | None = None
    continue_: str | None = field(default=None, name="continue")
    remaining_item_count: int | None = None


def keep_annotations(meta: ObjectMeta) -> None:
    """Drop annotations no rule reads, so a large cluster's snapshot stays small."""
    if meta.annotations:
        meta.annotations = {
            k: v for k, v in meta.annotations.items() if k.startswith(KEPT_ANNOTATION_PREFIXES)
        }


def to_builtins(obj: Struct) -> Any:
    """The object as plain JSON-ready data (camelCase keys), e.g. for a snapshot file."""
    return msgspec.to_builtins(obj)
