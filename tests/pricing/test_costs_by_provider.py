"""The cost of every kind of finding on every provider, with the default book and with an
organisation's overrides of exactly the prices it uses — through ``app.analysis.costs``.

tests/analysis/test_costs.py covers recognising disk types, providers and bases with the
default book; here each case also proves that overriding its price (and only its price)
changes the result, that other prices' overrides leave it alone, and that the same holds for a
book read from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from app.analysis.costs import compute_cost, control_plane_cost, load_balancer_cost, storage_cost
from app.analysis.model import Cost
from app.kube.objects import (
    ObjectMeta,
    PersistentVolume,
    PVSource,
    PVSpec,
    Service,
    ServiceSpec,
    StorageClass,
)
from app.pricing import store
from app.pricing.book import OVERRIDE_SOURCE, PriceBook, load_default_price_book
from app.pricing.models import PriceDefault
from tests.accounts.helpers import make_user

GIB = 1 << 30
HOURS = 730


def sc(provisioner: str, **parameters: str) -> StorageClass:
    return StorageClass(
        metadata=ObjectMeta(name="x"), provisioner=provisioner, parameters=parameters
    )


def disk(
    provisioner: str, gib: int, *, provider: str | None = None, **parameters: str
) -> Callable[[PriceBook], Cost]:
    def cost(book: PriceBook) -> Cost:
        return storage_cost(
            book,
            provider=provider,
            storage_class=sc(provisioner, **parameters),
            pv=None,
            capacity_bytes=gib * GIB,
        )

    return cost


def gone_class_disk(
    provider: str, class_name: str, gib: int, *, in_tree_aws: bool = False, driver: str = ""
) -> Callable[[PriceBook], Cost]:
    """A volume whose StorageClass was deleted: priced from the PV's class name and driver."""
    spec = PVSpec(storage_class_name=class_name)
    if in_tree_aws:
        spec.aws_elastic_block_store = {"volumeID": "vol-0abc"}
    if driver:
        spec.csi = PVSource(driver=driver)
    volume = PersistentVolume(metadata=ObjectMeta(name="pv-1"), spec=spec)

    def cost(book: PriceBook) -> Cost:
        return storage_cost(
            book, provider=provider, storage_class=None, pv=volume, capacity_bytes=gib * GIB
        )

    return cost


def lb(
    provider: str | None, index: int = 0, *, annotations: dict[str, str] | None = None,
    lb_class: str | None = None,
) -> Callable[[PriceBook], Cost]:  # fmt: skip
    service = Service(
        metadata=ObjectMeta(name="web", namespace="shop", annotations=annotations or {}),
        spec=ServiceSpec(type="LoadBalancer", load_balancer_class=lb_class),
    )
    return lambda book: load_balancer_cost(book, provider=provider, service=service, lb_index=index)


def idle(
    provider: str | None, instance_type: str | None, cpu: float, gib: float
) -> Callable[[PriceBook], Cost]:
    return lambda book: compute_cost(
        book, provider=provider, instance_type=instance_type, cpu_cores=cpu, memory_gib=gib
    )


def plane(provider: str, tier: str | None) -> Callable[[PriceBook], Cost]:
    return lambda book: control_plane_cost(book, provider=provider, tier=tier)


@dataclass(frozen=True)
class Case:
    cost: Callable[[PriceBook], Cost]
    default: float  # monthly, default book
    overrides: dict[str, float]  # the prices this finding uses, overridden
    overridden: float  # monthly, with them
    basis: str  # a fragment the overridden basis shows


EBS = "ebs.csi.aws.com"
PD = "pd.csi.storage.gke.io"
AZ = "disk.csi.azure.com"
REGIONAL = {"replication-type": "regional-pd"}
NLB = {"service.beta.kubernetes.io/aws-load-balancer-type": "nlb"}
# m5.large $0.096/h split by the m5 rates 0.04/vCPU and 0.0054/GiB: 2 × 0.04 : 8 × 0.0054
M5_CPU_SHARE = 0.08 / (0.08 + 8 * 0.0054)

