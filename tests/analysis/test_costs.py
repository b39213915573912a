"""Pricing each finding type per provider from the default price book and overrides."""

from __future__ import annotations

import ast
import inspect

import pytest

import app.analysis.costs as costs_module
from app.analysis.costs import (
    compute_cost,
    control_plane_cost,
    detect_provider,
    disk_type,
    load_balancer_cost,
    normalize_provider,
    pod_requests,
    storage_cost,
)
from app.kube.objects import (
    Container,
    Node,
    NodeSpec,
    ObjectMeta,
    PersistentVolume,
    PodSpec,
    PVSource,
    PVSpec,
    ResourceRequirements,
    Service,
    ServiceSpec,
    StorageClass,
)
from app.pricing.book import PriceBook, load_default_price_book

GIB = 1 << 30


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return load_default_price_book()


def sc(name: str, provisioner: str, **parameters: str) -> StorageClass:
    return StorageClass(
        metadata=ObjectMeta(name=name), provisioner=provisioner, parameters=parameters
    )


def pv(
    name: str = "pv-1",
    *,
    class_name: str | None = None,
    driver: str | None = None,
    attributes: dict[str, str] | None = None,
    in_tree: str | None = None,
) -> PersistentVolume:
    spec = PVSpec(storage_class_name=class_name)
    if driver:
        spec.csi = PVSource(driver=driver, volume_attributes=attributes or {})
    if in_tree == "aws":
        spec.aws_elastic_block_store = {"volumeID": "vol-1"}
    elif in_tree == "gcp":
        spec.gce_persistent_disk = {"pdName": "disk-1"}
    return PersistentVolume(metadata=ObjectMeta(name=name), spec=spec)


def cost_of(
    book: PriceBook,
    storage_class: StorageClass | None,
    gib: float,
    *,
    provider: str | None = None,
    volume: PersistentVolume | None = None,
) -> tuple[float, str, bool]:
    c = storage_cost(
        book,
        provider=provider,
        storage_class=storage_class,
        pv=volume,
        capacity_bytes=int(gib * GIB),
    )
    return round(c.monthly_usd, 4), c.basis, c.assumed


# --- AWS EBS ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ebs_type", "price"),
    [("gp3", 0.08), ("gp2", 0.10), ("io1", 0.125), ("io2", 0.125), ("st1", 0.045), ("sc1", 0.015)],
)
def test_ebs_types(book: PriceBook, ebs_type: str, price: float) -> None:
    monthly, basis, assumed = cost_of(book, sc("x", "ebs.csi.aws.com", type=ebs_type), 100)
    assert monthly == pytest.approx(100 * price)
    assert basis.startswith(f"100 GiB {ebs_type} × ${price:.3f}".rstrip("0"))
    assert not assumed


def test_ebs_basis_reads_as_the_spec_says(book: PriceBook) -> None:
    assert cost_of(book, sc("fast", "ebs.csi.aws.com", type="gp3"), 100) == (
        8.0,
        "100 GiB gp3 × $0.08/GB-month",
        False,
    )


def test_io_types_say_iops_are_extra(book: PriceBook) -> None:
    _, basis, _ = cost_of(book, sc("x", "ebs.csi.aws.com", type="io2"), 10)
    assert "IOPS not included" in basis


def test_ebs_driver_defaults_and_parameter_case(book: PriceBook) -> None:
    assert cost_of(book, sc("x", "ebs.csi.aws.com"), 10)[:2] == (0.8, "10 GiB gp3 × $0.08/GB-month")
    assert cost_of(book, sc("x", "kubernetes.io/aws-ebs"), 10)[0] == 1.0  # in-tree: gp2
    assert cost_of(book, sc("x", "ebs.csi.aws.com", Type="ST1"), 10)[0] == pytest.approx(0.45)


def test_eks_gp2_class_gone_is_priced_by_its_name(book: PriceBook) -> None:
    volume = pv(class_name="gp2", in_tree="aws")
    assert cost_of(book, None, 100, provider="aws", volume=volume) == (
        10.0,
        "100 GiB gp2 × $0.10/GB-month",
        False,
    )


