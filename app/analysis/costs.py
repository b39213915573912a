"""Price a finding from a PriceBook: disks, load balancers, idle requests, control planes.

Every result is a ``Cost`` whose basis spells out the arithmetic ("100 GiB gp3 × $0.08/GB-month")
and whose ``assumed`` flag says when the price is a fallback rather than a list price the book
knows. These are estimates at list price, never a bill. Pure: no I/O, settings or clock.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.analysis.model import Cost
from app.kube.objects import (
    Container,
    Node,
    PersistentVolume,
    PodSpec,
    Service,
    StorageClass,
)
from app.pricing.book import PriceBook, PriceEntry
from app.pricing.quantity import GIB, bytes_to_gib, parse_bytes, parse_cores

_PROVIDER_ALIASES = {
    "aws": "aws", "eks": "aws", "amazon": "aws",
    "gcp": "gcp", "gke": "gcp", "gce": "gcp", "google": "gcp",
    "azure": "azure", "aks": "azure",
}  # fmt: skip
_PROVIDER_LABEL = {"aws": "AWS", "gcp": "GCP", "azure": "Azure"}


def normalize_provider(provider: str | None) -> str | None:
    """The canonical provider ("aws", "gcp", "azure") for a name or alias; None otherwise."""
    return _PROVIDER_ALIASES.get(provider.strip().lower()) if provider else None


# --- provider detection -------------------------------------------------------------------

_PROVIDER_ID_PREFIXES = (("aws://", "aws"), ("gce://", "gcp"), ("azure://", "azure"))
_REGION_LABELS = ("topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region")
_ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
_ZONE_TO_REGION = {
    "aws": re.compile(r"([a-z]{2}(?:-[a-z]+)+-\d+)[a-z]"),  # us-east-1a
    "gcp": re.compile(r"([a-z]+-[a-z]+\d+)-[a-z]"),  # us-central1-a
    "azure": re.compile(r"([a-z0-9]+)-\d+"),  # eastus-1
}


def _node_provider(node: Node) -> str | None:
    provider_id = (node.spec.provider_id or "").lower()
    for prefix, provider in _PROVIDER_ID_PREFIXES:
        if provider_id.startswith(prefix):
            return provider
    for key in node.metadata.labels:
        if key.startswith("eks.amazonaws.com/"):
            return "aws"
        if key == "cloud.google.com/gke-nodepool":
            return "gcp"
        if key.startswith("kubernetes.azure.com/"):
            return "azure"
    return None


def _node_region(node: Node, provider: str) -> str | None:
    labels = node.metadata.labels
    for key in _REGION_LABELS:
        if labels.get(key):
            return labels[key]
    for key in _ZONE_LABELS:
        match = _ZONE_TO_REGION[provider].fullmatch(labels.get(key, ""))
        if match:
            return match[1]
    return None


def detect_provider(nodes: Sequence[Node]) -> tuple[str | None, str | None]:
    """(provider, region) most nodes agree on, from providerIDs, cloud and topology labels."""
    providers = Counter(p for p in map(_node_provider, nodes) if p is not None)
    if not providers:
        return None, None
    provider = providers.most_common(1)[0][0]
    regions = Counter(
        r
        for n in nodes
        if _node_provider(n) == provider and (r := _node_region(n, provider)) is not None
    )
    return provider, (regions.most_common(1)[0][0] if regions else None)


# --- disk types ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiskType:
    """What a volume is billed as. ``name`` None: storage the book has no price for."""

    provider: str | None  # the cloud whose price table applies
    name: str | None  # "gp3", "pd-balanced", "Premium_LRS"
    origin: str  # what it was recognised from, for the cost basis
    inferred: bool = False  # the type is the driver's default, guessed because the class is gone
    regional: bool = False  # GCP regional PD: replicated in two zones, billed twice


# driver -> (provider, parameter keys naming the type, the driver's default type)
_BLOCK_DRIVERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "ebs.csi.aws.com": ("aws", ("type",), "gp3"),
    "kubernetes.io/aws-ebs": ("aws", ("type",), "gp2"),
    "pd.csi.storage.gke.io": ("gcp", ("type",), "pd-standard"),
    "kubernetes.io/gce-pd": ("gcp", ("type",), "pd-standard"),
    "disk.csi.azure.com": ("azure", ("skuname", "storageaccounttype"), "StandardSSD_LRS"),
    "kubernetes.io/azure-disk": ("azure", ("skuname", "storageaccounttype"), "StandardSSD_LRS"),
}
_UNPRICED_DRIVERS = {
    "efs.csi.aws.com": ("aws", "Amazon EFS"),
    "fsx.csi.aws.com": ("aws", "Amazon FSx"),
    "s3.csi.aws.com": ("aws", "Mountpoint for Amazon S3"),
    "filestore.csi.storage.gke.io": ("gcp", "Filestore"),
    "gcsfuse.csi.storage.gke.io": ("gcp", "Cloud Storage FUSE"),
    "file.csi.azure.com": ("azure", "Azure Files"),
    "kubernetes.io/azure-file": ("azure", "Azure Files"),
    "blob.csi.azure.com": ("azure", "Azure Blob storage"),
}
# The classes EKS, GKE and AKS create, by (provider, name): used when the class object is gone.
_PLATFORM_CLASSES: dict[tuple[str, str], tuple[str, dict[str, str]]] = {
    ("aws", "gp2"): ("kubernetes.io/aws-ebs", {"type": "gp2"}),
    ("gcp", "standard"): ("kubernetes.io/gce-pd", {"type": "pd-standard"}),
    ("gcp", "standard-rwo"): ("pd.csi.storage.gke.io", {"type": "pd-balanced"}),
    ("gcp", "premium-rwo"): ("pd.csi.storage.gke.io", {"type": "pd-ssd"}),
    ("azure", "default"): ("disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}),
    ("azure", "managed-csi"): ("disk.csi.azure.com", {"skuname": "StandardSSD_LRS"}),
    ("azure", "managed-csi-premium"): ("disk.csi.azure.com", {"skuname": "Premium_LRS"}),
    ("azure", "managed-premium"): ("kubernetes.io/azure-disk", {"skuname": "Premium_LRS"}),
    ("azure", "azurefile"): ("kubernetes.io/azure-file", {}),
    ("azure", "azurefile-csi"): ("file.csi.azure.com", {}),
    ("azure", "azurefile-csi-premium"): ("file.csi.azure.com", {}),
    ("azure", "azurefile-premium"): ("kubernetes.io/azure-file", {}),
}
_EBS_TYPES = frozenset({"gp2", "gp3", "io1", "io2", "st1", "sc1"})
_PD_TYPES = frozenset({"pd-standard", "pd-balanced", "pd-ssd"})
_AZURE_SKUS = {
    s.lower(): s
    for s in (
        "Premium_LRS", "Premium_ZRS", "StandardSSD_LRS", "StandardSSD_ZRS", "Standard_LRS",
        "PremiumV2_LRS", "UltraSSD_LRS",
    )
}  # fmt: skip
# Azure SKU -> (price-book family, the family's name on the pricing page)
_AZURE_FAMILIES = {
    "Premium_LRS": ("premium", "Premium SSD"),
    "Premium_ZRS": ("premium", "Premium SSD"),
    "StandardSSD_LRS": ("standard_ssd", "Standard SSD"),
    "StandardSSD_ZRS": ("standard_ssd", "Standard SSD"),
    "Standard_LRS": ("standard_hdd", "Standard HDD"),
}


def _classify(driver: str, params: Mapping[str, str], origin: str, *, inferred: bool) -> DiskType:
    lowered = {k.lower(): v.strip() for k, v in params.items()}
    if driver in _BLOCK_DRIVERS:
        provider, keys, default = _BLOCK_DRIVERS[driver]
        given = next((lowered[k] for k in keys if lowered.get(k)), None)
        raw = given or default
        guessed = inferred and given is None
        regional = provider == "gcp" and lowered.get("replication-type", "").lower() in {
            "regional-pd",
            "regional",
        }
        if provider == "azure":
            name = _AZURE_SKUS.get(raw.lower())
            known = name is not None
        else:
            name = raw.lower()
            known = name in (_EBS_TYPES if provider == "aws" else _PD_TYPES)
        if known:
            return DiskType(provider, name, origin, inferred=guessed, regional=regional)
        return DiskType(provider, None, f"{origin}: type {raw} not in the price book")
    if driver in _UNPRICED_DRIVERS:
        provider, label = _UNPRICED_DRIVERS[driver]
        return DiskType(provider, None, f"{label}, {origin}")
    return DiskType(None, None, origin)


def _pv_driver(pv: PersistentVolume) -> tuple[str, dict[str, str]]:
    spec = pv.spec
    if spec.csi is not None and spec.csi.driver:
        return spec.csi.driver, dict(spec.csi.volume_attributes)
    if spec.aws_elastic_block_store is not None:
        return "kubernetes.io/aws-ebs", {}
    if spec.gce_persistent_disk is not None:
        return "kubernetes.io/gce-pd", {}
    if spec.azure_disk is not None:
        return "kubernetes.io/azure-disk", {
            k: v for k, v in spec.azure_disk.items() if isinstance(v, str)
        }
    return pv.metadata.annotations.get("pv.kubernetes.io/provisioned-by", ""), {}


def disk_type(
    provider: str | None, storage_class: StorageClass | None, pv: PersistentVolume | None
) -> DiskType:
    """What a volume bills as: its StorageClass decides, else the PV's own driver and class name."""
    if storage_class is not None:
        driver = storage_class.provisioner
        origin = f"StorageClass {storage_class.metadata.name} ({driver or 'no provisioner'})"
        return _classify(driver, storage_class.parameters, origin, inferred=False)
    if pv is None:
        return DiskType(None, None, "no StorageClass or PersistentVolume")
    driver, attributes = _pv_driver(pv)
    context = normalize_provider(provider)
    if driver in _BLOCK_DRIVERS:
        context = _BLOCK_DRIVERS[driver][0]
    elif driver in _UNPRICED_DRIVERS:
        context = _UNPRICED_DRIVERS[driver][0]
    class_name = pv.spec.storage_class_name or ""
    platform = _PLATFORM_CLASSES.get((context or "", class_name))
    if platform is not None and (not driver or _driver_provider(driver) == context):
        platform_driver, params = platform
        merged = {**params, **attributes} if driver == platform_driver else params
        origin = f"{class_name}, the platform's StorageClass ({platform_driver})"
        return _classify(platform_driver, merged, origin, inferred=False)
    if not driver:
        return DiskType(None, None, f"PersistentVolume {pv.metadata.name} names no driver")
    origin = f"PersistentVolume {pv.metadata.name} ({driver})"
    return _classify(driver, attributes, origin, inferred=True)


