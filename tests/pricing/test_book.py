"""The embedded price book, overrides, and Kubernetes quantity parsing."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from importlib import resources

import pytest

from app.pricing.book import OVERRIDE_SOURCE, PriceBook, load_default_price_book
from app.pricing.quantity import GIB, bytes_to_gib, parse_bytes, parse_cores, parse_quantity


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return load_default_price_book()


# --- the embedded file --------------------------------------------------------------------


def test_every_entry_names_its_source_and_date(book: PriceBook) -> None:
    for entry in book.entries():
        assert entry.source, entry.id
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entry.as_of), entry.id
        assert entry.unit, entry.id
        assert entry.description, entry.id
        assert entry.value >= 0, entry.id
        if not entry.assumed:
            assert entry.source.startswith("https://"), entry.id


def test_embedded_file_is_package_data_with_unique_ids() -> None:
    text = resources.files("app.pricing").joinpath("default_prices.json").read_text("utf-8")
    ids = [e["id"] for e in json.loads(text)["entries"]]
    assert len(ids) == len(set(ids))


def test_loader_is_cached(book: PriceBook) -> None:
    assert load_default_price_book() is book


@pytest.mark.parametrize(
    ("price_id", "value"),
    [
        ("hours_per_month", 730),
        ("storage.aws.gp3", 0.08),
        ("storage.aws.gp2", 0.10),
        ("storage.aws.io1", 0.125),
        ("storage.aws.io2", 0.125),
        ("storage.aws.st1", 0.045),
        ("storage.aws.sc1", 0.015),
        ("storage.gcp.pd-standard", 0.04),
        ("storage.gcp.pd-balanced", 0.10),
        ("storage.gcp.pd-ssd", 0.17),
        ("storage.unknown", 0.10),
        ("azure_disk.premium.P10", 19.71),
        ("azure_disk.premium.P15", 38.02),
        ("azure_disk.premium.P20", 73.22),
        ("azure_disk.premium.P30", 135.17),
        ("azure_disk.standard_ssd.E10", 9.60),
        ("azure_disk.standard_ssd.E30", 76.80),
        ("azure_disk.standard_hdd.S10", 5.89),
        ("azure_disk.standard_hdd.S30", 40.96),
        ("lb.aws.nlb", 0.0225),
        ("lb.aws.classic", 0.025),
        ("lb.gcp.forwarding_rule_first5", 0.025),
        ("lb.gcp.forwarding_rule_extra", 0.010),
        ("lb.azure.rule_first5", 0.025),
        ("lb.azure.rule_extra", 0.010),
        ("lb.unknown", 0.025),
        ("ip.aws.public_ipv4", 0.005),
        ("ip.gcp.public_ipv4", 0.010),
        ("control_plane.eks.standard", 0.10),
        ("control_plane.eks.extended", 0.60),
        ("control_plane.gke.standard", 0.10),
        ("control_plane.gke.zonal_credit", 74.40),
        ("control_plane.aks.free", 0.0),
        ("control_plane.aks.standard", 0.10),
        ("control_plane.aks.premium", 0.60),
        ("compute.gcp.vcpu_hour", 0.031611),
        ("compute.gcp.gib_hour", 0.004237),
        ("compute.aws.vcpu_hour", 0.040),
        ("compute.aws.gib_hour", 0.0054),
        ("compute.azure.vcpu_hour", 0.040),
        ("compute.azure.gib_hour", 0.0054),
        ("instance.aws.m5.large", 0.096),
        ("instance.azure.Standard_D2s_v5", 0.096),
    ],
)
def test_pricing_md_figures(book: PriceBook, price_id: str, value: float) -> None:
    assert book.value(price_id) == pytest.approx(value)


def test_n2_standard_2_is_computed_from_the_n2_rates(book: PriceBook) -> None:
    entry = book.entry("instance.gcp.n2-standard-2")
    assert (entry.vcpu, entry.memory_gib) == (2, 8)
    assert entry.value == pytest.approx(2 * 0.031611 + 8 * 0.004237)


def test_fallbacks_are_marked_assumed(book: PriceBook) -> None:
    assert book.unknown_storage.assumed
    assert book.entry("lb.unknown").assumed
    assert not book.entry("storage.aws.gp3").assumed


def test_typed_lookups(book: PriceBook) -> None:
    assert book.hours_per_month == 730
    gp3 = book.block_storage("aws", "gp3")
    assert gp3 is not None
    assert gp3.value == 0.08
    assert book.block_storage("aws", "magnetic") is None
    assert [t.size_gib for t in book.azure_disk_tiers("premium")] == [128, 256, 512, 1024]
    assert [t.id.rsplit(".", 1)[1] for t in book.azure_disk_tiers("standard_hdd")] == [
        "S10", "S15", "S20", "S30",
    ]  # fmt: skip
    assert book.azure_disk_tiers("ultra") == ()
    rates = book.compute_rates("aws")
    assert rates is not None
    assert rates[0].family == "m5"
    assert book.compute_rates("onprem") is None
    d2 = book.instance("azure", "standard_d2s_v5")
    assert d2 is not None
    assert d2.id == "instance.azure.Standard_D2s_v5"
    assert book.instance("aws", "c7g.large") is None
    eks = book.control_plane("eks", "extended")
    assert eks is not None
    assert eks.value == 0.60
    assert book.get("nope") is None
    with pytest.raises(KeyError, match="nope"):
        book.entry("nope")


# --- overrides ----------------------------------------------------------------------------


def test_override_replaces_value_and_marks_it(book: PriceBook) -> None:
    custom = book.with_overrides({"storage.aws.gp3": 0.05, "lb.aws.nlb": 0.02})
    gp3 = custom.entry("storage.aws.gp3")
    assert gp3.value == 0.05
    assert gp3.overridden
    assert gp3.source == OVERRIDE_SOURCE
    assert custom.value("lb.aws.nlb") == 0.02
    # the original book is untouched and the rest of the entries carried over
    assert book.value("storage.aws.gp3") == 0.08
    assert not book.entry("storage.aws.gp3").overridden
    assert [e.id for e in custom.entries()] == [e.id for e in book.entries()]
    assert custom.entry("storage.gcp.pd-ssd") == book.entry("storage.gcp.pd-ssd")


def test_override_ids_from_the_brief_are_all_accepted(book: PriceBook) -> None:
    ids = [
        "storage.aws.gp3",
        "lb.aws.nlb",
        "compute.gcp.vcpu_hour",
        "azure_disk.premium.P10",
        "control_plane.eks.standard",
        "hours_per_month",
    ]
    custom = book.with_overrides(dict.fromkeys(ids, 1.0))
    assert all(custom.value(i) == 1.0 for i in ids)


def test_unknown_override_id_is_refused_by_name(book: PriceBook) -> None:
    with pytest.raises(ValueError, match=r"storage\.aws\.gp4"):
        book.with_overrides({"storage.aws.gp3": 0.05, "storage.aws.gp4": 0.05})


@pytest.mark.parametrize("bad", [-0.01, float("nan"), float("inf")])
def test_override_value_must_be_finite_and_non_negative(book: PriceBook, bad: float) -> None:
    with pytest.raises(ValueError, match=r"storage\.aws\.gp3"):
        book.with_overrides({"storage.aws.gp3": bad})


def test_override_value_must_be_a_number(book: PriceBook) -> None:
    with pytest.raises(ValueError, match="number"):
        book.with_overrides({"storage.aws.gp3": "0.05"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="number"):
        book.with_overrides({"storage.aws.gp3": True})


def test_duplicate_ids_are_refused(book: PriceBook) -> None:
    entry = book.entry("storage.aws.gp3")
    with pytest.raises(ValueError, match="duplicate"):
        PriceBook((entry, entry))


# --- quantities ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100Gi", Decimal(100 * GIB)),
        ("1.5Ti", Decimal(3 * 2**39)),
        ("500M", Decimal(500_000_000)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("1e-3", Decimal("0.001")),
        ("250m", Decimal("0.25")),
        ("2", Decimal(2)),
        ("128974848", Decimal(128974848)),
        ("129e6", Decimal(129_000_000)),
        ("123Mi", Decimal(128974848)),
        ("1Ki", Decimal(1024)),
        ("1k", Decimal(1000)),
        ("1E", Decimal(10**18)),
        ("1Ei", Decimal(2**60)),
        ("0.5", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("1.", Decimal(1)),
        ("+2", Decimal(2)),
        ("-1", Decimal(-1)),
        ("100n", Decimal("1E-7")),
        ("1u", Decimal("0.000001")),
        ("0", Decimal(0)),
    ],
)
def test_parse_quantity_is_exact(text: str, expected: Decimal) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "Gi", "abc", "1 Gi", " 1", "1 ", "1.5.5", "1e", "1e+", "1gi", "1ki", "1KB", "0x10",
     "++1", "nan", "inf", "1Gii", "1,5", "--1", "1e3Gi"],
)  # fmt: skip
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="quantity"):
        parse_quantity(text)


def test_non_strings() -> None:
    assert parse_quantity(2) == 2
    assert parse_quantity(0.5) == Decimal("0.5")
    for bad in (True, float("nan"), None):
        with pytest.raises(ValueError, match="quantity"):
            parse_quantity(bad)  # type: ignore[arg-type]


def test_bytes_and_cores() -> None:
    assert parse_bytes("100Gi") == 107_374_182_400
    assert parse_bytes("1.5") == 2  # fractional bytes round up, as the API server does
    assert parse_bytes("0.5Ki") == 512
    assert parse_cores("250m") == 0.25
    assert parse_cores("2") == 2.0
    assert parse_cores("1500m") == 1.5
    assert bytes_to_gib(parse_bytes("512Mi")) == 0.5
    assert bytes_to_gib(parse_bytes("1.5Ti")) == 1536.0