def test_pv_without_class_falls_back_to_driver_default_marked_assumed(book: PriceBook) -> None:
    volume = pv(class_name="deleted", driver="ebs.csi.aws.com")
    monthly, basis, assumed = cost_of(book, None, 50, provider="aws", volume=volume)
    assert monthly == 4.0
    assert assumed
    assert "assumed" in basis
    assert "gp3" in basis
    kind = disk_type("aws", None, volume)
    assert (kind.provider, kind.name, kind.inferred) == ("aws", "gp3", True)


def test_unknown_ebs_type_is_assumed(book: PriceBook) -> None:
    monthly, basis, assumed = cost_of(book, sc("old", "kubernetes.io/aws-ebs", type="standard"), 10)
    assert monthly == 1.0
    assert assumed
    assert "standard" in basis
    assert "assumed" in basis


def test_size_is_billed_in_whole_gib(book: PriceBook) -> None:
    c = storage_cost(
        book,
        provider="aws",
        storage_class=sc("x", "ebs.csi.aws.com", type="gp3"),
        pv=None,
        capacity_bytes=100 * 10**9,  # "100G" is 93.13 GiB: the volume is 94 GiB
    )
    assert c.basis == "94 GiB gp3 × $0.08/GB-month"
    assert c.monthly_usd == pytest.approx(94 * 0.08)


# --- GCP PD -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pd_type", "price"), [("pd-standard", 0.04), ("pd-balanced", 0.10), ("pd-ssd", 0.17)]
)
def test_pd_types(book: PriceBook, pd_type: str, price: float) -> None:
    monthly, basis, assumed = cost_of(book, sc("x", "pd.csi.storage.gke.io", type=pd_type), 100)
    assert monthly == pytest.approx(100 * price)
    assert basis.startswith(f"100 GiB {pd_type} × $")
    assert not assumed


@pytest.mark.parametrize(
    ("class_name", "price"), [("standard", 0.04), ("standard-rwo", 0.10), ("premium-rwo", 0.17)]
)
def test_gke_classes_gone_are_priced_by_name(
    book: PriceBook, class_name: str, price: float
) -> None:
    volume = pv(class_name=class_name, driver="pd.csi.storage.gke.io")
    monthly, _, assumed = cost_of(book, None, 10, provider="gcp", volume=volume)
    assert monthly == pytest.approx(10 * price)
    assert not assumed


def test_gce_pd_in_tree_default_and_regional(book: PriceBook) -> None:
    assert cost_of(book, sc("x", "kubernetes.io/gce-pd"), 10)[0] == pytest.approx(0.4)
    regional = sc(
        "r", "pd.csi.storage.gke.io", type="pd-ssd", **{"replication-type": "regional-pd"}
    )
    monthly, basis, _ = cost_of(book, regional, 10)
    assert monthly == pytest.approx(3.4)
    assert "regional" in basis


def test_gke_class_name_does_not_apply_on_other_clouds(book: PriceBook) -> None:
    # "standard" is also kind's and minikube's hostpath class: only GKE's is pd-standard.
    _, basis, assumed = cost_of(book, None, 10, provider=None, volume=pv(class_name="standard"))
    assert assumed
    assert "unknown storage" in basis


# --- Azure managed disks ------------------------------------------------------------------


def premium(**extra: str) -> StorageClass:
    return sc("managed-csi-premium", "disk.csi.azure.com", skuName="Premium_LRS", **extra)


def test_azure_rounds_up_to_the_next_tier(book: PriceBook) -> None:
    assert cost_of(book, premium(), 200) == (
        38.02,
        "200 GiB Premium SSD → P15 (256 GiB) $38.02/month",
        False,
    )