def _driver_provider(driver: str) -> str | None:
    if driver in _BLOCK_DRIVERS:
        return _BLOCK_DRIVERS[driver][0]
    return _UNPRICED_DRIVERS[driver][0] if driver in _UNPRICED_DRIVERS else None


# --- money formatting ---------------------------------------------------------------------


def _rate(value: float) -> str:
    """A unit price with its meaningful decimals: 0.08 → "$0.08", 0.0225 → "$0.0225"."""
    text = f"{value:.6f}".rstrip("0")
    whole, _, frac = text.partition(".")
    return f"${whole}.{frac.ljust(2, '0')}"


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


# --- storage ------------------------------------------------------------------------------


def storage_cost(
    book: PriceBook,
    *,
    provider: str | None,
    storage_class: StorageClass | None,
    pv: PersistentVolume | None,
    capacity_bytes: int | float | Decimal,
) -> Cost:
    """Monthly price of a volume's provisioned size.

    Providers bill whole GiB of provisioned size and call them GB, so the size is rounded up to
    whole GiB and billed as that many GB-months (a 100Gi volume is 100 GB-months). Azure managed
    disks bill the smallest tier that holds the disk.
    """
    gib = math.ceil(Decimal(capacity_bytes) / GIB) if capacity_bytes > 0 else 0
    kind = disk_type(provider, storage_class, pv)
    if kind.name is not None and kind.provider == "azure":
        return _azure_disk_cost(book, kind, kind.name, gib)
    entry = book.block_storage(kind.provider, kind.name) if kind.provider and kind.name else None
    if entry is None:
        fallback = book.unknown_storage
        return Cost(
            gib * fallback.value,
            f"{gib} GiB unknown storage ({kind.origin}) "
            f"× {_rate(fallback.value)}/GB-month, assumed",
            assumed=True,
        )
    basis = f"{gib} GiB {kind.name} × {_rate(entry.value)}/GB-month"
    monthly = gib * entry.value
    if kind.regional:
        monthly *= 2
        basis += " × 2 (regional PD, two zones)"
    if kind.name in {"io1", "io2"}:
        basis += " (provisioned IOPS not included)"
    if kind.inferred:
        basis += f"; type assumed: {kind.origin} records none, {kind.name} is the driver default"
    return Cost(monthly, basis, assumed=kind.inferred)