CASES: dict[str, Case] = {
    # --- AWS EBS, 100 GiB
    "aws gp2": Case(disk(EBS, 100, type="gp2"), 10.0, {"storage.aws.gp2": 0.12}, 12.0, "$0.12/GB"),
    "aws gp3": Case(disk(EBS, 100, type="gp3"), 8.0, {"storage.aws.gp3": 0.06}, 6.0, "$0.06/GB"),
    "aws io1": Case(disk(EBS, 100, type="io1"), 12.5, {"storage.aws.io1": 0.15}, 15.0, "$0.15/"),
    "aws io2": Case(disk(EBS, 100, type="io2"), 12.5, {"storage.aws.io2": 0.2}, 20.0, "$0.20/"),
    "aws st1": Case(disk(EBS, 100, type="st1"), 4.5, {"storage.aws.st1": 0.05}, 5.0, "$0.05/"),
    "aws sc1": Case(disk(EBS, 100, type="sc1"), 1.5, {"storage.aws.sc1": 0.02}, 2.0, "$0.02/"),
    "aws in-tree default gp2": Case(disk("kubernetes.io/aws-ebs", 50), 5.0,
                                    {"storage.aws.gp2": 0.11}, 5.5, "50 GiB gp2 × $0.11"),
    "aws gp2 class gone": Case(gone_class_disk("aws", "gp2", 100, in_tree_aws=True), 10.0,
                               {"storage.aws.gp2": 0.09}, 9.0, "gp2 × $0.09"),
    # --- GCP persistent disk, 100 GiB
    "gcp pd-standard": Case(disk(PD, 100, type="pd-standard"), 4.0,
                            {"storage.gcp.pd-standard": 0.05}, 5.0, "$0.05/"),
    "gcp pd-balanced": Case(disk(PD, 100, type="pd-balanced"), 10.0,
                            {"storage.gcp.pd-balanced": 0.12}, 12.0, "$0.12/"),
    "gcp pd-ssd": Case(disk(PD, 100, type="pd-ssd"), 17.0, {"storage.gcp.pd-ssd": 0.2}, 20.0,
                       "$0.20/"),
    "gcp regional pd-balanced": Case(disk(PD, 100, type="pd-balanced", **REGIONAL), 20.0,
                                     {"storage.gcp.pd-balanced": 0.12}, 24.0, "× 2 (regional"),
    "gcp regional pd-standard in-tree": Case(disk("kubernetes.io/gce-pd", 100, **REGIONAL), 8.0,
                                             {"storage.gcp.pd-standard": 0.05}, 10.0, "× 2"),
    "gcp premium-rwo class gone": Case(gone_class_disk("gcp", "premium-rwo", 10, driver=PD), 1.7,
                                       {"storage.gcp.pd-ssd": 0.3}, 3.0, "pd-ssd × $0.30"),
    # --- Azure managed disks: billed per tier, rounded up
    "azure premium 200 GiB bills as P15": Case(disk(AZ, 200, skuName="Premium_LRS"), 38.02,
                                               {"azure_disk.premium.P15": 40.0}, 40.0,
                                               "→ P15 (256 GiB) $40.00"),
    "azure premium 129 GiB bills as P15": Case(disk(AZ, 129, skuName="Premium_LRS"), 38.02,
                                               {"azure_disk.premium.P15": 40.0}, 40.0, "→ P15"),
    "azure premium exactly 128 GiB is P10": Case(disk(AZ, 128, skuName="Premium_LRS"), 19.71,
                                                 {"azure_disk.premium.P10": 21.0}, 21.0, "→ P10"),
    "azure premium 512 GiB is P20": Case(disk(AZ, 512, skuName="Premium_LRS"), 73.22,
                                         {"azure_disk.premium.P20": 70.0}, 70.0, "→ P20"),
    "azure premium 1 TiB is P30": Case(disk(AZ, 1024, skuName="Premium_LRS"), 135.17,
                                       {"azure_disk.premium.P30": 130.0}, 130.0, "→ P30"),
    "azure standard ssd 300 GiB is E20": Case(disk(AZ, 300, skuName="StandardSSD_LRS"), 38.4,
                                              {"azure_disk.standard_ssd.E20": 39.0}, 39.0,
                                              "→ E20"),
    "azure standard ssd default class 100 GiB is E10": Case(disk(AZ, 100), 9.6,
                                                            {"azure_disk.standard_ssd.E10": 9.0},
                                                            9.0, "→ E10"),
    "azure standard hdd 130 GiB is S15": Case(disk(AZ, 130, skuName="Standard_LRS"), 11.33,
                                              {"azure_disk.standard_hdd.S15": 12.0}, 12.0,
                                              "→ S15"),
    "azure premium beyond P30 pro rata": Case(disk(AZ, 2048, skuName="Premium_LRS"), 270.34,
                                              {"azure_disk.premium.P30": 140.0}, 280.0,
                                              "2048/1024 × $140.00"),
    "azure premium below P10 pro rata": Case(disk(AZ, 32, skuName="Premium_LRS"), 19.71 / 4,
                                             {"azure_disk.premium.P10": 20.0}, 5.0, "32/128"),
    "azure premium zrs at the lrs tier": Case(disk(AZ, 200, skuName="Premium_ZRS"), 38.02,
                                              {"azure_disk.premium.P15": 40.0}, 40.0, "ZRS"),
    # --- anything else: 0.10 per GB-month, assumed
    "unknown storage (local-path)": Case(disk("rancher.io/local-path", 100), 10.0,
                                         {"storage.unknown": 0.2}, 20.0,
                                         "× $0.20/GB-month, assumed"),
    "unpriced azure files": Case(disk("file.csi.azure.com", 100), 10.0, {"storage.unknown": 0.05},
                                 5.0, "Azure Files"),
    "unknown ebs type": Case(disk("kubernetes.io/aws-ebs", 10, type="standard"), 1.0,
                             {"storage.unknown": 0.07}, 0.7, "assumed"),
    # --- load balancers, per hour × 730
    "aws classic lb": Case(lb("aws"), 0.025 * HOURS, {"lb.aws.classic": 0.03}, 0.03 * HOURS,
                           "AWS Classic LB × $0.03/h"),
    "aws nlb by annotation": Case(lb("aws", annotations=NLB), 0.0225 * HOURS,
                                  {"lb.aws.nlb": 0.02}, 0.02 * HOURS, "AWS NLB × $0.02/h"),
    "aws nlb by class": Case(lb("eks", lb_class="service.k8s.aws/nlb"), 0.0225 * HOURS,
                             {"lb.aws.nlb": 0.025}, 0.025 * HOURS, "AWS NLB"),
    "gcp first forwarding rule": Case(lb("gcp", 0), 0.025 * HOURS,
                                      {"lb.gcp.forwarding_rule_first5": 0.03}, 0.03 * HOURS,
                                      "#1 (first 5) × $0.03/h"),
    "gcp fifth forwarding rule": Case(lb("gke", 4), 0.025 * HOURS,
                                      {"lb.gcp.forwarding_rule_first5": 0.02}, 0.02 * HOURS, "#5"),
    "gcp sixth forwarding rule": Case(lb("gcp", 5), 0.01 * HOURS,
                                      {"lb.gcp.forwarding_rule_extra": 0.015}, 0.015 * HOURS,
                                      "#6 (beyond the first 5) × $0.015/h"),
    "azure first lb rule": Case(lb("azure", 0), 0.025 * HOURS, {"lb.azure.rule_first5": 0.02},
                                0.02 * HOURS, "Azure Standard LB rule #1"),
    "azure seventh lb rule": Case(lb("aks", 6), 0.01 * HOURS, {"lb.azure.rule_extra": 0.005},
                                  0.005 * HOURS, "#7 (beyond the first 5) × $0.005/h"),
    "unknown provider lb": Case(lb(None), 0.025 * HOURS, {"lb.unknown": 0.02}, 0.02 * HOURS,
                                "unknown provider × $0.02/h"),
    # --- idle requests: compute held by pods doing nothing
    "aws known instance type": Case(idle("aws", "m5.large", 1, 4), 0.048 * HOURS,
                                    {"instance.aws.m5.large": 0.12}, 0.06 * HOURS,
                                    "m5.large $0.12/h"),
    "aws known type, cpu only, family rates overridden": Case(
        idle("aws", "m5.large", 2, 0), 0.096 * M5_CPU_SHARE * HOURS,
        {"compute.aws.vcpu_hour": 0.08}, 0.096 * (0.16 / (0.16 + 0.0432)) * HOURS, "split by m5"),
    "aws unlisted size of the family": Case(idle("aws", "m5.24xlarge", 1, 2),
                                            (0.04 + 2 * 0.0054) * HOURS,
                                            {"compute.aws.vcpu_hour": 0.05,
                                             "compute.aws.gib_hour": 0.006},
                                            (0.05 + 0.012) * HOURS, "AWS m5 rates"),
    "aws unknown instance type": Case(idle("aws", "c6i.large", 1, 2), (0.04 + 2 * 0.0054) * HOURS,
                                      {"compute.aws.vcpu_hour": 0.05,
                                       "compute.aws.gib_hour": 0.006},
                                      (0.05 + 0.012) * HOURS, "c6i.large not in the price book"),
    "gcp known instance type": Case(idle("gcp", "n2-standard-4", 2, 8), 0.097118 * HOURS,
                                    {"instance.gcp.n2-standard-4": 0.2}, 0.1 * HOURS,
                                    "n2-standard-4 $0.20/h"),
    "gcp no instance type": Case(idle("gcp", None, 1, 1), (0.031611 + 0.004237) * HOURS,
                                 {"compute.gcp.vcpu_hour": 0.04, "compute.gcp.gib_hour": 0.005},
                                 0.045 * HOURS, "GCP n2 rates"),
    "azure known instance type": Case(idle("azure", "Standard_D2s_v5", 2, 8), 0.096 * HOURS,
                                      {"instance.azure.Standard_D2s_v5": 0.1}, 0.1 * HOURS,
                                      "Standard_D2s_v5 $0.10/h"),
    "azure unknown instance type": Case(idle("azure", "Standard_E4s_v5", 1, 1),
                                        (0.04 + 0.0054) * HOURS,
                                        {"compute.azure.vcpu_hour": 0.05,
                                         "compute.azure.gib_hour": 0.01},
                                        0.06 * HOURS, "not in the price book"),
    "unknown provider compute": Case(idle(None, None, 1, 1), (0.031611 + 0.004237) * HOURS,
                                     {"compute.gcp.vcpu_hour": 0.03, "compute.gcp.gib_hour": 0.004},
                                     0.034 * HOURS, "GCP N2 rates assumed"),
    # --- managed control planes, per cluster-hour × 730
    "eks standard": Case(plane("aws", None), 73.0, {"control_plane.eks.standard": 0.2}, 146.0,
                         "EKS standard control plane × $0.20/h"),
    "eks extended support": Case(plane("eks", "extended-support"), 438.0,
                                 {"control_plane.eks.extended": 0.5}, 365.0, "EKS extended"),
    "gke": Case(plane("gcp", None), 73.0, {"control_plane.gke.standard": 0.12}, 87.6,
                "GKE standard control plane × $0.12/h"),
    "aks free": Case(plane("azure", None), 0.0, {"control_plane.aks.free": 0.01}, 7.3,
                     "AKS free control plane × $0.01/h"),
    "aks standard": Case(plane("aks", "Standard"), 73.0, {"control_plane.aks.standard": 0.09},
                         65.7, "AKS standard"),
    "aks premium": Case(plane("azure", "premium"), 438.0, {"control_plane.aks.premium": 0.55},
                        401.5, "AKS premium"),
}  # fmt: skip


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return load_default_price_book()