@pytest.mark.parametrize(
    ("gib", "tier", "price"),
    [(128, "P10", 19.71), (100, "P10", 19.71), (129, "P15", 38.02), (512, "P20", 73.22),
     (1024, "P30", 135.17)],
)  # fmt: skip
def test_azure_premium_tiers(book: PriceBook, gib: int, tier: str, price: float) -> None:
    monthly, basis, assumed = cost_of(book, premium(), gib)
    assert monthly == price
    assert f"→ {tier} " in basis
    assert not assumed


@pytest.mark.parametrize(
    ("sku", "gib", "tier", "price"),
    [("StandardSSD_LRS", 128, "E10", 9.60), ("StandardSSD_LRS", 300, "E20", 38.40),
     ("StandardSSD_LRS", 1000, "E30", 76.80), ("Standard_LRS", 128, "S10", 5.89),
     ("Standard_LRS", 256, "S15", 11.33), ("standard_lrs", 1024, "S30", 40.96)],
)  # fmt: skip
def test_azure_standard_tiers(book: PriceBook, sku: str, gib: int, tier: str, price: float) -> None:
    monthly, basis, assumed = cost_of(book, sc("x", "disk.csi.azure.com", skuname=sku), gib)
    assert monthly == price
    assert f"→ {tier} " in basis
    assert not assumed


def test_azure_in_tree_storageaccounttype(book: PriceBook) -> None:
    legacy = sc("managed-premium", "kubernetes.io/azure-disk", storageaccounttype="Premium_LRS")
    assert cost_of(book, legacy, 1024)[0] == 135.17


def test_azure_outside_the_listed_tiers_is_pro_rata_and_assumed(book: PriceBook) -> None:
    monthly, basis, assumed = cost_of(book, premium(), 2048)
    assert monthly == pytest.approx(2 * 135.17)
    assert assumed
    assert "beyond P30" in basis
    assert "assumed" in basis
    monthly, basis, assumed = cost_of(book, premium(), 32)
    assert monthly == pytest.approx(19.71 / 4)
    assert assumed
    assert "below P10" in basis


def test_aks_default_classes(book: PriceBook) -> None:
    assert cost_of(book, sc("default", "disk.csi.azure.com"), 128)[0] == 9.60  # StandardSSD_LRS
    gone = pv(class_name="managed-csi-premium", driver="disk.csi.azure.com")
    assert cost_of(book, None, 128, provider="azure", volume=gone)[0] == 19.71
    gone_default = pv(class_name="managed-csi", driver="disk.csi.azure.com")
    assert cost_of(book, None, 128, provider="azure", volume=gone_default)[0] == 9.60


def test_azure_pv_records_its_sku(book: PriceBook) -> None:
    volume = pv(
        class_name="custom-deleted",
        driver="disk.csi.azure.com",
        attributes={"skuname": "Premium_LRS"},
    )
    assert cost_of(book, None, 200, provider="azure", volume=volume) == (
        38.02,
        "200 GiB Premium SSD → P15 (256 GiB) $38.02/month",
        False,
    )


def test_azure_zrs_and_unpriced_skus_are_assumed(book: PriceBook) -> None:
    monthly, basis, assumed = cost_of(
        book, sc("zrs", "disk.csi.azure.com", skuName="Premium_ZRS"), 200
    )
    assert monthly == 38.02
    assert assumed
    assert "ZRS" in basis
    monthly, basis, assumed = cost_of(
        book, sc("v2", "disk.csi.azure.com", skuName="PremiumV2_LRS"), 100
    )
    assert monthly == pytest.approx(10.0)
    assert assumed
    assert "assumed" in basis


# --- unknown storage ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provisioner", "label"),
    [("file.csi.azure.com", "Azure Files"), ("efs.csi.aws.com", "Amazon EFS"),
     ("filestore.csi.storage.gke.io", "Filestore"), ("rancher.io/local-path", "local-path")],
)  # fmt: skip
def test_unknown_storage_is_assumed_at_the_fallback(
    book: PriceBook, provisioner: str, label: str
) -> None:
    monthly, basis, assumed = cost_of(book, sc("x", provisioner), 100)
    assert monthly == pytest.approx(10.0)
    assert assumed
    assert "assumed" in basis
    assert label in basis
    assert "$0.10/GB-month" in basis


