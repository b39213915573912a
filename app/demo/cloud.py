"""The demo fleet's clouds: which cluster sits where, and how each provider names things.

Pure data and string formatting; the objects themselves are built in ``platform``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

PROVIDERS = ("aws", "gcp", "azure")

# (name, environment, region) per provider; index i of the fleet takes provider i % 3 and the
# (i // 3)-th entry of that provider's list, with "-2", "-3" … once the list is used up.
FLEET: dict[str, tuple[tuple[str, str, str], ...]] = {
    "aws": (
        ("prod-us-checkout", "prod", "us-east-1"),
        ("staging-us", "staging", "us-east-2"),
        ("data-lake", "data", "us-west-2"),
        ("ci-runners", "ci", "eu-west-1"),
        ("prod-eu-checkout", "prod", "eu-central-1"),
        ("dev-sandbox", "dev", "us-east-1"),
        ("ml-inference", "ml", "us-west-2"),
    ),
    "gcp": (
        ("prod-eu-search", "prod", "europe-west1"),
        ("ml-training", "ml", "us-central1"),
        ("staging-eu", "staging", "europe-west4"),
        ("analytics", "data", "us-east1"),
        ("dev-playground", "dev", "europe-west1"),
        ("prod-asia-web", "prod", "asia-southeast1"),
        ("ci-builds", "ci", "us-central1"),
    ),
    "azure": (
        ("prod-weu-payments", "prod", "westeurope"),
        ("dev-eastus", "dev", "eastus"),
        ("data-warehouse", "data", "northeurope"),
        ("staging-weu", "staging", "westeurope"),
        ("prod-eus-identity", "prod", "eastus2"),
        ("ml-research", "ml", "westeurope"),
        ("ci-agents", "ci", "northeurope"),
    ),
}

# Instance types the price book knows, small to large.
INSTANCE_TYPES = {
    "aws": ("m5.large", "m5.xlarge", "m5.2xlarge"),
    "gcp": ("n2-standard-2", "n2-standard-4", "n2-standard-8"),
    "azure": ("Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5"),
}
# Accelerator pools on ML clusters (not in the price book: priced at family rates, assumed).
GPU_TYPES = {"aws": "g5.2xlarge", "gcp": "g2-standard-8", "azure": "Standard_NC4as_T4_v3"}

VERSIONS = {
    "aws": ("1.31", "1.30", "1.32"),
    "gcp": ("1.31.5-gke.1169000", "1.30.8-gke.1261000", "1.32.1-gke.1357000"),
    "azure": ("1.31.3", "1.30.7", "1.32.0"),
}

# Disk sizes waste is drawn from; Azure's straddle its tiers (200 GiB bills as P15's 256).
DISK_SIZES = {
    "aws": (20, 50, 100, 100, 200, 500),
    "gcp": (10, 30, 50, 100, 200, 375),
    "azure": (32, 100, 128, 200, 256, 500, 1024),
}


def _h(*parts: object) -> str:
    return hashlib.sha256("\x00".join(str(p) for p in parts).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Cloud:
    """One cluster's provider facts: region, zones, account, registry, disks and classes."""

    provider: str
    name: str
    environment: str
    region: str
    version: str

    @property
    def zones(self) -> tuple[str, ...]:
        if self.provider == "aws":
            return tuple(f"{self.region}{z}" for z in "abc")
        if self.provider == "gcp":
            return tuple(f"{self.region}-{z}" for z in "abc")
        return tuple(f"{self.region}-{z}" for z in "123")

    @property
    def account(self) -> str:
        """The AWS account id, GCP project id or Azure subscription id."""
        digest = _h("account", self.provider, self.environment)
        if self.provider == "aws":
            return str(int(digest[:12], 16) % 10**12).rjust(12, "4")
        if self.provider == "gcp":
            return f"acme-{self.environment}-{digest[:6]}"
        return f"{digest[:8]}-{digest[8:12]}-4{digest[13:16]}-a{digest[17:20]}-{digest[20:32]}"

    @property
    def resource_group(self) -> str:
        """AKS's node resource group."""
        return f"MC_rg-{self.name}_{self.name}_{self.region}"

    @property
    def external_id(self) -> str:
        """The provider's id of the cluster (ARN, GKE resource name, ARM id)."""
        if self.provider == "aws":
            return f"arn:aws:eks:{self.region}:{self.account}:cluster/{self.name}"
        if self.provider == "gcp":
            return f"projects/{self.account}/locations/{self.region}/clusters/{self.name}"
        return (
            f"/subscriptions/{self.account}/resourceGroups/rg-{self.name}/providers/"
            f"Microsoft.ContainerService/managedClusters/{self.name}"
        )

    @property
    def endpoint(self) -> str:
        digest = _h("endpoint", self.name, self.region)
        if self.provider == "aws":
            return f"https://{digest[:32].upper()}.gr7.{self.region}.eks.amazonaws.com"
        if self.provider == "gcp":
            return f"https://34.{int(digest[:2], 16)}.{int(digest[2:4], 16)}.{int(digest[4:6], 16)}"
        return f"https://{self.name}-dns-{digest[:8]}.hcp.{self.region}.azmk8s.io:443"

    @property
    def registry(self) -> str:
        if self.provider == "aws":
            return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"
        if self.provider == "gcp":
            return f"{self.region.split('-')[0]}-docker.pkg.dev/{self.account}/apps"
        return f"acme{self.environment}.azurecr.io"

    @property
    def csi_driver(self) -> str:
        return {
            "aws": "ebs.csi.aws.com",
            "gcp": "pd.csi.storage.gke.io",
            "azure": "disk.csi.azure.com",
        }[self.provider]

    @property
    def zone_key(self) -> str:
        return {
            "aws": "topology.ebs.csi.aws.com/zone",
            "gcp": "topology.gke.io/zone",
            "azure": "topology.disk.csi.azure.com/zone",
        }[self.provider]

    @property
    def default_class(self) -> str:
        return {"aws": "gp3", "gcp": "standard-rwo", "azure": "managed-csi"}[self.provider]

    @property
    def fast_class(self) -> str:
        """The platform's SSD class (gp3 stays the EKS choice: gp2 is the legacy one)."""
        return {"aws": "gp2", "gcp": "premium-rwo", "azure": "managed-csi-premium"}[self.provider]

    def volume_handle(self, pv_name: str, zone: str) -> str:
        if self.provider == "aws":
            return "vol-0" + _h("vol", self.name, pv_name)[:16]
        if self.provider == "gcp":
            return f"projects/{self.account}/zones/{zone}/disks/{pv_name}"
        return (
            f"/subscriptions/{self.account}/resourceGroups/{self.resource_group.lower()}/"
            f"providers/Microsoft.Compute/disks/{pv_name}"
        )

    def lb_address(self, namespace: str, name: str) -> dict[str, str]:
        digest = _h("lb", self.name, namespace, name)
        if self.provider == "aws":
            host = f"a{digest[:31]}-{int(digest[31:40], 16) % 10**10}"
            return {"hostname": f"{host}.elb.{self.region}.amazonaws.com"}
        first = 34 if self.provider == "gcp" else 20
        return {
            "ip": f"{first}.{int(digest[:2], 16)}.{int(digest[2:4], 16)}.{int(digest[4:6], 16)}"
        }


def fleet_entry(index: int) -> tuple[str, str, str, str]:
    """(provider, name, environment, region) of the fleet's ``index``-th cluster."""
    if index < 0:
        raise ValueError("a cluster index is not negative")
    provider = PROVIDERS[index % 3]
    slot = index // 3
    entries = FLEET[provider]
    name, environment, region = entries[slot % len(entries)]
    cycle = slot // len(entries)
    return provider, (name if cycle == 0 else f"{name}-{cycle + 1}"), environment, region