@pytest.mark.parametrize("name", list(CASES))
def test_default_price(book: PriceBook, name: str) -> None:
    case = CASES[name]
    assert case.cost(book).monthly_usd == pytest.approx(case.default, abs=1e-9)


@pytest.mark.parametrize("name", list(CASES))
def test_overriding_the_prices_it_uses_changes_it(book: PriceBook, name: str) -> None:
    case = CASES[name]
    custom = book.with_overrides(case.overrides)
    cost = case.cost(custom)
    assert cost.monthly_usd == pytest.approx(case.overridden, abs=1e-9)
    assert case.basis in cost.basis
    assert case.cost(book).monthly_usd == pytest.approx(case.default, abs=1e-9)  # book unchanged


@pytest.mark.parametrize("name", list(CASES))
def test_overriding_other_prices_leaves_it_alone(book: PriceBook, name: str) -> None:
    case = CASES[name]
    others = {
        e.id: e.value * 3 + 1
        for e in book.entries()
        if e.id not in case.overrides and e.id != "hours_per_month"
        and not _feeds(name, e.id)
    }  # fmt: skip
    assert case.cost(book.with_overrides(others)).monthly_usd == pytest.approx(case.default)


def _feeds(name: str, price_id: str) -> bool:
    """Prices a case depends on besides the ones it overrides: a known instance type is split
    by its family's rates; the GKE basis names its zonal credit."""
    if "known instance type" in name or "family rates" in name:
        return price_id.startswith(("compute.", "instance."))
    return False