def test_no_class_and_no_volume(book: PriceBook) -> None:
    monthly, basis, assumed = cost_of(book, None, 20)
    assert monthly == pytest.approx(2.0)
    assert assumed
    assert "assumed" in basis


# --- load balancers -----------------------------------------------------------------------


def lb(annotations: dict[str, str] | None = None, lb_class: str | None = None) -> Service:
    return Service(
        metadata=ObjectMeta(name="web", namespace="shop", annotations=annotations or {}),
        spec=ServiceSpec(type="LoadBalancer", load_balancer_class=lb_class),
    )


def test_aws_classic_by_default(book: PriceBook) -> None:
    c = load_balancer_cost(book, provider="aws", service=lb())
    assert c.monthly_usd == pytest.approx(0.025 * 730)
    assert c.basis == "AWS Classic LB × $0.025/h × 730 h"
    assert not c.assumed


@pytest.mark.parametrize("value", ["nlb", "external", "NLB"])
def test_aws_nlb_annotation(book: PriceBook, value: str) -> None:
    service = lb({"service.beta.kubernetes.io/aws-load-balancer-type": value})
    c = load_balancer_cost(book, provider="aws", service=service)
    assert c.monthly_usd == pytest.approx(0.0225 * 730)
    assert c.basis == "AWS NLB × $0.0225/h × 730 h"


def test_aws_nlb_load_balancer_class(book: PriceBook) -> None:
    c = load_balancer_cost(book, provider="eks", service=lb(lb_class="service.k8s.aws/nlb"))
    assert c.monthly_usd == pytest.approx(16.425)


@pytest.mark.parametrize("provider", ["gcp", "azure"])
def test_first_five_rules_then_cheaper(book: PriceBook, provider: str) -> None:
    first = load_balancer_cost(book, provider=provider, service=lb(), lb_index=0)
    fifth = load_balancer_cost(book, provider=provider, service=lb(), lb_index=4)
    sixth = load_balancer_cost(book, provider=provider, service=lb(), lb_index=5)
    assert first.monthly_usd == fifth.monthly_usd == pytest.approx(0.025 * 730)
    assert sixth.monthly_usd == pytest.approx(0.010 * 730)
    assert "#6" in sixth.basis
    assert "beyond the first 5" in sixth.basis
    assert not sixth.assumed


def test_unknown_provider_lb_is_assumed(book: PriceBook) -> None:
    c = load_balancer_cost(book, provider=None, service=lb())
    assert c.monthly_usd == pytest.approx(18.25)
    assert c.assumed
    assert "assumed" in c.basis


def test_non_load_balancer_service_costs_nothing(book: PriceBook) -> None:
    service = Service(spec=ServiceSpec(type="ClusterIP"))
    assert load_balancer_cost(book, provider="aws", service=service).monthly_usd == 0.0


# --- compute ------------------------------------------------------------------------------


def test_known_instance_price_is_split_and_sums_to_the_instance(book: PriceBook) -> None:
    whole = compute_cost(book, provider="aws", instance_type="m5.large", cpu_cores=2, memory_gib=8)
    assert whole.monthly_usd == pytest.approx(0.096 * 730)
    half = compute_cost(book, provider="aws", instance_type="m5.large", cpu_cores=1, memory_gib=4)
    assert half.monthly_usd == pytest.approx(0.048 * 730)
    assert "m5.large $0.096/h" in half.basis
    assert not half.assumed


def test_azure_instance_type_is_matched_case_insensitively(book: PriceBook) -> None:
    c = compute_cost(
        book, provider="azure", instance_type="standard_d2s_v5", cpu_cores=2, memory_gib=8
    )
    assert c.monthly_usd == pytest.approx(0.096 * 730)


