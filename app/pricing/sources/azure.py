"""Azure Retail Prices API (no authentication): managed-disk tiers, Standard Load Balancer
rules, AKS control-plane tiers and the book's VM sizes, East US, pay-as-you-go.

``GET {base}/api/retail/prices?$filter=…`` answers ``{"Items": [...], "NextPageLink": …}``, 100
items a page; filter values are case-sensitive. Only ``priceType eq 'Consumption'`` (no
reservations or dev/test); Windows, Spot and Low Priority meters are dropped. When one id
matches several meters, the newest ``effectiveStartDate`` wins; different prices on the same
date leave the id as it is.
"""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.pricing.book import AZURE_DISK_FAMILIES, PriceBook
from app.pricing.sources.common import (
    MAX_PAGES,
    Candidates,
    MalformedResponse,
    SourceResult,
    decimal_of,
    expect,
    get_json,
    same_origin,
)

REGION = "eastus"
PATH = "/api/retail/prices"
_DISK_PRODUCTS = {
    "Premium SSD Managed Disks": "premium",
    "Standard SSD Managed Disks": "standard_ssd",
    "Standard HDD Managed Disks": "standard_hdd",
}
_LB_METERS = {
    "Standard Included LB Rules and Outbound Rules": "lb.azure.rule_first5",
    "Standard Overage LB Rules and Outbound Rules": "lb.azure.rule_extra",
}
_AKS_TIERS = {"Standard": "control_plane.aks.standard", "Premium": "control_plane.aks.premium"}


def _filter(*clauses: str) -> str:
    base = (f"armRegionName eq '{REGION}'", "priceType eq 'Consumption'")
    return " and ".join((*clauses, *base))


def _any_of(field: str, values: list[str]) -> str:
    return "(" + " or ".join(f"{field} eq '{v}'" for v in values) + ")"


def wanted_ids(book: PriceBook) -> list[str]:
    """The book's ids this reader looks up."""
    ids = [e.id for f in AZURE_DISK_FAMILIES for e in book.azure_disk_tiers(f)]
    ids += [i for i in (*_LB_METERS.values(), *_AKS_TIERS.values()) if book.get(i)]
    ids += [e.id for e in book.entries() if e.id.startswith("instance.azure.")]
    return ids


def fetch(http: httpx.Client, base_url: str, book: PriceBook) -> SourceResult:
    """Every Azure price of the book the Retail Prices API lists."""
    base = base_url.rstrip("/")
    source = base + PATH
    result = SourceResult()
    candidates = Candidates()
    disk_tiers = {
        (family, e.id.rsplit(".", 1)[-1]): e.id
        for family in AZURE_DISK_FAMILIES
        for e in book.azure_disk_tiers(family)
    }
    disks = _items(
        http,
        base,
        _filter("serviceName eq 'Storage'", _any_of("productName", list(_DISK_PRODUCTS))),
        "managed disks",
    )
    for item in disks:
        _disk(item, disk_tiers, candidates)
    for item in _items(http, base, _filter("serviceName eq 'Load Balancer'"), "load balancer"):
        price_id = _LB_METERS.get(_text(item, "meterName"))
        if price_id and _text(item, "unitOfMeasure") == "1 Hour" and book.get(price_id):
            _add(candidates, price_id, item)
    aks = _items(http, base, _filter("serviceName eq 'Azure Kubernetes Service'"), "AKS")
    for item in aks:
        price_id = _AKS_TIERS.get(_text(item, "skuName"))
        meter = _text(item, "meterName").lower()
        hourly = _text(item, "unitOfMeasure") == "1 Hour"
        if price_id and hourly and "vcpu" not in meter and "node" not in meter:
            _add(candidates, price_id, item)
    sizes = {
        e.id.removeprefix("instance.azure."): e.id
        for e in book.entries()
        if e.id.startswith("instance.azure.")
    }
    if sizes:
        vm_filter = _filter("serviceName eq 'Virtual Machines'", _any_of("armSkuName", list(sizes)))
        for item in _items(http, base, vm_filter, "virtual machines"):
            price_id = sizes.get(_text(item, "armSkuName"))
            if price_id and _linux_on_demand(item):
                _add(candidates, price_id, item)
    result.found = candidates.resolve(source, result.notes)
    return result


def _items(http: httpx.Client, base: str, query: str, what: str) -> list[dict[str, Any]]:
    """Every item of a filtered listing, following NextPageLink on the API's own host."""
    url: str | None = base + PATH
    params: dict[str, str] | None = {"$filter": query}
    items: list[dict[str, Any]] = []
    for page in range(MAX_PAGES):
        assert url is not None
        label = f"Azure Retail Prices ({what}, page {page + 1})"
        data = expect(get_json(http, url, what=label, params=params), dict, label)
        batch = expect(data.get("Items"), list, f"{label} Items")
        for item in batch:
            expect(item, dict, f"{label} item")
            currency = item.get("currencyCode")
            if currency != "USD":
                raise MalformedResponse(f"{label}: an item is priced in {currency!r}, not USD")
            if item.get("type", "Consumption") == "Consumption":
                items.append(item)
        link = data.get("NextPageLink")
        if not link:
            return items
        expect(link, str, f"{label} NextPageLink")
        if not same_origin(link, base):
            raise MalformedResponse(f"{label}: NextPageLink leaves {base}")
        url, params = link, None
    raise MalformedResponse(f"Azure Retail Prices ({what}): more than {MAX_PAGES} pages")


def _text(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    return value if isinstance(value, str) else ""


def _add(candidates: Candidates, price_id: str, item: dict[str, Any]) -> None:
    value = decimal_of(item.get("retailPrice"), f"Azure {price_id} retailPrice")
    detail = f"{_text(item, 'productName')} / {_text(item, 'meterName')}"
    candidates.add(price_id, value, detail, rank=_text(item, "effectiveStartDate"))


_TIER = re.compile(r"([PES]\d+) LRS")


def _disk(item: dict[str, Any], tiers: dict[tuple[str, str], str], candidates: Candidates) -> None:
    family = _DISK_PRODUCTS.get(_text(item, "productName"))
    match = _TIER.fullmatch(_text(item, "skuName"))
    if family is None or match is None or _text(item, "unitOfMeasure") != "1/Month":
        return
    tier = match[1]
    # The disk itself, not its transactions, bursting or mount meters.
    if _text(item, "meterName") not in {f"{tier} LRS Disk", f"{tier} Disk"}:
        return
    price_id = tiers.get((family, tier))
    if price_id:
        _add(candidates, price_id, item)


def _linux_on_demand(item: dict[str, Any]) -> bool:
    product, sku = _text(item, "productName"), _text(item, "skuName")
    if "Windows" in product or "Spot" in sku or "Low Priority" in sku:
        return False
    return _text(item, "unitOfMeasure") == "1 Hour"