def built_by(case: Case) -> str:
    """Which builder made the case: disk, gone_class_disk, lb, idle or plane."""
    return case.cost.__qualname__.split(".", 1)[0]


def test_hours_per_month_scales_every_hourly_price_and_no_disk(book: PriceBook) -> None:
    month_of_720 = book.with_overrides({"hours_per_month": 720})
    for name, case in CASES.items():
        monthly = case.cost(month_of_720).monthly_usd
        if built_by(case) in {"disk", "gone_class_disk"}:
            assert monthly == pytest.approx(case.default), name
        else:
            assert built_by(case) in {"lb", "idle", "plane"}
            assert monthly == pytest.approx(case.default * 720 / HOURS), name
    assert "× 720 h" in CASES["aws classic lb"].cost(month_of_720).basis


def test_gke_credit_override_shows_in_the_basis(book: PriceBook) -> None:
    cost = plane("gcp", None)(book.with_overrides({"control_plane.gke.zonal_credit": 70}))
    assert "a $70.00/month credit covers one zonal" in cost.basis
    assert cost.monthly_usd == pytest.approx(73.0)  # the credit is named, never applied


def test_an_override_is_not_assumed_unless_the_finding_is(book: PriceBook) -> None:
    custom = book.with_overrides({"storage.unknown": 0.2, "storage.aws.gp3": 0.05})
    assert CASES["unknown storage (local-path)"].cost(custom).assumed
    assert not CASES["aws gp3"].cost(custom).assumed
    assert custom.entry("storage.aws.gp3").source == OVERRIDE_SOURCE


