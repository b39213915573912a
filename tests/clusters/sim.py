"""A small, deterministic Kubernetes cluster simulator for tests.

A ``Cluster`` holds plain Kubernetes objects (dicts, exactly as ``kubectl get -o json`` shows
them). ``apply`` stores manifests the way the API server would (namespace defaulting, ``*List``
expansion, metadata stamping); ``settle`` then does what the controllers of a healthy cluster do:
Deployments get ReplicaSets (plus an old revision for some), ReplicaSets/StatefulSets/DaemonSets/
Jobs get Pods, StatefulSet claim templates get bound PVCs and dynamically provisioned PVs,
Services get EndpointSlices and load-balancer addresses, namespaces get their ``default``
ServiceAccount and ``kube-root-ca.crt``, and the Prometheus Operator turns Prometheus and
Alertmanager resources into StatefulSets, Services and Secrets.

Everything is derived from names and the cluster's ``now``, so two runs build identical objects.
``settle`` fills in only what is missing: a test may pre-set a status (a Failed pod, a Complete
job) and it is kept.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import ipaddress
import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from app.kube.snapshot import Snapshot
from app.kube.snapshot_file import snapshot_from_objects

Obj = dict[str, Any]

RELOADER_IMAGE = "quay.io/prometheus-operator/prometheus-config-reloader:v0.93.1"
UID_NAMESPACE = uuid.UUID("6f1c2d7e-4c51-4b8e-9b44-0d5e1c7a9f21")
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery rand.SafeEncodeString

# Built-in kinds that are cluster-scoped (custom kinds learn their scope from their CRD).
CLUSTER_SCOPED_KINDS = frozenset(
    {
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "ClusterRole",
        "ClusterRoleBinding",
        "PriorityClass",
        "RuntimeClass",
        "IngressClass",
        "CustomResourceDefinition",
        "APIService",
        "ValidatingWebhookConfiguration",
        "MutatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "CertificateSigningRequest",
        "ClusterIssuer",
    }
)

PROVIDERS: dict[str, dict[str, Any]] = {
    "aws": {
        "instance_type": "m5.large",
        "region": "us-east-1",
        "zones": ("us-east-1a", "us-east-1b", "us-east-1c"),
        "service_cidr": "10.100.0.0/16",
        "node_cidr": "192.168.0.0/16",
        "pod_cidr": "192.168.128.0/17",  # VPC CNI: pods take VPC addresses
        "capacity": {"cpu": "2", "memory": "7910360Ki", "pods": "29"},
        "allocatable": {"cpu": "1930m", "memory": "7220184Ki", "pods": "29"},
        "os_image": "Amazon Linux 2023.6.20241212",
        "kernel": "6.1.119-129.201.amzn2023.x86_64",
        "runtime": "containerd://1.7.23",
    },
    "gcp": {
        "instance_type": "e2-standard-4",
        "region": "us-central1",
        "zones": ("us-central1-a", "us-central1-b", "us-central1-c"),
        "service_cidr": "34.118.224.0/20",
        "node_cidr": "10.128.0.0/20",
        "pod_cidr": "10.24.0.0/14",
        "capacity": {"cpu": "4", "memory": "16375772Ki", "pods": "110"},
        "allocatable": {"cpu": "3920m", "memory": "13207004Ki", "pods": "110"},
        "os_image": "Container-Optimized OS from Google",
        "kernel": "6.6.56+",
        "runtime": "containerd://1.7.24",
    },
    "azure": {
        "instance_type": "Standard_D4ds_v5",
        "region": "eastus",
        "zones": ("eastus-1", "eastus-2", "eastus-3"),
        "service_cidr": "10.0.0.0/16",
        "node_cidr": "10.224.0.0/16",
        "pod_cidr": "10.244.0.0/16",  # Azure CNI Overlay
        "capacity": {"cpu": "4", "memory": "16365444Ki", "pods": "250"},
        "allocatable": {"cpu": "3860m", "memory": "12854148Ki", "pods": "250"},
        "os_image": "Ubuntu 22.04.5 LTS",
        "kernel": "5.15.0-1075-azure",
        "runtime": "containerd://1.7.23-1",
    },
    "none": {
        "instance_type": "generic",
        "region": "local",
        "zones": ("local-a",),
        "service_cidr": "10.96.0.0/12",
        "node_cidr": "172.18.0.0/16",
        "pod_cidr": "10.244.0.0/16",
        "capacity": {"cpu": "4", "memory": "16384000Ki", "pods": "110"},
        "allocatable": {"cpu": "4", "memory": "16281600Ki", "pods": "110"},
        "os_image": "Debian GNU/Linux 12 (bookworm)",
        "kernel": "6.8.0-45-generic",
        "runtime": "containerd://1.7.18",
    },
}


# --- YAML ---------------------------------------------------------------------------------


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader that keeps timestamps as strings and ``=`` as a plain string."""