def _azure_disk_cost(book: PriceBook, kind: DiskType, sku: str, gib: int) -> Cost:
    family, label = _AZURE_FAMILIES.get(sku, ("", sku))
    tiers = book.azure_disk_tiers(family) if family else ()
    if not tiers:
        fallback = book.unknown_storage
        return Cost(
            gib * fallback.value,
            f"{gib} GiB Azure {sku} ({kind.origin}): not in the price book, "
            f"× {_rate(fallback.value)}/GB-month, assumed",
            assumed=True,
        )
    assumed = kind.inferred
    note = ""
    if sku.endswith("_ZRS"):
        assumed = True
        note = f", {sku} priced at the LRS tier (ZRS costs more)"
    if kind.inferred:
        note += f", type assumed: {kind.origin} records none"
    tier = next((t for t in tiers if (t.size_gib or 0) >= gib), None)
    smallest = tiers[0]
    # Azure sizes double between tiers; a disk that fits in half the smallest listed tier
    # belongs to a smaller tier the book does not list, so it is priced pro rata, not rounded up.
    if tier is None or (tier is smallest and gib * 2 <= (smallest.size_gib or 0)):
        ref = tiers[-1] if tier is None else smallest
        size = ref.size_gib or 1
        where = "beyond" if tier is None else "below"
        return Cost(
            ref.value * gib / size,
            f"{gib} GiB {label} {where} {_tier(ref)} ({size} GiB): pro rata "
            f"{gib}/{size} × ${ref.value:.2f}/month{note}, assumed",
            assumed=True,
        )
    return Cost(
        tier.value,
        f"{gib} GiB {label} → {_tier(tier)} ({tier.size_gib} GiB) ${tier.value:.2f}/month{note}"
        + (", assumed" if assumed else ""),
        assumed=assumed,
    )