# --- the book as stored: refreshed defaults and one organisation's overrides -----------------


def test_costs_follow_the_stored_book_per_organisation(app: FastAPI, db: Session) -> None:
    user_a, org_a = make_user(app, "a@example.test", org="Org A")
    _, org_b = make_user(app, "b@example.test", org="Org B")
    source = "https://prices.azure.com/api/retail/prices"
    db.add(PriceDefault(price_id="azure_disk.premium.P15", value=Decimal("39.5"), source=source,
                        as_of="2026-11-20"))  # fmt: skip
    db.commit()
    store.set_override(db, org_a, "azure_disk.premium.P15", "36", user_a)
    store.set_override(db, org_a, "lb.gcp.forwarding_rule_extra", "0.008", user_a)
    store.set_override(db, org_a, "control_plane.aks.premium", "0.5", user_a)
    db.commit()
    book_a = store.effective_price_book(db, org_a)
    book_b = store.effective_price_book(db, org_b)
    azure_200 = CASES["azure premium 200 GiB bills as P15"].cost
    assert azure_200(book_a).monthly_usd == 36.0
    assert azure_200(book_b).monthly_usd == 39.5
    assert "$39.50/month" in azure_200(book_b).basis
    sixth_rule = CASES["gcp sixth forwarding rule"].cost
    assert sixth_rule(book_a).monthly_usd == pytest.approx(0.008 * HOURS)
    assert sixth_rule(book_b).monthly_usd == pytest.approx(0.01 * HOURS)
    premium = CASES["aks premium"].cost
    assert premium(book_a).monthly_usd == pytest.approx(365.0)
    assert premium(book_b).monthly_usd == pytest.approx(438.0)