def test_gcp_family_rates(book: PriceBook) -> None:
    c = compute_cost(book, provider="gcp", instance_type=None, cpu_cores=0.5, memory_gib=1)
    assert c.monthly_usd == pytest.approx((0.5 * 0.031611 + 0.004237) * 730)
    assert c.basis.startswith("0.5 vCPU × $0.031611/h + 1 GiB × $0.004237/h × 730 h")
    assert not c.assumed
    n2 = compute_cost(
        book, provider="gcp", instance_type="n2-standard-2", cpu_cores=1, memory_gib=2
    )
    assert n2.monthly_usd == pytest.approx(c.monthly_usd * 2)


def test_same_family_unlisted_size_uses_family_rates(book: PriceBook) -> None:
    c = compute_cost(book, provider="aws", instance_type="m5.24xlarge", cpu_cores=1, memory_gib=0)
    assert c.monthly_usd == pytest.approx(0.040 * 730)
    assert not c.assumed


def test_other_family_or_provider_is_assumed(book: PriceBook) -> None:
    other = compute_cost(
        book, provider="azure", instance_type="Standard_E4s_v5", cpu_cores=1, memory_gib=1
    )
    assert other.assumed
    assert "not in the price book" in other.basis
    unknown = compute_cost(book, provider=None, instance_type=None, cpu_cores=1, memory_gib=1)
    assert unknown.monthly_usd == pytest.approx((0.031611 + 0.004237) * 730)
    assert unknown.assumed
    assert "assumed" in unknown.basis


# --- control plane ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "tier", "hourly"),
    [("aws", None, 0.10), ("aws", "extended", 0.60), ("gcp", None, 0.10), ("azure", None, 0.0),
     ("azure", "Standard", 0.10), ("aks", "premium", 0.60)],
)  # fmt: skip
def test_control_plane(book: PriceBook, provider: str, tier: str | None, hourly: float) -> None:
    c = control_plane_cost(book, provider=provider, tier=tier)
    assert c.monthly_usd == pytest.approx(hourly * 730)
    assert not c.assumed


def test_gke_basis_mentions_the_zonal_credit(book: PriceBook) -> None:
    c = control_plane_cost(book, provider="gcp", tier=None)
    assert "$74.40/month credit" in c.basis


def test_unknown_tier_and_provider(book: PriceBook) -> None:
    c = control_plane_cost(book, provider="aws", tier="platinum")
    assert c.monthly_usd == pytest.approx(73.0)
    assert c.assumed
    assert "platinum" in c.basis
    none = control_plane_cost(book, provider=None, tier=None)
    assert none.monthly_usd == 0.0
    assert none.assumed


# --- overrides ----------------------------------------------------------------------------


def test_overrides_change_every_kind_of_result(book: PriceBook) -> None:
    custom = book.with_overrides(
        {
            "storage.aws.gp3": 0.05,
            "lb.aws.nlb": 0.03,
            "compute.gcp.vcpu_hour": 0.05,
            "azure_disk.premium.P10": 20.0,
            "control_plane.eks.standard": 0.2,
        }
    )
    assert cost_of(custom, sc("x", "ebs.csi.aws.com", type="gp3"), 100)[:2] == (
        5.0,
        "100 GiB gp3 × $0.05/GB-month",
    )
    nlb = lb({"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"})
    assert load_balancer_cost(custom, provider="aws", service=nlb).monthly_usd == pytest.approx(
        21.9
    )
    cpu = compute_cost(custom, provider="gcp", instance_type=None, cpu_cores=1, memory_gib=0)
    assert cpu.monthly_usd == pytest.approx(36.5)
    assert cost_of(custom, premium(), 100)[0] == 20.0
    eks = control_plane_cost(custom, provider="aws", tier=None)
    assert eks.monthly_usd == pytest.approx(146.0)


def test_unknown_override_refused(book: PriceBook) -> None:
    with pytest.raises(ValueError, match=r"lb\.aws\.alb"):
        book.with_overrides({"lb.aws.alb": 0.02})


# --- provider detection -------------------------------------------------------------------


def node(provider_id: str | None = None, **labels: str) -> Node:
    return Node(
        metadata=ObjectMeta(name="n", labels=labels), spec=NodeSpec(provider_id=provider_id)
    )


