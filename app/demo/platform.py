"""What EKS, GKE and AKS create, and what a platform team installs on day one: nodes with the
providers' real labels, system namespaces, StorageClasses, the kube-system add-ons, the
bootstrap RBAC, ingress-nginx, cert-manager and the Prometheus stack. None of it is waste."""

from __future__ import annotations

from app.demo.cloud import GPU_TYPES, INSTANCE_TYPES
from app.demo.objects import Gen, Obj

RBAC = "rbac.authorization.k8s.io/v1"
BOOTSTRAP = {"kubernetes.io/bootstrapping": "rbac-defaults"}


def nodes(gen: Gen, scale: int) -> None:
    """Node pools sized for the workload: a system pool and a general pool (and GPUs on ML)."""
    cloud = gen.cloud
    small, medium, large = INSTANCE_TYPES[cloud.provider]
    general = min(2 + scale + scale // 2, 48)
    pools = [("system", medium, 2), ("general", large if scale > 4 else medium, general)]
    if cloud.environment in ("data", "ml"):
        pools.append(("highmem", large, 1 + scale // 4))
    if cloud.environment == "ml":
        pools.append(("gpu", GPU_TYPES[cloud.provider], 1))
    if cloud.environment == "ci":
        pools.append(("builders", small, 1 + scale // 3))
    index = 0
    for pool, instance, count in pools:
        for i in range(count):
            _node(gen, pool, instance, index, cloud.zones[i % 3])
            index += 1


def _node(gen: Gen, pool: str, instance: str, index: int, zone: str) -> None:
    cloud = gen.cloud
    ip = f"10.{index // 200}.{(index * 37) % 250}.{10 + index % 200}"
    h = gen.hexid(20, "node", pool, index)
    labels = {
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": instance,
        "topology.kubernetes.io/region": cloud.region,
        "topology.kubernetes.io/zone": zone,
    }
    if cloud.provider == "aws":
        suffix = (
            "ec2.internal" if cloud.region == "us-east-1" else f"{cloud.region}.compute.internal"
        )
        name = f"ip-{ip.replace('.', '-')}.{suffix}"
        nodegroup = f"{pool}-{gen.hexid(8, 'ng', pool)}"
        labels |= {
            "eks.amazonaws.com/nodegroup": nodegroup,
            "eks.amazonaws.com/capacityType": "SPOT" if pool == "builders" else "ON_DEMAND",
            "eks.amazonaws.com/nodegroup-image": "ami-0" + h[:16],
            "topology.ebs.csi.aws.com/zone": zone,
        }
        provider_id = f"aws:///{zone}/i-0{h[:16]}"
        kubelet = f"v{cloud.version}.4-eks-{h[:7]}"
    elif cloud.provider == "gcp":
        pool_name = "default-pool" if pool == "general" else f"{pool}-pool"
        name = f"gke-{cloud.name[:18]}-{pool_name}-{gen.hexid(8, pool, zone)}-{h[:4]}"
        labels |= {
            "cloud.google.com/gke-nodepool": pool_name,
            "cloud.google.com/gke-os-distribution": "cos",
            "cloud.google.com/gke-boot-disk": "pd-balanced",
            "cloud.google.com/machine-family": instance.split("-")[0],
            "topology.gke.io/zone": zone,
        }
        provider_id = f"gce://{cloud.account}/{zone}/{name}"
        kubelet = f"v{cloud.version}"
    else:
        pool_name = {"system": "system", "general": "nodepool1"}.get(pool, pool)[:12]
        vmss = f"aks-{pool_name}-{int(gen.hexid(8, pool), 16) % 10**8:08d}-vmss"
        name = f"{vmss}{index:06d}"
        labels |= {
            "agentpool": pool_name,
            "kubernetes.azure.com/agentpool": pool_name,
            "kubernetes.azure.com/cluster": cloud.resource_group,
            "kubernetes.azure.com/mode": "system" if pool == "system" else "user",
            "kubernetes.azure.com/os-sku": "Ubuntu",
            "kubernetes.azure.com/role": "agent",
            "topology.disk.csi.azure.com/zone": zone,
        }
        provider_id = (
            f"azure:///subscriptions/{cloud.account}/resourceGroups/"
            f"{cloud.resource_group.lower()}/providers/Microsoft.Compute/"
            f"virtualMachineScaleSets/{vmss}/virtualMachines/{index}"
        )
        kubelet = f"v{cloud.version}"
    if pool == "gpu":
        labels["nvidia.com/gpu.present"] = "true"
    labels["kubernetes.io/hostname"] = name
    gen.obj(
        "v1",
        "Node",
        gen.meta("Node", name, created=gen.created(1, 90), labels=labels),
        spec={"providerID": provider_id},
        status={
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
            "nodeInfo": {"kubeletVersion": kubelet, "operatingSystem": "linux"},
        },
    )
    gen.nodes.append(name)


def namespace(gen: Gen, name: str, *, created: str, labels: dict[str, str] | None = None) -> Obj:
    """A namespace with what the control plane puts in every one."""
    ns = gen.obj(
        "v1",
        "Namespace",
        gen.meta(
            "Namespace",
            name,
            created=created,
            labels={"kubernetes.io/metadata.name": name, **(labels or {})},
        ),
        spec={"finalizers": ["kubernetes"]},
        status={"phase": "Active"},
    )
    gen.obj("v1", "ServiceAccount", gen.meta("ServiceAccount", "default", name, created=created))
    gen.obj(
        "v1",
        "ConfigMap",
        gen.meta(
            "ConfigMap",
            "kube-root-ca.crt",
            name,
            created=created,
            annotations={"kubernetes.io/description": "Contains a CA bundle"},
        ),
        data={"ca.crt": "-----BEGIN CERTIFICATE-----"},
    )
    return ns


def storage_classes(gen: Gen) -> None:
    provider = gen.cloud.provider
    born = gen.ago(400)
    classes: list[tuple[str, str, dict[str, str], bool]]
    if provider == "aws":
        classes = [
            ("gp2", "kubernetes.io/aws-ebs", {"type": "gp2", "fsType": "ext4"}, False),
            ("gp3", "ebs.csi.aws.com", {"type": "gp3", "encrypted": "true"}, True),
        ]
    elif provider == "gcp":
        classes = [
            ("standard", "kubernetes.io/gce-pd", {"type": "pd-standard"}, False),
            ("standard-rwo", "pd.csi.storage.gke.io", {"type": "pd-balanced"}, True),
            ("premium-rwo", "pd.csi.storage.gke.io", {"type": "pd-ssd"}, False),
        ]
    else:
        classes = [
            ("default", "disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}, True),
            ("managed-csi", "disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}, False),
            ("managed-csi-premium", "disk.csi.azure.com", {"skuname": "Premium_LRS"}, False),
            ("azurefile-csi", "file.csi.azure.com", {"skuName": "Standard_LRS"}, False),
            ("azurefile-csi-premium", "file.csi.azure.com", {"skuName": "Premium_LRS"}, False),
        ]
    managed = {"addonmanager.kubernetes.io/mode": "EnsureExists"} if provider != "aws" else None
    for name, provisioner, params, default in classes:
        storage_class(gen, name, provisioner, params, default=default, created=born, labels=managed)


def storage_class(
    gen: Gen,
    name: str,
    provisioner: str,
    params: dict[str, str],
    *,
    created: str,
    default: bool = False,
    labels: dict[str, str] | None = None,
    reclaim: str = "Delete",
) -> Obj:
    ann = {"storageclass.kubernetes.io/is-default-class": "true"} if default else None
    return gen.obj(
        "storage.k8s.io/v1",
        "StorageClass",
        gen.meta("StorageClass", name, created=created, labels=labels, annotations=ann),
        provisioner=provisioner,
        parameters=params,
        reclaimPolicy=reclaim,
        volumeBindingMode="WaitForFirstConsumer",
        allowVolumeExpansion=True,
    )