_Loader.yaml_implicit_resolvers = {
    first: [
        r
        for r in resolvers
        if r[0] not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> list[Obj]:
    """Every non-empty document of a multi-document YAML stream."""
    return [d for d in yaml.load_all(text, Loader=_Loader) if d]


def load_yaml_file(path: Path) -> list[Obj]:
    """The documents of a YAML file (gzipped when its name ends in .gz)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return load_yaml(data.decode("utf-8"))


# --- small helpers ------------------------------------------------------------------------


def ts(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def digest(*parts: object) -> str:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()


def safe_suffix(seed: str, n: int) -> str:
    h = hashlib.sha256(seed.encode()).digest()
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in h[:n])


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def labels_match(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Full LabelSelector semantics (matchLabels and matchExpressions)."""
    if selector is None:
        return False
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def owner_ref(owner: Obj, *, controller: bool = True) -> Obj:
    ref = {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }
    if controller:
        ref["controller"] = True
        ref["blockOwnerDeletion"] = True
    return ref


def _quantity_gi(q: str) -> float:
    units = {"Ki": 1 / 1024**2, "Mi": 1 / 1024, "Gi": 1.0, "Ti": 1024.0, "G": 1e9 / 1024**3}
    for suffix, factor in units.items():
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * factor
    return float(q) / 1024**3


class Cluster:
    """An in-memory cluster of plain Kubernetes objects; see the module docstring."""

    def __init__(
        self,
        now: datetime,
        provider: str | None = None,
        *,
        name: str = "sim",
        version: str = "v1.33.5",
        installed_days_ago: int = 40,
    ) -> None:
        self.now = now.astimezone(UTC)
        self.provider = provider
        self.profile = PROVIDERS[provider or "none"]
        self.name = name
        self.version = version
        self.created = self.now - timedelta(days=installed_days_ago)
        self._objects: dict[tuple[str, str, str, str], Obj] = {}
        self._index: dict[tuple[str, str, str], list[tuple[str, str, str, str]]] = {}
        self._rv = 1000
        self._crd_scope: dict[tuple[str, str], str] = {}
        self._ips: dict[str, int] = {}
        self._nodes: list[str] = []
        self.region: str = self.profile["region"]
        self.account = "123456789012"
        self.project = "acme-prod-4711"
        self.subscription = "3f2a6c1e-8d0b-4a7e-9c55-1b2e7f4d9a60"
        self.resource_group = f"MC_rg-{name}_{name}_{self.profile['region']}"
        svc_net = ipaddress.ip_network(self.profile["service_cidr"])
        self._svc_base = int(svc_net.network_address)
        self._svc_next = 20

    # --- storage of objects --------------------------------------------------------------

    @staticmethod
    def _key(obj: Obj) -> tuple[str, str, str, str]:
        meta = obj["metadata"]
        return (group_of(obj["apiVersion"]), obj["kind"], meta.get("namespace") or "", meta["name"])

    def _put(self, obj: Obj) -> None:
        key = self._key(obj)
        if key not in self._objects:
            self._index.setdefault(key[1:], []).append(key)
        self._objects[key] = obj

    def _delete(self, obj: Obj) -> None:
        key = self._key(obj)
        del self._objects[key]
        self._index[key[1:]].remove(key)

    def get(
        self, kind: str, namespace: str | None, name: str, group: str | None = None
    ) -> Obj | None:
        for key in self._index.get((kind, namespace or "", name), ()):
            if group is None or key[0] == group:
                return self._objects[key]
        return None

    def require(self, kind: str, namespace: str | None, name: str) -> Obj:
        obj = self.get(kind, namespace, name)
        if obj is None:
            raise KeyError(f"{kind} {namespace}/{name} not in the cluster")
        return obj

    def remove(self, kind: str, namespace: str | None, name: str) -> Obj:
        obj = self.require(kind, namespace, name)
        self._delete(obj)
        return obj

    def items(self, kind: str, namespace: str | None = None) -> list[Obj]:
        return [
            o
            for (_, k, ns, _), o in self._objects.items()
            if k == kind and (namespace is None or ns == namespace)
        ]

    def owned_by(self, owner: Obj) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        return [
            o
            for o in self._objects.values()
            if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])
        ]

    def uid(self, *parts: str) -> str:
        return str(uuid.uuid5(UID_NAMESPACE, "/".join((self.name, *parts))))

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    def namespaced(self, api_version: str, kind: str) -> bool:
        scope = self._crd_scope.get((group_of(api_version), kind))
        if scope is not None:
            return scope == "Namespaced"
        return kind not in CLUSTER_SCOPED_KINDS

    # --- apply ---------------------------------------------------------------------------

    def apply(
        self,
        docs: str | Obj | Iterable[Obj],
        namespace: str | None = None,
        *,
        created: datetime | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
    ) -> list[Obj]:
        """Store manifests as the API server would; returns the stored objects.

        ``namespace`` defaults namespaced objects that have none (``kubectl apply -n``);
        ``created`` sets their creationTimestamp (default: the cluster's install time);
        ``labels``/``annotations`` are added to every object (e.g. Helm's ownership marks).
        """
        if isinstance(docs, str):
            items: list[Obj] = load_yaml(docs)
        elif isinstance(docs, dict):
            items = [docs]
        else:
            items = list(docs)
        stored: list[Obj] = []
        for doc in self._expand(items):
            obj = copy.deepcopy(doc)
            meta = obj.setdefault("metadata", {})
            if obj["kind"] == "CustomResourceDefinition":
                spec = obj["spec"]
                self._crd_scope[(spec["group"], spec["names"]["kind"])] = spec.get(
                    "scope", "Namespaced"
                )
            if self.namespaced(obj["apiVersion"], obj["kind"]):
                meta.setdefault("namespace", namespace or "default")
            else:
                meta.pop("namespace", None)
            if labels:
                meta["labels"] = {**(meta.get("labels") or {}), **labels}
            if annotations:
                meta["annotations"] = {**(meta.get("annotations") or {}), **annotations}
            self.stamp(obj, created)
            self._admit(obj)
            self._put(obj)
            stored.append(obj)
        return stored

    @staticmethod
    def _expand(items: Iterable[Obj]) -> Iterator[Obj]:
        for item in items:
            if not item:
                continue
            if item.get("kind", "").endswith("List") and isinstance(item.get("items"), list):
                yield from Cluster._expand(item["items"])
            else:
                yield item

    def stamp(self, obj: Obj, created: datetime | None = None) -> Obj:
        """uid, creationTimestamp, resourceVersion (and generation for objects with a spec)."""
        meta = obj["metadata"]
        g, k, ns, n = self._key(obj)
        meta.setdefault("uid", self.uid(g, k, ns, n))
        meta.setdefault("creationTimestamp", ts(created or self.created))
        meta["resourceVersion"] = self._next_rv()
        if "spec" in obj and k not in ("Pod", "PersistentVolumeClaim", "PersistentVolume", "Node"):
            meta.setdefault("generation", 1)
        return obj

    def add(self, obj: Obj, created: datetime | None = None) -> Obj:
        """Store one controller-made object (no namespace defaulting)."""
        self.stamp(obj, created)
        self._put(obj)
        return obj

    def _admit(self, obj: Obj) -> None:
        """What admission and defaulting do on create."""
        kind, meta = obj["kind"], obj["metadata"]
        if kind == "Service":
            spec = obj.setdefault("spec", {})
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if spec["type"] != "ExternalName" and "clusterIP" not in spec:
                spec["clusterIP"] = self._service_ip(meta)
            if spec.get("clusterIP"):
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
            for i, port in enumerate(spec.get("ports") or []):
                port.setdefault("protocol", "TCP")
                port.setdefault("targetPort", port["port"])
                if spec["type"] in ("NodePort", "LoadBalancer"):
                    port.setdefault("nodePort", 30000 + int(digest(meta["name"], i)[:6], 16) % 2767)
            if spec["type"] in ("NodePort", "LoadBalancer"):
                spec.setdefault("externalTrafficPolicy", "Cluster")
            if spec["type"] == "LoadBalancer":
                spec.setdefault("allocateLoadBalancerNodePorts", True)
                meta.setdefault("finalizers", ["service.kubernetes.io/load-balancer-cleanup"])
            obj.setdefault("status", {"loadBalancer": {}})
        elif kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            obj["spec"].setdefault("replicas", 1)
            obj["spec"].setdefault("revisionHistoryLimit", 10)
        elif kind == "PersistentVolumeClaim":
            spec = obj.setdefault("spec", {})
            if "storageClassName" not in spec:
                default = self.default_storage_class()
                if default is not None:
                    spec["storageClassName"] = default["metadata"]["name"]
            spec.setdefault("volumeMode", "Filesystem")
            meta.setdefault("finalizers", ["kubernetes.io/pvc-protection"])
        elif kind == "Namespace":
            meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = meta["name"]
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
            obj.setdefault("status", {"phase": "Active"})
        elif kind == "Secret" and obj.get("type") is None:
            obj["type"] = "Opaque"

    def _service_ip(self, meta: Obj) -> str:
        self._svc_next += 1
        return str(ipaddress.ip_address(self._svc_base + self._svc_next))

    def service_ip(self, offset: int) -> str:
        """The service CIDR's address at ``offset`` (e.g. 10 for cluster DNS)."""
        return str(ipaddress.ip_address(self._svc_base + offset))

    # --- nodes ---------------------------------------------------------------------------

    def add_nodes(
        self,
        n: int,
        instance_type: str | None = None,
        region: str | None = None,
        zone: str | None = None,
        zones: Iterable[str] | None = None,
        pool: str = "default",
        extra_labels: dict[str, str] | None = None,
        os: str = "linux",
    ) -> list[Obj]:
        """``n`` Ready nodes with the provider's real labels and providerID."""
        p = self.profile
        instance_type = instance_type or p["instance_type"]
        if region:
            self.region = region
        region = self.region
        zone_list = [zone] if zone else list(zones or [])
        if not zone_list:
            zone_list = [z.replace(p["region"], region, 1) for z in p["zones"]]
        made = []
        for i in range(n):
            idx = len(self._nodes)
            z = zone_list[i % len(zone_list)]
            ip = str(
                ipaddress.ip_address(
                    int(ipaddress.ip_network(p["node_cidr"]).network_address) + 10 + idx * 37
                )
            )
            name, labels, provider_id = self._node_identity(idx, pool, instance_type, region, z, ip)
            labels.update(
                {
                    "beta.kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": os,
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/os": os,
                    "kubernetes.io/hostname": name,
                    "node.kubernetes.io/instance-type": instance_type,
                    "beta.kubernetes.io/instance-type": instance_type,
                    "topology.kubernetes.io/region": region,
                    "topology.kubernetes.io/zone": z,
                    "failure-domain.beta.kubernetes.io/region": region,
                    "failure-domain.beta.kubernetes.io/zone": z,
                }
            )
            labels.update(extra_labels or {})
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "labels": labels,
                    "annotations": {
                        "node.alpha.kubernetes.io/ttl": "0",
                        "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                    },
                },
                "spec": {"providerID": provider_id},
                "status": {
                    "addresses": [
                        {"type": "InternalIP", "address": ip},
                        {"type": "Hostname", "address": name},
                    ],
                    "capacity": {**p["capacity"], "ephemeral-storage": "83873772Ki"},
                    "allocatable": {**p["allocatable"], "ephemeral-storage": "76224326324"},
                    "conditions": [
                        {
                            "type": "MemoryPressure",
                            "status": "False",
                            "reason": "KubeletHasSufficientMemory",
                        },
                        {
                            "type": "DiskPressure",
                            "status": "False",
                            "reason": "KubeletHasNoDiskPressure",
                        },
                        {
                            "type": "PIDPressure",
                            "status": "False",
                            "reason": "KubeletHasSufficientPID",
                        },
                        {"type": "Ready", "status": "True", "reason": "KubeletReady"},
                    ],
                    "nodeInfo": {
                        "architecture": "amd64",
                        "operatingSystem": os,
                        "osImage": p["os_image"],
                        "kernelVersion": p["kernel"],
                        "containerRuntimeVersion": p["runtime"],
                        "kubeletVersion": self._kubelet_version(),
                        "kubeProxyVersion": self._kubelet_version(),
                    },
                },
            }
            self._nodes.append(name)
            made.append(self.add(node))
        return made

    def _kubelet_version(self) -> str:
        suffix = {"aws": "-eks-113cf36", "gcp": "-gke.1046000", "azure": ""}.get(
            self.provider or "", ""
        )
        return self.version + suffix

    def _node_identity(
        self, idx: int, pool: str, instance_type: str, region: str, zone: str, ip: str
    ) -> tuple[str, dict[str, str], str]:
        h = digest(self.name, pool, idx)
        if self.provider == "aws":
            name = (
                f"ip-{ip.replace('.', '-')}.ec2.internal"
                if region == "us-east-1"
                else (f"ip-{ip.replace('.', '-')}.{region}.compute.internal")
            )
            instance_id = "i-0" + h[:16]
            ng = f"{pool}-ng"
            return (
                name,
                {
                    "eks.amazonaws.com/capacityType": "ON_DEMAND",
                    "eks.amazonaws.com/nodegroup": ng,
                    "eks.amazonaws.com/nodegroup-image": "ami-0" + digest(ng)[:16],
                    "eks.amazonaws.com/sourceLaunchTemplateId": "lt-0" + digest(ng, "lt")[:16],
                    "eks.amazonaws.com/sourceLaunchTemplateVersion": "1",
                    "k8s.io/cloud-provider-aws": digest(self.name, "cp")[:32],
                    "topology.ebs.csi.aws.com/zone": zone,
                    "topology.k8s.aws/zone-id": "use1-az" + str(1 + idx % 6),
                },
                f"aws:///{zone}/{instance_id}",
            )
        if self.provider == "gcp":
            pool_name = "default-pool" if pool == "default" else pool
            group = digest(self.name, pool_name, zone)[:8]
            name = f"gke-{self.name}-{pool_name}-{group}-{h[:4]}"
            family = instance_type.split("-")[0]
            return (
                name,
                {
                    "cloud.google.com/gke-boot-disk": "pd-balanced",
                    "cloud.google.com/gke-container-runtime": "containerd",
                    "cloud.google.com/gke-cpu-scaling-level": "4",
                    "cloud.google.com/gke-logging-variant": "DEFAULT",
                    "cloud.google.com/gke-max-pods-per-node": "110",
                    "cloud.google.com/gke-memory-gb-scaling-level": "16",
                    "cloud.google.com/gke-nodepool": pool_name,
                    "cloud.google.com/gke-os-distribution": "cos",
                    "cloud.google.com/gke-provisioning": "standard",
                    "cloud.google.com/gke-stack-type": "IPV4",
                    "cloud.google.com/machine-family": family,
                    "cloud.google.com/private-node": "false",
                    "topology.gke.io/zone": zone,
                },
                f"gce://{self.project}/{zone}/{name}",
            )
        if self.provider == "azure":
            pool_name = "nodepool1" if pool == "default" else pool
            vmss = f"aks-{pool_name}-{int(digest(self.name, pool_name)[:8], 16) % 10**8:08d}-vmss"
            name = f"{vmss}{idx:06d}"
            return (
                name,
                {
                    "agentpool": pool_name,
                    "kubernetes.azure.com/agentpool": pool_name,
                    "kubernetes.azure.com/cluster": self.resource_group,
                    "kubernetes.azure.com/consolidated-additional-properties": digest(vmss)[:36],
                    "kubernetes.azure.com/kubelet-identity-client-id": str(
                        uuid.UUID(digest(vmss, "id")[:32])
                    ),
                    "kubernetes.azure.com/mode": "system",
                    "kubernetes.azure.com/network-policy": "none",
                    "kubernetes.azure.com/node-image-version": "AKSUbuntu-2204gen2containerd-202411.12.0",  # noqa: E501
                    "kubernetes.azure.com/nodenetwork-vnetguid": str(
                        uuid.UUID(digest(self.name, "vnet")[:32])
                    ),
                    "kubernetes.azure.com/nodepool-type": "VirtualMachineScaleSets",
                    "kubernetes.azure.com/os-sku": "Ubuntu",
                    "kubernetes.azure.com/podnetwork-type": "overlay",
                    "kubernetes.azure.com/role": "agent",
                    "kubernetes.azure.com/storageprofile": "managed",
                    "kubernetes.azure.com/storagetier": "Premium_LRS",
                    "kubernetes.io/role": "agent",
                    "node-role.kubernetes.io/agent": "",
                    "node.kubernetes.io/exclude-from-external-load-balancers": "false",
                    "storageprofile": "managed",
                    "storagetier": "Premium_LRS",
                    "topology.disk.csi.azure.com/zone": zone,
                },
                (
                    f"azure:///subscriptions/{self.subscription}/resourceGroups/"
                    f"{self.resource_group.lower()}/providers/Microsoft.Compute/"
                    f"virtualMachineScaleSets/{vmss}/virtualMachines/{idx}"
                ),
            )
        name = f"{self.name}-worker{idx or ''}"
        return name, {}, f"kind://docker/{self.name}/{name}"

    @property
    def nodes(self) -> list[Obj]:
        return self.items("Node")

    def node_ip(self, node: Obj) -> str:
        return next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")

    def _pod_ip(self, node_name: str) -> str:
        n = self._ips.get(node_name, 0) + 1
        self._ips[node_name] = n
        base = int(ipaddress.ip_network(self.profile["pod_cidr"]).network_address)
        idx = self._nodes.index(node_name) if node_name in self._nodes else 0
        return str(ipaddress.ip_address(base + idx * 256 + 2 + n))

    # --- storage classes -----------------------------------------------------------------

    def default_storage_class(self) -> Obj | None:
        for sc in self.items("StorageClass"):
            ann = sc["metadata"].get("annotations") or {}
            if ann.get("storageclass.kubernetes.io/is-default-class") == "true":
                return sc
        return None

    # --- settle: what controllers do -----------------------------------------------------

    def settle(self) -> Cluster:
        """Run the simulated controllers until the cluster is steady; returns self."""
        for _ in range(3):
            self._namespaces()
            self._prometheus_operator()
            for cj in self.items("CronJob"):
                self._cronjob(cj)
            for job in self.items("Job"):
                self._job(job)
            for dep in self.items("Deployment"):
                self._deployment(dep)
            for rs in self.items("ReplicaSet"):
                self._replicaset(rs)
            for sts in self.items("StatefulSet"):
                self._statefulset(sts)
            for ds in self.items("DaemonSet"):
                self._daemonset(ds)
            for pvc in self.items("PersistentVolumeClaim"):
                self._bind_claim(pvc)
        self._attachments()
        for svc in self.items("Service"):
            self._service(svc)
        self._statuses()
        return self

    def _namespaces(self) -> None:
        for ns in self.items("Namespace"):
            name = ns["metadata"]["name"]
            created = parse_ts(ns["metadata"]["creationTimestamp"])
            if self.get("ServiceAccount", name, "default") is None:
                self.add(
                    {
                        "apiVersion": "v1",
                        "kind": "ServiceAccount",
                        "metadata": {"name": "default", "namespace": name},
                    },
                    created,
                )
            if self.get("ConfigMap", name, "kube-root-ca.crt") is None:
                self.add(
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {
                            "name": "kube-root-ca.crt",
                            "namespace": name,
                            "annotations": {
                                "kubernetes.io/description": (
                                    "Contains a CA bundle that can be used to verify the "
                                    "kube-apiserver when using internal endpoints such as the "
                                    "internal service IP or kubernetes.default.svc. No other "
                                    "usage is guaranteed across distributions of Kubernetes "
                                    "clusters."
                                )
                            },
                        },
                        "data": {
                            "ca.crt": "-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"  # noqa: E501
                        },
                    },
                    created,
                )

    # Pods ---------------------------------------------------------------------------------

    def _api_access_volume(self, pod_name: str) -> Obj:
        return {
            "name": "kube-api-access-" + safe_suffix(pod_name + "/token", 5),
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "name": "kube-root-ca.crt",
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "namespace",
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                }
                            ]
                        }
                    },
                ],
            },
        }

    def make_pod(
        self,
        name: str,
        namespace: str,
        template: Obj,
        *,
        owner: Obj | None,
        node: str | None = None,
        extra_labels: dict[str, str] | None = None,
        phase: str = "Running",
        created: datetime | None = None,
        hostname: str | None = None,
        static: bool = False,
    ) -> Obj:
        """A Pod as the API server stores it after a controller created it from ``template``.

        ``static``: a kubelet mirror pod (owned by its Node, no ServiceAccount, no token).
        """
        tmeta = template.get("metadata") or {}
        spec = copy.deepcopy(template.get("spec") or {})
        nodes = self._eligible_nodes(spec)
        if node is None:
            node = nodes[int(digest(namespace, name)[:8], 16) % len(nodes)] if nodes else None
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if not static:
            spec["serviceAccountName"] = sa
            spec["serviceAccount"] = sa
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        priority_class = spec.get("priorityClassName")
        if priority_class:
            pc = self.get("PriorityClass", None, priority_class)
            spec["priority"] = pc["value"] if pc else 0
        else:
            spec.setdefault("priority", 0)
        if hostname:
            spec["hostname"] = hostname
        if spec.get("automountServiceAccountToken") is not False and not static:
            sa_obj = self.get("ServiceAccount", namespace, sa)
            if not (sa_obj and sa_obj.get("automountServiceAccountToken") is False):
                vol = self._api_access_volume(f"{namespace}/{name}")
                spec.setdefault("volumes", []).append(vol)
                for c in spec.get("containers", []) + spec.get("initContainers", []):
                    c.setdefault("volumeMounts", []).append(
                        {
                            "name": vol["name"],
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                            "readOnly": True,
                        }
                    )
        for c in spec.get("containers", []) + spec.get("initContainers", []):
            c.setdefault("imagePullPolicy", "IfNotPresent")
            c.setdefault("terminationMessagePath", "/dev/termination-log")
            c.setdefault("terminationMessagePolicy", "File")
            c.setdefault("resources", {})
        spec["tolerations"] = [
            *(spec.get("tolerations") or []),
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
            {
                "key": "node.kubernetes.io/unreachable",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            },
        ]
        if node:
            spec["nodeName"] = node
        created = created or self.created + timedelta(minutes=2)
        node_obj = self.get("Node", None, node) if node else None
        host_ip = self.node_ip(node_obj) if node_obj else None
        if spec.get("hostNetwork") and host_ip:
            pod_ip = host_ip
        else:
            pod_ip = self._pod_ip(node) if node else None
        labels = {**(tmeta.get("labels") or {}), **(extra_labels or {})}
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": labels,
                "annotations": dict(tmeta.get("annotations") or {}),
                "ownerReferences": [owner_ref(owner)] if owner else [],
            },
            "spec": spec,
            "status": self._pod_status(spec, phase, created, host_ip, pod_ip),
        }
        if not pod["metadata"]["annotations"]:
            del pod["metadata"]["annotations"]
        if owner is None:
            del pod["metadata"]["ownerReferences"]
        return self.add(pod, created)

    def _pod_status(
        self, spec: Obj, phase: str, created: datetime, host_ip: str | None, pod_ip: str | None
    ) -> Obj:
        started = ts(created + timedelta(seconds=3))
        running = phase == "Running"
        status: Obj = {
            "phase": phase,
            "qosClass": "Burstable"
            if any((c.get("resources") or {}).get("requests") for c in spec.get("containers", []))
            else "BestEffort",
            "startTime": ts(created + timedelta(seconds=1)),
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True" if running else "False"},
                {"type": "Initialized", "status": "True"},
                {"type": "Ready", "status": "True" if running else "False"},
                {"type": "ContainersReady", "status": "True" if running else "False"},
                {"type": "PodScheduled", "status": "True"},
            ],
        }
        if phase == "Succeeded":
            for cond in status["conditions"]:
                if cond["type"] in ("Ready", "ContainersReady"):
                    cond["reason"] = "PodCompleted"
        if host_ip:
            status["hostIP"] = host_ip
            status["hostIPs"] = [{"ip": host_ip}]
        if pod_ip and phase == "Running":
            status["podIP"] = pod_ip
            status["podIPs"] = [{"ip": pod_ip}]

        def state(c: Obj, init: bool) -> Obj:
            if init or phase == "Succeeded":
                st = {
                    "terminated": {
                        "exitCode": 0,
                        "reason": "Completed",
                        "startedAt": started,
                        "finishedAt": started,
                    }
                }
            elif phase == "Failed":
                st = {
                    "terminated": {
                        "exitCode": 1,
                        "reason": "Error",
                        "startedAt": started,
                        "finishedAt": started,
                    }
                }
            else:
                st = {"running": {"startedAt": started}}
            return {
                "name": c["name"],
                "image": c.get("image", ""),
                "imageID": (c.get("image", "").split(":")[0])
                + "@sha256:"
                + digest(c.get("image", ""))[:64],
                "containerID": "containerd://" + digest(started, c["name"], pod_ip)[:64],
                "ready": running and not init,
                "started": running and not init,
                "restartCount": 0,
                "state": st,
            }

        status["containerStatuses"] = [state(c, False) for c in spec.get("containers", [])]
        if spec.get("initContainers"):
            status["initContainerStatuses"] = [state(c, True) for c in spec["initContainers"]]
        return status

    def _eligible_nodes(self, spec: Obj) -> list[str]:
        selector = spec.get("nodeSelector") or {}
        out = []
        for node in self.nodes:
            labels = node["metadata"].get("labels") or {}
            if all(labels.get(k) == v for k, v in selector.items()) and self._affinity_ok(
                spec, labels
            ):
                out.append(node["metadata"]["name"])
        return out

    @staticmethod
    def _affinity_ok(spec: Obj, labels: dict[str, str]) -> bool:
        required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
            "requiredDuringSchedulingIgnoredDuringExecution"
        ) or {}
        terms = required.get("nodeSelectorTerms") or []
        if not terms:
            return True
        return any(
            labels_match({"matchExpressions": t.get("matchExpressions") or []}, labels)
            for t in terms
        )

    # Deployments and ReplicaSets ----------------------------------------------------------

    @staticmethod
    def template_hash(template: Obj, salt: str = "") -> str:
        h = digest(json.dumps(template, sort_keys=True), salt)
        return safe_suffix(h, 10)

    def _deployment(self, dep: Obj) -> None:
        meta, spec = dep["metadata"], dep["spec"]
        ns, name = meta["namespace"], meta["name"]
        owned = [o for o in self.owned_by(dep) if o["kind"] == "ReplicaSet"]
        replicas = spec.get("replicas", 1)
        created = parse_ts(meta["creationTimestamp"])
        if not owned:
            history = int(digest(ns, name, "history")[:2], 16) % 3 == 0
            revision = 1
            if history:
                old_template = copy.deepcopy(spec["template"])
                old_template.setdefault("metadata", {}).setdefault("annotations", {})[
                    "kubectl.kubernetes.io/restartedAt"
                ] = ts(created)
                self._make_rs(dep, old_template, 0, revision, created)
                revision = 2
            self._make_rs(
                dep,
                spec["template"],
                replicas,
                revision,
                created + timedelta(days=1 if history else 0),
            )
            meta.setdefault("annotations", {})["deployment.kubernetes.io/revision"] = str(revision)
        else:
            current = max(
                owned,
                key=lambda r: int(
                    r["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
                ),
            )
            current["spec"]["replicas"] = replicas
        owned = [o for o in self.owned_by(dep) if o["kind"] == "ReplicaSet"]
        ready = sum((r.get("status") or {}).get("readyReplicas", 0) for r in owned)
        dep["status"] = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True" if ready >= replicas else "False",
                    "reason": "MinimumReplicasAvailable"
                    if ready >= replicas
                    else "MinimumReplicasUnavailable",
                },
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ],
        }
        if replicas == 0 or ready == 0:
            for k in ("readyReplicas", "availableReplicas"):
                dep["status"].pop(k, None)
        if replicas == 0:
            dep["status"].pop("replicas", None)
            dep["status"].pop("updatedReplicas", None)

    def _make_rs(
        self, dep: Obj, template: Obj, replicas: int, revision: int, created: datetime
    ) -> Obj:
        meta = dep["metadata"]
        h = self.template_hash(template, f"{meta['namespace']}/{meta['name']}/{revision}")
        tpl = copy.deepcopy(template)
        tpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = h
        selector = copy.deepcopy(dep["spec"].get("selector") or {})
        selector.setdefault("matchLabels", {})["pod-template-hash"] = h
        rs = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{h}",
                "namespace": meta["namespace"],
                "labels": dict(tpl["metadata"]["labels"]),
                "annotations": {
                    "deployment.kubernetes.io/desired-replicas": str(
                        dep["spec"].get("replicas", 1)
                    ),
                    "deployment.kubernetes.io/max-replicas": str(
                        dep["spec"].get("replicas", 1) + 1
                    ),
                    "deployment.kubernetes.io/revision": str(revision),
                },
                "ownerReferences": [owner_ref(dep)],
            },
            "spec": {"replicas": replicas, "selector": selector, "template": tpl},
        }
        return self.add(rs, created)

    def _replicaset(self, rs: Obj) -> None:
        meta, spec = rs["metadata"], rs["spec"]
        replicas = spec.get("replicas", 1)
        pods = [
            p
            for p in self.owned_by(rs)
            if p["kind"] == "Pod" and p["status"].get("phase") not in ("Failed", "Succeeded")
        ]
        created = parse_ts(meta["creationTimestamp"]) + timedelta(seconds=5)
        i = 0
        while len(pods) < replicas:
            name = f"{meta['name']}-{safe_suffix(meta['name'] + str(i), 5)}"
            i += 1
            if self.get("Pod", meta["namespace"], name) is None:
                pods.append(
                    self.make_pod(
                        name, meta["namespace"], spec["template"], owner=rs, created=created
                    )
                )
        ready = sum(1 for p in pods if self._pod_ready(p))
        status: Obj = {"replicas": len(pods), "observedGeneration": meta.get("generation", 1)}
        status["fullyLabeledReplicas"] = len(pods)
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready
        if not pods:
            status = {"replicas": 0, "observedGeneration": meta.get("generation", 1)}
        rs["status"] = status

    @staticmethod
    def _pod_ready(pod: Obj) -> bool:
        st = pod.get("status") or {}
        return (
            st.get("phase") == "Running"
            and all(c.get("ready") for c in st.get("containerStatuses") or [])
            and not pod["metadata"].get("deletionTimestamp")
        )

    # StatefulSets and volumes --------------------------------------------------------------

    def _statefulset(self, sts: Obj) -> None:
        meta, spec = sts["metadata"], sts["spec"]
        ns, name = meta["namespace"], meta["name"]
        replicas = spec.get("replicas", 1)
        created = parse_ts(meta["creationTimestamp"])
        rev = f"{name}-{self.template_hash(spec['template'])}"
        pods = []
        for i in range(replicas):
            pod_name = f"{name}-{i}"
            template = copy.deepcopy(spec["template"])
            pspec = template.setdefault("spec", {})
            for vct in spec.get("volumeClaimTemplates") or []:
                claim = f"{vct['metadata']['name']}-{name}-{i}"
                self._sts_claim(sts, vct, claim, created + timedelta(seconds=10 * i))
                vols = pspec.setdefault("volumes", [])
                if not any(v["name"] == vct["metadata"]["name"] for v in vols):
                    vols.append(
                        {
                            "name": vct["metadata"]["name"],
                            "persistentVolumeClaim": {"claimName": claim},
                        }
                    )
            pod = self.get("Pod", ns, pod_name)
            if pod is None:
                pod = self.make_pod(
                    pod_name,
                    ns,
                    template,
                    owner=sts,
                    extra_labels={
                        "controller-revision-hash": rev,
                        "statefulset.kubernetes.io/pod-name": pod_name,
                        "apps.kubernetes.io/pod-index": str(i),
                    },
                    created=created + timedelta(seconds=10 * i + 5),
                    hostname=pod_name,
                )
                if spec.get("serviceName"):
                    pod["spec"]["subdomain"] = spec["serviceName"]
            pods.append(pod)
        ready = sum(1 for p in pods if self._pod_ready(p))
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault(
            "persistentVolumeClaimRetentionPolicy",
            {"whenDeleted": "Retain", "whenScaled": "Retain"},
        )
        sts["status"] = {
            "observedGeneration": meta.get("generation", 1),
            "replicas": replicas,
            "currentReplicas": replicas,
            "updatedReplicas": replicas,
            "currentRevision": rev,
            "updateRevision": rev,
            "collisionCount": 0,
            "availableReplicas": ready,
        }
        if ready:
            sts["status"]["readyReplicas"] = ready

    def _sts_claim(self, sts: Obj, vct: Obj, claim: str, created: datetime) -> None:
        ns = sts["metadata"]["namespace"]
        if self.get("PersistentVolumeClaim", ns, claim) is not None:
            return
        spec = copy.deepcopy(vct.get("spec") or {})
        labels = {
            **(vct["metadata"].get("labels") or {}),
            **((sts["spec"].get("selector") or {}).get("matchLabels") or {}),
        }
        pvc = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim, "namespace": ns, "labels": labels},
            "spec": spec,
        }
        self.apply(pvc, created=created)

    def _bind_claim(self, pvc: Obj) -> None:
        """Dynamic provisioning: bind a claim to a new PV (WaitForFirstConsumer waits for a pod)."""
        spec, meta = pvc["spec"], pvc["metadata"]
        if pvc.get("status", {}).get("phase") in ("Bound", "Lost") or spec.get("volumeName"):
            if "status" not in pvc:
                pvc["status"] = {"phase": "Bound"}
            return
        sc = self.get("StorageClass", None, spec.get("storageClassName") or "")
        consumer = self._claim_consumer(meta["namespace"], meta["name"])
        pending_reason = None
        if sc is None:
            pending_reason = (
                "no storage class" if not spec.get("storageClassName") else "class missing"
            )
        elif sc.get("volumeBindingMode") == "WaitForFirstConsumer" and consumer is None:
            pending_reason = "WaitForFirstConsumer"
        if pending_reason is not None:
            pvc["status"] = {"phase": "Pending"}
            return
        assert sc is not None
        node = self.get("Node", None, consumer["spec"].get("nodeName", "")) if consumer else None
        size = spec["resources"]["requests"]["storage"]
        pv_name = f"pvc-{meta['uid']}"
        driver = sc["provisioner"]
        zone = (node or (self.nodes[0] if self.nodes else {"metadata": {"labels": {}}}))[
            "metadata"
        ]["labels"].get("topology.kubernetes.io/zone", self.profile["zones"][0])
        created = parse_ts(meta["creationTimestamp"]) + timedelta(seconds=4)
        pv = self.provision_pv(
            pv_name, sc, size, spec.get("accessModes") or ["ReadWriteOnce"], pvc, zone, created
        )
        spec["volumeName"] = pv["metadata"]["name"]
        ann = meta.setdefault("annotations", {})
        ann.update(
            {
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": driver,
                "volume.kubernetes.io/storage-provisioner": driver,
            }
        )
        if node is not None and sc.get("volumeBindingMode") == "WaitForFirstConsumer":
            ann["volume.kubernetes.io/selected-node"] = node["metadata"]["name"]
        pvc["status"] = {
            "phase": "Bound",
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "capacity": {"storage": size},
        }

    def provision_pv(
        self,
        name: str,
        sc: Obj,
        size: str,
        access_modes: list[str],
        claim: Obj | None,
        zone: str,
        created: datetime,
        *,
        phase: str | None = None,
    ) -> Obj:
        """A PV as the provider's CSI provisioner creates it (bound to ``claim`` when given)."""
        driver = sc["provisioner"]
        handle = {
            "ebs.csi.aws.com": "vol-0" + digest(name)[:16],
            "pd.csi.storage.gke.io": f"projects/{self.project}/zones/{zone}/disks/{name}",
            "disk.csi.azure.com": (
                f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/"
                f"providers/Microsoft.Compute/disks/{name}"
            ),
        }.get(driver, name)
        topology_key = {
            "ebs.csi.aws.com": "topology.kubernetes.io/zone",
            "pd.csi.storage.gke.io": "topology.gke.io/zone",
            "disk.csi.azure.com": "topology.disk.csi.azure.com/zone",
        }.get(driver, "topology.kubernetes.io/zone")
        attacher = driver.replace(".", "-")
        pv: Obj = {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {
                "name": name,
                "annotations": {
                    "pv.kubernetes.io/provisioned-by": driver,
                    "volume.kubernetes.io/provisioner-deletion-secret-name": "",
                    "volume.kubernetes.io/provisioner-deletion-secret-namespace": "",
                },
                "finalizers": ["kubernetes.io/pv-protection", f"external-attacher/{attacher}"],
            },
            "spec": {
                "accessModes": access_modes,
                "capacity": {"storage": size},
                "csi": {
                    "driver": driver,
                    "fsType": (sc.get("parameters") or {}).get("csi.storage.k8s.io/fstype", "ext4"),
                    "volumeHandle": handle,
                    "volumeAttributes": {
                        "storage.kubernetes.io/csiProvisionerIdentity": f"1730000000000-{digest(driver)[:4]}-{driver}"  # noqa: E501
                    },
                },
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": topology_key, "operator": "In", "values": [zone]}
                                ]
                            }
                        ]
                    }
                },
                "persistentVolumeReclaimPolicy": sc.get("reclaimPolicy", "Delete"),
                "storageClassName": sc["metadata"]["name"],
                "volumeMode": "Filesystem",
            },
            "status": {"phase": phase or ("Bound" if claim else "Available")},
        }
        if driver == "kubernetes.io/no-provisioner" or not driver:
            del pv["spec"]["csi"]
        if claim is not None:
            pv["spec"]["claimRef"] = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": claim["metadata"]["name"],
                "namespace": claim["metadata"]["namespace"],
                "uid": claim["metadata"]["uid"],
                "resourceVersion": claim["metadata"]["resourceVersion"],
            }
        return self.add(pv, created)

    def _claim_consumer(self, ns: str, claim: str) -> Obj | None:
        for pod in self.items("Pod", ns):
            for v in pod["spec"].get("volumes") or []:
                if (v.get("persistentVolumeClaim") or {}).get("claimName") == claim:
                    return pod
        return None

    def _attachments(self) -> None:
        """A VolumeAttachment for every CSI volume mounted by a running pod."""
        for pod in self.items("Pod"):
            if pod["status"].get("phase") not in ("Running", "Pending") or not pod["spec"].get(
                "nodeName"
            ):
                continue
            for v in pod["spec"].get("volumes") or []:
                claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
                if not claim:
                    continue
                pvc = self.get("PersistentVolumeClaim", pod["metadata"]["namespace"], claim)
                if not pvc or not pvc["spec"].get("volumeName"):
                    continue
                pv = self.get("PersistentVolume", None, pvc["spec"]["volumeName"])
                if not pv or "csi" not in pv["spec"]:
                    continue
                self.attach(pv, pod["spec"]["nodeName"])

    def attach(self, pv: Obj, node: str) -> Obj:
        driver = pv["spec"]["csi"]["driver"]
        name = "csi-" + digest(pv["metadata"]["name"], driver, node)
        existing = self.get("VolumeAttachment", None, name)
        if existing is not None:
            return existing
        va = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "VolumeAttachment",
            "metadata": {
                "name": name,
                "annotations": {"csi.alpha.kubernetes.io/node-id": node},
                "finalizers": [f"external-attacher/{driver.replace('.', '-')}"],
            },
            "spec": {
                "attacher": driver,
                "nodeName": node,
                "source": {"persistentVolumeName": pv["metadata"]["name"]},
            },
            "status": {"attached": True, "attachmentMetadata": {"devicePath": "/dev/xvdaa"}},
        }
        return self.add(va, parse_ts(pv["metadata"]["creationTimestamp"]) + timedelta(seconds=20))

    # DaemonSets ---------------------------------------------------------------------------

    def _daemonset(self, ds: Obj) -> None:
        meta, spec = ds["metadata"], ds["spec"]
        ns, name = meta["namespace"], meta["name"]
        eligible = self._eligible_nodes(spec["template"].get("spec") or {})
        rev = self.template_hash(spec["template"])
        created = parse_ts(meta["creationTimestamp"]) + timedelta(seconds=3)
        pods = {p["spec"].get("nodeName"): p for p in self.owned_by(ds) if p["kind"] == "Pod"}
        for node in eligible:
            if node in pods:
                continue
            pod_name = f"{name}-{safe_suffix(name + node, 5)}"
            template = copy.deepcopy(spec["template"])
            tspec = template.setdefault("spec", {})
            tspec["affinity"] = {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchFields": [
                                    {"key": "metadata.name", "operator": "In", "values": [node]}
                                ]
                            }
                        ]
                    }
                }
            }
            tspec["tolerations"] = [
                *(tspec.get("tolerations") or []),
                {
                    "key": "node.kubernetes.io/disk-pressure",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                },
                {
                    "key": "node.kubernetes.io/memory-pressure",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                },
                {
                    "key": "node.kubernetes.io/pid-pressure",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                },
                {
                    "key": "node.kubernetes.io/unschedulable",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                },
            ]
            pods[node] = self.make_pod(
                pod_name,
                ns,
                template,
                owner=ds,
                node=node,
                extra_labels={"controller-revision-hash": rev, "pod-template-generation": "1"},
                created=created,
            )
        ready = sum(1 for p in pods.values() if self._pod_ready(p))
        n = len(eligible)
        ds["status"] = {
            "currentNumberScheduled": n,
            "desiredNumberScheduled": n,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": meta.get("generation", 1),
            "updatedNumberScheduled": n,
        }
        if ready:
            ds["status"]["numberAvailable"] = ready
        else:
            ds["status"]["numberUnavailable"] = n

    # Jobs and CronJobs --------------------------------------------------------------------

    def _job(self, job: Obj) -> None:
        meta, spec = job["metadata"], job["spec"]
        if (job.get("status") or {}).get("conditions") or (job.get("status") or {}).get("active"):
            return  # a test set the state
        created = parse_ts(meta["creationTimestamp"])
        finished = created + timedelta(seconds=42)
        if (
            spec.get("ttlSecondsAfterFinished") is not None
            and finished + timedelta(seconds=spec["ttlSecondsAfterFinished"]) <= self.now
        ):
            # Finished and garbage-collected by the TTL controller, pods with it.
            self._delete(job)
            return
        uid = meta["uid"]
        labels = {
            "batch.kubernetes.io/controller-uid": uid,
            "batch.kubernetes.io/job-name": meta["name"],
            "controller-uid": uid,
            "job-name": meta["name"],
        }
        spec.setdefault("selector", {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}})
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        tpl = spec["template"].setdefault("metadata", {})
        tpl["labels"] = {**(tpl.get("labels") or {}), **labels}
        pod_name = f"{meta['name']}-{safe_suffix(meta['name'], 5)}"
        if self.get("Pod", meta["namespace"], pod_name) is None:
            self.make_pod(
                pod_name,
                meta["namespace"],
                spec["template"],
                owner=job,
                phase="Succeeded",
                created=created,
            )
        job["status"] = {
            "conditions": [
                {
                    "type": "SuccessCriteriaMet",
                    "status": "True",
                    "lastTransitionTime": ts(finished),
                    "lastProbeTime": ts(finished),
                },
                {
                    "type": "Complete",
                    "status": "True",
                    "lastTransitionTime": ts(finished),
                    "lastProbeTime": ts(finished),
                },
            ],
            "startTime": ts(created),
            "completionTime": ts(finished),
            "succeeded": 1,
            "ready": 0,
            "terminating": 0,
            "uncountedTerminatedPods": {},
        }

    def _cronjob(self, cj: Obj) -> None:
        meta, spec = cj["metadata"], cj["spec"]
        spec.setdefault("suspend", False)
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        if cj.get("status"):
            return  # a test set the state (e.g. suspended long ago)
        if spec["suspend"]:
            cj["status"] = {}
            return
        period = self._cron_period(spec.get("schedule", "@hourly"))
        last = self.now - timedelta(seconds=(self.now.timestamp() % period.total_seconds()))
        runs = [last - period * i for i in range(min(2, spec["successfulJobsHistoryLimit"]))]
        for when in runs:
            sched = int(when.timestamp() // 60)
            job_name = f"{meta['name']}-{sched}"
            if self.get("Job", meta["namespace"], job_name) is not None:
                continue
            jt = copy.deepcopy(spec["jobTemplate"])
            job = {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {
                    "name": job_name,
                    "namespace": meta["namespace"],
                    "labels": dict((jt.get("metadata") or {}).get("labels") or {}),
                    "annotations": {"batch.kubernetes.io/cronjob-scheduled-timestamp": ts(when)},
                    "ownerReferences": [owner_ref(cj)],
                },
                "spec": jt["spec"],
            }
            self.add(job, when)
            self._job(job)
        cj["status"] = {
            "lastScheduleTime": ts(runs[0]),
            "lastSuccessfulTime": ts(runs[0] + timedelta(seconds=42)),
        }
        active = [j for j in self.owned_by(cj) if j["kind"] == "Job"]
        if not active:
            cj["status"].pop("lastSuccessfulTime")

    @staticmethod
    def _cron_period(schedule: str) -> timedelta:
        if schedule.startswith("@"):
            return {
                "@hourly": timedelta(hours=1),
                "@daily": timedelta(days=1),
                "@weekly": timedelta(days=7),
            }.get(schedule, timedelta(days=1))
        minute, hour, dom, _month, dow = schedule.split()[:5]
        if dow != "*":
            return timedelta(days=7)
        if dom != "*":
            return timedelta(days=30)
        if hour != "*" and not hour.startswith("*/"):
            return timedelta(days=1)
        if hour.startswith("*/"):
            return timedelta(hours=int(hour[2:]))
        if minute.startswith("*/"):
            return timedelta(minutes=int(minute[2:]))
        return timedelta(hours=1)

    # Services -----------------------------------------------------------------------------

    def _service(self, svc: Obj) -> None:
        meta, spec = svc["metadata"], svc["spec"]
        ns, name = meta["namespace"], meta["name"]
        if spec.get("type") == "LoadBalancer" and not (svc.get("status") or {}).get(
            "loadBalancer", {}
        ).get("ingress"):
            svc["status"] = {"loadBalancer": {"ingress": [self._lb_address(svc)]}}
        selector = spec.get("selector")
        if not selector or spec.get("type") == "ExternalName":
            return
        existing = [
            s
            for s in self.items("EndpointSlice", ns)
            if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name
            and (s["metadata"].get("labels") or {}).get("endpointslice.kubernetes.io/managed-by")
            == "endpointslice-controller.k8s.io"
        ]
        for s in existing:
            self._delete(s)
        pods = [
            p
            for p in self.items("Pod", ns)
            if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in selector.items())
            and p["status"].get("phase") in ("Running", "Pending")
            and p["status"].get("podIP")
        ]
        endpoints = []
        for p in sorted(pods, key=lambda p: p["metadata"]["name"]):
            ready = self._pod_ready(p)
            ready_flag = ready or bool(spec.get("publishNotReadyAddresses"))
            node = self.get("Node", None, p["spec"].get("nodeName", ""))
            ep: Obj = {
                "addresses": [p["status"]["podIP"]],
                "conditions": {"ready": ready_flag, "serving": ready, "terminating": False},
                "nodeName": p["spec"].get("nodeName"),
                "targetRef": {
                    "kind": "Pod",
                    "name": p["metadata"]["name"],
                    "namespace": ns,
                    "uid": p["metadata"]["uid"],
                },
            }
            if p["spec"].get("hostname") and spec.get("clusterIP") == "None":
                ep["hostname"] = p["spec"]["hostname"]
            if node is not None:
                ep["zone"] = node["metadata"]["labels"].get("topology.kubernetes.io/zone")
            endpoints.append(ep)
        ports = []
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port["port"])
            number = (
                target
                if isinstance(target, int)
                else self._named_port(pods, target) or port["port"]
            )
            entry = {"port": number, "protocol": port.get("protocol", "TCP")}
            entry["name"] = port.get("name", "")
            if port.get("appProtocol"):
                entry["appProtocol"] = port["appProtocol"]
            ports.append(entry)
        labels = {
            **(meta.get("labels") or {}),
            "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
            "kubernetes.io/service-name": name,
        }
        if spec.get("clusterIP") == "None":
            labels["service.kubernetes.io/headless"] = ""
        eps: Obj = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": f"{name[:57]}-{safe_suffix(ns + '/' + name, 5)}",
                "namespace": ns,
                "labels": labels,
                "annotations": {
                    "endpoints.kubernetes.io/last-change-trigger-time": ts(
                        self.now - timedelta(hours=3)
                    )
                },
                "generateName": f"{name[:57]}-",
                "ownerReferences": [owner_ref(svc)],
            },
            "addressType": "IPv4",
            "endpoints": endpoints or None,
            "ports": ports or None,
        }
        if eps["endpoints"] is None:
            del eps["endpoints"]
            del eps["metadata"]["annotations"]
        self.add(eps, parse_ts(meta["creationTimestamp"]))

    @staticmethod
    def _named_port(pods: list[Obj], name: str) -> int | None:
        for p in pods:
            for c in p["spec"].get("containers", []):
                for port in c.get("ports") or []:
                    if port.get("name") == name:
                        return int(port["containerPort"])
        return None

    def _lb_address(self, svc: Obj) -> Obj:
        h = digest(svc["metadata"]["namespace"], svc["metadata"]["name"])
        if self.provider == "aws":
            ann = svc["metadata"].get("annotations") or {}
            if ann.get("service.beta.kubernetes.io/aws-load-balancer-type") == "nlb":
                return {"hostname": f"a{h[:32]}-{h[32:48]}.elb.{self.region}.amazonaws.com"}
            return {"hostname": f"a{h[:32]}-{int(h[32:40], 16)}.{self.region}.elb.amazonaws.com"}
        if self.provider == "gcp":
            return {
                "ip": f"34.{int(h[:2], 16) % 120 + 16}.{int(h[2:4], 16)}.{int(h[4:6], 16) % 254 + 1}",  # noqa: E501
                "ipMode": "VIP",
            }
        if self.provider == "azure":
            return {
                "ip": f"20.{int(h[:2], 16) % 200 + 10}.{int(h[2:4], 16)}.{int(h[4:6], 16) % 254 + 1}",  # noqa: E501
                "ipMode": "VIP",
            }
        return {"ip": f"172.18.255.{int(h[:2], 16) % 200 + 1}", "ipMode": "VIP"}

    def endpoint_slice(
        self,
        service: Obj,
        addresses: list[tuple[str, Obj | None]],
        *,
        managed_by: str,
        ports: list[Obj],
        name: str | None = None,
    ) -> Obj:
        """An EndpointSlice written by something other than the endpointslice controller."""
        ns, svc_name = service["metadata"]["namespace"], service["metadata"]["name"]
        labels = {"kubernetes.io/service-name": svc_name}
        if managed_by:
            labels["endpointslice.kubernetes.io/managed-by"] = managed_by
        endpoints = []
        for ip, target in addresses:
            ep: Obj = {"addresses": [ip], "conditions": {"ready": True}}
            if target is not None:
                ep["targetRef"] = {
                    "kind": target["kind"],
                    "name": target["metadata"]["name"],
                    "uid": target["metadata"]["uid"],
                }
                if target["kind"] == "Node":
                    ep["nodeName"] = target["metadata"]["name"]
            endpoints.append(ep)
        eps = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "name": name or f"{svc_name}-{safe_suffix(ns + svc_name + managed_by, 5)}",
                "namespace": ns,
                "labels": labels,
            },
            "addressType": "IPv4",
            "endpoints": endpoints,
            "ports": ports,
        }
        return self.add(eps, parse_ts(service["metadata"]["creationTimestamp"]))

    # Operators ----------------------------------------------------------------------------

    def _prometheus_operator(self) -> None:
        for prom in self.items("Prometheus"):
            self._prometheus(prom)
        for am in self.items("Alertmanager"):
            self._alertmanager(am)
        operator = next(
            (
                d
                for d in self.items("Deployment")
                if any(
                    a.startswith("--kubelet-service=")
                    for c in d["spec"]["template"]["spec"].get("containers", [])
                    for a in c.get("args") or []
                )
            ),
            None,
        )
        if operator is not None:
            self._kubelet_service(operator)

    def _operator_child(self, cr: Obj, obj: Obj) -> Obj | None:
        if (
            self.get(obj["kind"], obj["metadata"].get("namespace"), obj["metadata"]["name"])
            is not None
        ):
            return None
        obj["metadata"]["ownerReferences"] = [owner_ref(cr)]
        return self.add(obj, parse_ts(cr["metadata"]["creationTimestamp"]) + timedelta(seconds=30))

    def _prometheus(self, cr: Obj) -> None:
        meta, spec = cr["metadata"], cr["spec"]
        ns, name = meta["namespace"], meta["name"]
        base = f"prometheus-{name}"
        managed = {"app.kubernetes.io/managed-by": "prometheus-operator"}
        for sname, stype in (
            (base, "Opaque"),
            (f"{base}-tls-assets-0", "Opaque"),
            (f"{base}-web-config", "Opaque"),
        ):
            self._operator_child(
                cr,
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": stype,
                    "metadata": {"name": sname, "namespace": ns, "labels": dict(managed)},
                },
            )
        self._operator_child(
            cr,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"{base}-rulefiles-0",
                    "namespace": ns,
                    "labels": {**managed, "prometheus-name": name},
                },
            },
        )
        selector_labels = {
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/managed-by": "prometheus-operator",
            "app.kubernetes.io/name": "prometheus",
            "operator.prometheus.io/name": name,
            "operator.prometheus.io/shard": "0",
            "prometheus": name,
        }
        pod_labels = {**((spec.get("podMetadata") or {}).get("labels") or {}), **selector_labels}
        if spec.get("version"):
            pod_labels["app.kubernetes.io/version"] = spec["version"]
        volumes = [
            {"name": "config", "secret": {"secretName": base, "defaultMode": 420}},
            {
                "name": "tls-assets",
                "projected": {
                    "defaultMode": 420,
                    "sources": [{"secret": {"name": f"{base}-tls-assets-0"}}],
                },
            },
            {"name": "config-out", "emptyDir": {"medium": "Memory"}},
            {
                "name": f"{base}-rulefiles-0",
                "configMap": {"name": f"{base}-rulefiles-0", "defaultMode": 420},
            },
            {
                "name": "web-config",
                "secret": {"secretName": f"{base}-web-config", "defaultMode": 420},
            },
            {"name": f"{base}-db", "emptyDir": {}},
        ]
        sts = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": base,
                "namespace": ns,
                "labels": {
                    **(meta.get("labels") or {}),
                    **managed,
                    "operator.prometheus.io/mode": "server",
                    "operator.prometheus.io/name": name,
                    "operator.prometheus.io/shard": "0",
                },
                "annotations": {"prometheus-operator-input-hash": digest(name)[:20]},
            },
            "spec": {
                "replicas": spec.get("replicas", 1),
                "serviceName": "prometheus-operated",
                "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": selector_labels},
                "template": {
                    "metadata": {
                        "labels": pod_labels,
                        "annotations": {"kubectl.kubernetes.io/default-container": "prometheus"},
                    },
                    "spec": {
                        "serviceAccountName": spec.get("serviceAccountName", "default"),
                        "nodeSelector": spec.get("nodeSelector") or {},
                        "securityContext": spec.get("securityContext") or {},
                        "automountServiceAccountToken": True,
                        "initContainers": [
                            {
                                "name": "init-config-reloader",
                                "image": RELOADER_IMAGE,
                                "args": [
                                    "--watch-interval=0",
                                    "--listen-address=:8081",
                                    "--config-file=/etc/prometheus/config/prometheus.yaml.gz",
                                    "--config-envsubst-file=/etc/prometheus/config_out/prometheus.env.yaml",
                                ],
                            }
                        ],
                        "containers": [
                            {
                                "name": "prometheus",
                                "image": spec.get("image", "quay.io/prometheus/prometheus"),
                                "args": [
                                    "--web.console.templates=/etc/prometheus/consoles",
                                    "--config.file=/etc/prometheus/config_out/prometheus.env.yaml",
                                    "--web.config.file=/etc/prometheus/web_config/web-config.yaml",
                                    "--storage.tsdb.path=/prometheus",
                                ],
                                "ports": [
                                    {"name": "web", "containerPort": 9090, "protocol": "TCP"}
                                ],
                                "resources": spec.get("resources") or {},
                            },
                            {
                                "name": "config-reloader",
                                "image": RELOADER_IMAGE,
                                "args": [
                                    "--listen-address=:8080",
                                    "--reload-url=http://127.0.0.1:9090/-/reload",
                                    "--config-file=/etc/prometheus/config/prometheus.yaml.gz",
                                    "--config-envsubst-file=/etc/prometheus/config_out/prometheus.env.yaml",
                                    f"--watched-dir=/etc/prometheus/rules/{base}-rulefiles-0",
                                ],
                                "ports": [
                                    {
                                        "name": "reloader-web",
                                        "containerPort": 8080,
                                        "protocol": "TCP",
                                    }
                                ],
                            },
                        ],
                        "volumes": volumes,
                    },
                },
            },
        }
        self._operator_child(cr, sts)
        self._operated_service(
            cr,
            "prometheus-operated",
            {"app.kubernetes.io/name": "prometheus"},
            [("web", 9090, "web")],
        )

    def _alertmanager(self, cr: Obj) -> None:
        meta, spec = cr["metadata"], cr["spec"]
        ns, name = meta["namespace"], meta["name"]
        base = f"alertmanager-{name}"
        managed = {"app.kubernetes.io/managed-by": "prometheus-operator"}
        for sname in (
            f"{base}-generated",
            f"{base}-tls-assets-0",
            f"{base}-web-config",
            f"{base}-cluster-tls-config",
        ):
            self._operator_child(
                cr,
                {
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "type": "Opaque",
                    "metadata": {"name": sname, "namespace": ns, "labels": dict(managed)},
                },
            )
        selector_labels = {
            "alertmanager": name,
            "app.kubernetes.io/instance": name,
            "app.kubernetes.io/managed-by": "prometheus-operator",
            "app.kubernetes.io/name": "alertmanager",
        }
        pod_labels = {**((spec.get("podMetadata") or {}).get("labels") or {}), **selector_labels}
        if spec.get("version"):
            pod_labels["app.kubernetes.io/version"] = spec["version"]
        volumes = [
            {
                "name": "config-volume",
                "secret": {"secretName": f"{base}-generated", "defaultMode": 420},
            },
            {
                "name": "tls-assets",
                "projected": {
                    "defaultMode": 420,
                    "sources": [{"secret": {"name": f"{base}-tls-assets-0"}}],
                },
            },
            {"name": "config-out", "emptyDir": {"medium": "Memory"}},
            {
                "name": "web-config",
                "secret": {"secretName": f"{base}-web-config", "defaultMode": 420},
            },
            {
                "name": "cluster-tls-config",
                "secret": {"secretName": f"{base}-cluster-tls-config", "defaultMode": 420},
            },
            {"name": f"{base}-db", "emptyDir": {}},
        ]
        sts = {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": base,
                "namespace": ns,
                "labels": {**(meta.get("labels") or {}), **managed},
                "annotations": {"prometheus-operator-input-hash": digest(name)[:20]},
            },
            "spec": {
                "replicas": spec.get("replicas", 1),
                "serviceName": "alertmanager-operated",
                "podManagementPolicy": "Parallel",
                "selector": {"matchLabels": selector_labels},
                "template": {
                    "metadata": {
                        "labels": pod_labels,
                        "annotations": {"kubectl.kubernetes.io/default-container": "alertmanager"},
                    },
                    "spec": {
                        "serviceAccountName": spec.get("serviceAccountName", "default"),
                        "nodeSelector": spec.get("nodeSelector") or {},
                        "securityContext": spec.get("securityContext") or {},
                        "initContainers": [
                            {
                                "name": "init-config-reloader",
                                "image": RELOADER_IMAGE,
                                "args": [
                                    "--watch-interval=0",
                                    "--listen-address=:8081",
                                    "--config-file=/etc/alertmanager/config/alertmanager.yaml.gz",
                                    "--config-envsubst-file=/etc/alertmanager/config_out/alertmanager.env.yaml",
                                ],
                            }
                        ],
                        "containers": [
                            {
                                "name": "alertmanager",
                                "image": spec.get("image", "quay.io/prometheus/alertmanager"),
                                "args": [
                                    "--config.file=/etc/alertmanager/config_out/alertmanager.env.yaml",
                                    "--storage.path=/alertmanager",
                                    "--cluster.listen-address=[$(POD_IP)]:9094",
                                    "--web.config.file=/etc/alertmanager/web_config/web-config.yaml",
                                ],
                                "ports": [
                                    {"name": "web", "containerPort": 9093, "protocol": "TCP"}
                                ],
                                "resources": spec.get("resources") or {},
                            },
                            {
                                "name": "config-reloader",
                                "image": RELOADER_IMAGE,
                                "args": [
                                    "--listen-address=:8080",
                                    "--reload-url=http://127.0.0.1:9093/-/reload",
                                    "--config-file=/etc/alertmanager/config/alertmanager.yaml.gz",
                                ],
                                "ports": [
                                    {
                                        "name": "reloader-web",
                                        "containerPort": 8080,
                                        "protocol": "TCP",
                                    }
                                ],
                            },
                        ],
                        "volumes": volumes,
                    },
                },
            },
        }
        self._operator_child(cr, sts)
        self._operated_service(
            cr,
            "alertmanager-operated",
            {"app.kubernetes.io/name": "alertmanager"},
            [("web", 9093, "web"), ("tcp-mesh", 9094, 9094), ("udp-mesh", 9094, 9094)],
        )

    def _operated_service(
        self, cr: Obj, name: str, selector: dict[str, str], ports: list[tuple[str, int, Any]]
    ) -> None:
        ns = cr["metadata"]["namespace"]
        if self.get("Service", ns, name) is not None:
            return
        svc = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": name,
                "namespace": ns,
                "labels": {
                    "managed-by": "prometheus-operator",
                    "operated-" + cr["kind"].lower(): "true",
                },
                "ownerReferences": [{**owner_ref(cr, controller=False)}],
            },
            "spec": {
                "clusterIP": "None",
                "publishNotReadyAddresses": True,
                "selector": selector,
                "ports": [
                    {
                        "name": n,
                        "port": p,
                        "targetPort": t,
                        "protocol": "UDP" if n.startswith("udp") else "TCP",
                    }
                    for n, p, t in ports
                ],
            },
        }
        self._admit(svc)
        self.add(svc, parse_ts(cr["metadata"]["creationTimestamp"]) + timedelta(seconds=30))

    def _kubelet_service(self, operator: Obj) -> None:
        if self.get("Service", "kube-system", "kubelet") is not None or not self.nodes:
            return
        svc = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": "kubelet",
                "namespace": "kube-system",
                "labels": {
                    "app.kubernetes.io/managed-by": "prometheus-operator",
                    "app.kubernetes.io/name": "kubelet",
                    "k8s-app": "kubelet",
                },
            },
            "spec": {
                "clusterIP": "None",
                "ports": [
                    {"name": "https-metrics", "port": 10250, "targetPort": 10250},
                    {"name": "http-metrics", "port": 10255, "targetPort": 10255},
                    {"name": "cadvisor", "port": 4194, "targetPort": 4194},
                ],
            },
        }
        self._admit(svc)
        created = parse_ts(operator["metadata"]["creationTimestamp"]) + timedelta(minutes=1)
        self.add(svc, created)
        slice_ = self.endpoint_slice(
            svc,
            [(self.node_ip(n), n) for n in self.nodes],
            managed_by="prometheus-operator",
            ports=[
                {"name": "https-metrics", "port": 10250, "protocol": "TCP"},
                {"name": "http-metrics", "port": 10255, "protocol": "TCP"},
                {"name": "cadvisor", "port": 4194, "protocol": "TCP"},
            ],
            name="kubelet-" + safe_suffix("kubelet-slice", 5),
        )
        slice_["metadata"]["labels"].update(svc["metadata"]["labels"])

    # Final status touches -----------------------------------------------------------------

    def _statuses(self) -> None:
        for crd in self.items("CustomResourceDefinition"):
            for v in crd["spec"].get("versions") or []:
                name = f"{v['name']}.{crd['spec']['group']}"
                if v.get("served", True) and self.get("APIService", None, name) is None:
                    self.add(
                        {
                            "apiVersion": "apiregistration.k8s.io/v1",
                            "kind": "APIService",
                            "metadata": {
                                "name": name,
                                "labels": {"kube-aggregator.kubernetes.io/automanaged": "true"},
                            },
                            "spec": {
                                "group": crd["spec"]["group"],
                                "version": v["name"],
                                "groupPriorityMinimum": 1000,
                                "versionPriority": 100,
                            },
                        },
                        parse_ts(crd["metadata"]["creationTimestamp"]),
                    )
        for api in self.items("APIService"):
            api.setdefault(
                "status",
                {
                    "conditions": [
                        {
                            "type": "Available",
                            "status": "True",
                            "reason": "Passed" if api["spec"].get("service") else "Local",
                        }
                    ]
                },
            )
        for crd in self.items("CustomResourceDefinition"):
            crd.setdefault(
                "status",
                {
                    "acceptedNames": {
                        "kind": crd["spec"]["names"]["kind"],
                        "plural": crd["spec"]["names"]["plural"],
                    },
                    "storedVersions": [
                        v["name"] for v in crd["spec"].get("versions", []) if v.get("storage")
                    ],
                    "conditions": [
                        {"type": "Established", "status": "True"},
                        {"type": "NamesAccepted", "status": "True"},
                    ],
                },
            )
        for pdb in self.items("PodDisruptionBudget"):
            ns = pdb["metadata"]["namespace"]
            matching = [
                p
                for p in self.items("Pod", ns)
                if labels_match(pdb["spec"].get("selector"), p["metadata"].get("labels") or {})
                and p["status"].get("phase") == "Running"
            ]
            healthy = sum(1 for p in matching if self._pod_ready(p))
            pdb["status"] = {
                "currentHealthy": healthy,
                "desiredHealthy": max(0, healthy - 1),
                "disruptionsAllowed": 1 if healthy > 1 else 0,
                "expectedPods": len(matching),
                "observedGeneration": pdb["metadata"].get("generation", 1),
            }

    # --- output --------------------------------------------------------------------------

    def to_objects(self) -> list[Obj]:
        order = {"Namespace": 0, "Node": 1, "CustomResourceDefinition": 2}
        return [
            copy.deepcopy(o)
            for _, o in sorted(
                self._objects.items(),
                key=lambda kv: (order.get(kv[0][1], 9), kv[0][1], kv[0][2], kv[0][3], kv[0][0]),
            )
        ]

    def to_list_json(self) -> bytes:
        return json.dumps(
            {
                "apiVersion": "v1",
                "kind": "List",
                "metadata": {"resourceVersion": ""},
                "items": self.to_objects(),
            },
            separators=(",", ":"),
        ).encode()

    def snapshot(self) -> Snapshot:
        return snapshot_from_objects(self.to_objects(), source=f"sim:{self.name}")

    def __len__(self) -> int:
        return len(self._objects)