def _tier(entry: PriceEntry) -> str:
    return entry.id.rsplit(".", 1)[-1]


# --- load balancers -----------------------------------------------------------------------

_AWS_LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"


def load_balancer_cost(
    book: PriceBook, *, provider: str | None, service: Service, lb_index: int = 0
) -> Cost:
    """Monthly price of a LoadBalancer Service; ``lb_index`` is its place among the project's or
    load balancer's forwarding rules (GCP, Azure bill rules past the fifth at a lower rate)."""
    if service.spec.type != "LoadBalancer":
        return Cost(0.0, f"a {service.spec.type or 'ClusterIP'} Service has no load balancer")
    hours = book.hours_per_month
    prov = normalize_provider(provider)
    assumed = False
    if prov == "aws":
        lb_type = service.metadata.annotations.get(_AWS_LB_TYPE, "").strip().lower()
        nlb = lb_type in {"nlb", "external", "nlb-ip"} or (
            service.spec.load_balancer_class == "service.k8s.aws/nlb"
        )
        entry = book.entry("lb.aws.nlb" if nlb else "lb.aws.classic")
        what = "AWS NLB" if nlb else "AWS Classic LB"
    elif prov in {"gcp", "azure"}:
        first = lb_index < 5
        suffix = ("forwarding_rule_" if prov == "gcp" else "rule_") + (
            "first5" if first else "extra"
        )
        entry = book.entry(f"lb.{prov}.{suffix}")
        thing = "GCP forwarding rule" if prov == "gcp" else "Azure Standard LB rule"
        what = f"{thing} #{lb_index + 1} ({'first 5' if first else 'beyond the first 5'})"
    else:
        entry = book.entry("lb.unknown")
        what = "load balancer on an unknown provider"
        assumed = True
    basis = f"{what} × {_rate(entry.value)}/h × {_num(hours)} h" + (", assumed" if assumed else "")
    return Cost(entry.value * hours, basis, assumed=assumed)


# --- compute ------------------------------------------------------------------------------

_AZURE_SIZE = re.compile(r"(?:standard_)?([a-z]+)\d+(?:-\d+)?([a-z]*)_(v\d+)")


def _instance_family(provider: str, instance_type: str) -> str:
    name = instance_type.strip().lower()
    if provider == "aws":
        return name.split(".", 1)[0]
    if provider == "gcp":
        return name.split("-", 1)[0]
    match = _AZURE_SIZE.fullmatch(name)
    return "".join(match.groups()) if match else name