REGION = "topology.kubernetes.io/region"
ZONE = "topology.kubernetes.io/zone"


@pytest.mark.parametrize(
    ("nodes", "expected"),
    [
        ([node("aws:///us-east-1a/i-0abc", **{REGION: "us-east-1"})], ("aws", "us-east-1")),
        ([node("gce://proj/us-central1-a/gke-n1", **{REGION: "us-central1"})],
         ("gcp", "us-central1")),
        ([node("azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/x",
               **{REGION: "eastus"})], ("azure", "eastus")),
        ([node(**{"eks.amazonaws.com/nodegroup": "ng-1"})], ("aws", None)),
        ([node(**{"cloud.google.com/gke-nodepool": "default-pool"})], ("gcp", None)),
        ([node(**{"kubernetes.azure.com/cluster": "MC_rg"})], ("azure", None)),
        ([node("aws:///eu-west-1b/i-1",
               **{"failure-domain.beta.kubernetes.io/region": "eu-west-1"})], ("aws", "eu-west-1")),
        ([node("aws:///us-west-2c/i-1", **{ZONE: "us-west-2c"})], ("aws", "us-west-2")),
        ([node("gce://p/europe-west4-b/n", **{ZONE: "europe-west4-b"})], ("gcp", "europe-west4")),
        ([node("azure:///subscriptions/s", **{ZONE: "westeurope-2"})], ("azure", "westeurope")),
        ([node("kind://docker/kind/kind-control-plane")], (None, None)),
        ([], (None, None)),
    ],
)  # fmt: skip
def test_detect_provider(nodes: list[Node], expected: tuple[str | None, str | None]) -> None:
    assert detect_provider(nodes) == expected


def test_detect_provider_majority() -> None:
    nodes = [
        node("aws:///us-east-1a/i-1", **{REGION: "us-east-1"}),
        node("aws:///us-east-1b/i-2", **{REGION: "us-east-1"}),
        node("aws:///us-west-2a/i-3", **{REGION: "us-west-2"}),
        node("gce://p/us-central1-a/n", **{REGION: "us-central1"}),
        node(None),
    ]
    assert detect_provider(nodes) == ("aws", "us-east-1")


def test_normalize_provider() -> None:
    assert [normalize_provider(p) for p in ("EKS", "gke", "aks", "gcp", None, "onprem")] == [
        "aws", "gcp", "azure", "gcp", None, None,
    ]  # fmt: skip


# --- pod requests -------------------------------------------------------------------------


def container(
    cpu: str | None = None, memory: str | None = None, limits: dict[str, str] | None = None
) -> Container:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    resources = ResourceRequirements(requests=requests, limits=limits or {})
    return Container(name="c", resources=resources)


def test_pod_requests_sum_containers_and_take_the_largest_init() -> None:
    spec = PodSpec(
        containers=[container("250m", "256Mi"), container("500m", "768Mi"), Container(name="x")],
        init_containers=[container("2", "128Mi"), container("100m", "512Mi")],
    )
    assert pod_requests(spec) == (2.0, 1.0)


def test_pod_requests_default_to_limits() -> None:
    spec = PodSpec(containers=[container(limits={"cpu": "1", "memory": "2Gi"})])
    assert pod_requests(spec) == (1.0, 2.0)


def test_pod_without_requests() -> None:
    assert pod_requests(PodSpec()) == (0.0, 0.0)


# --- purity -------------------------------------------------------------------------------


def test_costs_imports_only_pure_modules() -> None:
    tree = ast.parse(inspect.getsource(costs_module))
    allowed = {"app.kube.objects", "app.analysis.model", "app.pricing.book", "app.pricing.quantity"}
    stdlib = {"__future__", "math", "re", "collections", "collections.abc", "dataclasses",
              "decimal"}  # fmt: skip
    for stmt in ast.walk(tree):
        if isinstance(stmt, ast.ImportFrom):
            assert stmt.module in allowed | stdlib, stmt.module
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                assert alias.name in stdlib, alias.name