def compute_cost(
    book: PriceBook,
    *,
    provider: str | None,
    instance_type: str | None,
    cpu_cores: float,
    memory_gib: float,
) -> Cost:
    """Monthly price of held requests: per vCPU-hour and per GiB-hour rates × 730 h.

    A known instance type's hourly price is split into those two rates by the ratio of the
    provider's default family rates; otherwise the family rates apply as they are.
    """
    prov = normalize_provider(provider)
    rates = book.compute_rates(prov) if prov else None
    assumed = False
    if rates is None:
        rates = book.compute_rates("gcp")
        if rates is None:
            raise ValueError("price book lacks compute.gcp rates, the unknown-provider fallback")
        cpu_rate, mem_rate = rates[0].value, rates[1].value
        note = "unknown provider: GCP N2 rates assumed"
        assumed = True
    else:
        cpu_rate, mem_rate = rates[0].value, rates[1].value
        family = rates[0].family or "default"
        note = f"{_PROVIDER_LABEL.get(prov or '', prov)} {family} rates"
        instance = book.instance(prov or "", instance_type) if instance_type else None
        if instance is not None and instance.vcpu and instance.memory_gib:
            cpu_weight = instance.vcpu * cpu_rate
            mem_weight = instance.memory_gib * mem_rate
            total = cpu_weight + mem_weight
            cpu_rate = instance.value * cpu_weight / total / instance.vcpu
            mem_rate = instance.value * mem_weight / total / instance.memory_gib
            note = f"{instance_type} {_rate(instance.value)}/h split by {family} vCPU:GiB rates"
        elif instance_type and _instance_family(prov or "", instance_type) != family:
            note = f"{instance_type} not in the price book: {note} assumed"
            assumed = True
    hours = book.hours_per_month
    monthly = (cpu_cores * cpu_rate + memory_gib * mem_rate) * hours
    basis = (
        f"{_num(cpu_cores)} vCPU × {_rate(round(cpu_rate, 6))}/h + "
        f"{_num(memory_gib)} GiB × {_rate(round(mem_rate, 6))}/h × {_num(hours)} h ({note})"
    )
    return Cost(monthly, basis, assumed=assumed)


# --- control plane ------------------------------------------------------------------------

_CONTROL_PLANE = {"aws": ("eks", "EKS", "standard"), "gcp": ("gke", "GKE", "standard"),
                  "azure": ("aks", "AKS", "free")}  # fmt: skip
_TIER_ALIASES = {"extended-support": "extended", "extended_support": "extended", "paid": "standard"}


def control_plane_cost(book: PriceBook, *, provider: str | None, tier: str | None) -> Cost:
    """Monthly managed control-plane fee; tier None means the provider's default tier."""
    prov = normalize_provider(provider)
    if prov is None:
        return Cost(0.0, "unknown provider: no managed control-plane fee priced", assumed=True)
    service, label, default_tier = _CONTROL_PLANE[prov]
    wanted = (tier or default_tier).strip().lower()
    wanted = _TIER_ALIASES.get(wanted, wanted)
    entry = book.control_plane(service, wanted)
    assumed = entry is None
    if entry is None:
        entry = book.entry(f"control_plane.{service}.{default_tier}")
    name = _tier(entry)
    hours = book.hours_per_month
    basis = f"{label} {name} control plane × {_rate(entry.value)}/h × {_num(hours)} h"
    if assumed:
        basis += f" (unknown tier {tier!r}: {name} assumed)"
    if service == "gke":
        credit = book.get("control_plane.gke.zonal_credit")
        if credit is not None:
            basis += (
                f"; a ${credit.value:.2f}/month credit covers one zonal or Autopilot cluster "
                "per billing account, not applied"
            )
    return Cost(entry.value * hours, basis, assumed=assumed)


# --- pod requests -------------------------------------------------------------------------


def _requests(container: Container) -> tuple[float, float]:
    res = container.resources
    if res is None:
        return 0.0, 0.0
    # An unset request defaults to the limit (the API server's defaulting; templates skip it).
    cpu = res.requests.get("cpu") or res.limits.get("cpu")
    memory = res.requests.get("memory") or res.limits.get("memory")
    return (
        parse_cores(cpu) if cpu else 0.0,
        bytes_to_gib(parse_bytes(memory)) if memory else 0.0,
    )


def pod_requests(pod_spec: PodSpec) -> tuple[float, float]:
    """(cores, GiB) the scheduler reserves: containers summed, or the largest init container."""
    app = [_requests(c) for c in pod_spec.containers]
    init = [_requests(c) for c in pod_spec.init_containers]
    cores = max(sum(c for c, _ in app), max((c for c, _ in init), default=0.0))
    gib = max(sum(m for _, m in app), max((m for _, m in init), default=0.0))
    return cores, gib
