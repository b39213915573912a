"""Google Cloud Billing Catalog API: Compute Engine's persistent disks, N2 vCPU and RAM, and
network load-balancing forwarding rules, us-central1, on demand.

``GET {base}/v1/services/6F81-5844-456A/skus`` lists every Compute Engine SKU, paginated by
``pageToken``; a price is ``pricingInfo[0].pricingExpression.tieredRates[]`` (``units`` whole
dollars + ``nanos`` billionths). The API needs an API key; it travels in the
``X-Goog-Api-Key`` header, so it never appears in a URL, a log line or an error message. The
book's n2-standard sizes are recomputed from the N2 vCPU and RAM rates, as the embedded ones are.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import httpx

from app.pricing.book import PriceBook
from app.pricing.sources.common import (
    MAX_PAGES,
    Candidates,
    FoundPrice,
    MalformedResponse,
    SourceResult,
    decimal_of,
    expect,
    get_json,
)

COMPUTE_ENGINE = "6F81-5844-456A"
REGION = "us-central1"
PAGE_SIZE = "5000"
_NANOS = Decimal(1_000_000_000)
# (description pattern, usage unit) -> price id. Anchored: "Regional SSD backed PD Capacity",
# "N2 Custom Instance Core" and commitment SKUs are other prices.
_RULES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"Storage PD Capacity(?: in .+)?"), "GiBy.mo", "storage.gcp.pd-standard"),
    (re.compile(r"Balanced PD Capacity(?: in .+)?"), "GiBy.mo", "storage.gcp.pd-balanced"),
    (re.compile(r"SSD backed PD Capacity(?: in .+)?"), "GiBy.mo", "storage.gcp.pd-ssd"),
    (re.compile(r"N2 Instance Core running in .+"), "h", "compute.gcp.vcpu_hour"),
    (re.compile(r"N2 Instance Ram running in .+"), "GiBy.h", "compute.gcp.gib_hour"),
    (
        re.compile(r"(?:Network Load Balancing: )?Forwarding Rule Minimum Service Charge.*"),
        "h",
        "lb.gcp.forwarding_rule_first5",
    ),
    (
        re.compile(r"(?:Network Load Balancing: )?Forwarding Rule Additional Service Charge.*"),
        "h",
        "lb.gcp.forwarding_rule_extra",
    ),
)


def wanted_ids(book: PriceBook) -> list[str]:
    """The book's ids this reader looks up (n2 sizes are derived from the N2 rates)."""
    ids = [price_id for _, _, price_id in _RULES if book.get(price_id)]
    return ids + [e.id for e in _n2_sizes(book)]


def fetch(http: httpx.Client, base_url: str, api_key: str, book: PriceBook) -> SourceResult:
    """Every GCP price of the book the Compute Engine catalogue lists."""
    base = base_url.rstrip("/")
    source = f"{base}/v1/services/{COMPUTE_ENGINE}/skus"
    result = SourceResult()
    candidates = Candidates()
    headers = {"X-Goog-Api-Key": api_key}
    token = ""
    for page in range(MAX_PAGES):
        what = f"GCP Cloud Billing Catalog (page {page + 1})"
        params = {"pageSize": PAGE_SIZE, "currencyCode": "USD"}
        if token:
            params["pageToken"] = token
        data = get_json(http, source, what=what, params=params, headers=headers, secret=api_key)
        expect(data, dict, what)
        for sku in expect(data.get("skus", []), list, f"{what} skus"):
            _match(expect(sku, dict, f"{what} sku"), book, candidates)
        token = data.get("nextPageToken") or ""
        expect(token, str, f"{what} nextPageToken")
        if not token:
            break
    else:
        raise MalformedResponse(f"GCP Cloud Billing Catalog: more than {MAX_PAGES} pages")
    result.found = candidates.resolve(source, result.notes)
    result.found.update(_derived_sizes(book, result.found, source))
    return result


def _match(sku: dict[str, Any], book: PriceBook, candidates: Candidates) -> None:
    description = sku.get("description")
    if not isinstance(description, str):
        return
    for pattern, unit, price_id in _RULES:
        if not pattern.fullmatch(description) or book.get(price_id) is None:
            continue
        category = sku.get("category")
        usage = category.get("usageType") if isinstance(category, dict) else None
        regions = sku.get("serviceRegions")
        if usage != "OnDemand" or not isinstance(regions, list) or REGION not in regions:
            return
        value, sku_unit, effective = _price(sku, description)
        if sku_unit != unit:
            return  # another way of billing it (per GB-hour, per request): not this price
        candidates.add(price_id, value, f"{description} ({sku.get('skuId', '?')})", rank=effective)
        return


def _price(sku: dict[str, Any], description: str) -> tuple[Decimal, str, str]:
    """(USD per usage unit, the usage unit, effective time) of a SKU's current pricing.

    A tiered SKU's list price is its first non-zero rate (a free allowance comes first)."""
    what = f"GCP SKU {description!r}"
    infos = expect(sku.get("pricingInfo"), list, f"{what} pricingInfo")
    if not infos:
        raise MalformedResponse(f"{what}: no pricingInfo")
    info = expect(infos[0], dict, f"{what} pricingInfo[0]")
    expression = expect(info.get("pricingExpression"), dict, f"{what} pricingExpression")
    unit = expect(expression.get("usageUnit"), str, f"{what} usageUnit")
    rates = expect(expression.get("tieredRates"), list, f"{what} tieredRates")
    if not rates:
        raise MalformedResponse(f"{what}: no tieredRates")
    values = []
    for rate in rates:
        price = expect(
            expect(rate, dict, f"{what} rate").get("unitPrice"), dict, f"{what} unitPrice"
        )
        if price.get("currencyCode", "USD") != "USD":
            raise MalformedResponse(f"{what}: priced in {price.get('currencyCode')!r}, not USD")
        units = decimal_of(price.get("units", "0"), f"{what} units")
        nanos = decimal_of(price.get("nanos", 0), f"{what} nanos")
        values.append(units + nanos / _NANOS)
    value = next((v for v in values if v > 0), values[0])
    effective = info.get("effectiveTime")
    return value, unit, effective if isinstance(effective, str) else ""


def _n2_sizes(book: PriceBook) -> list[Any]:
    return [
        e for e in book.entries() if e.id.startswith("instance.gcp.n2-") and e.vcpu and e.memory_gib
    ]


def _derived_sizes(
    book: PriceBook, found: dict[str, FoundPrice], source: str
) -> dict[str, FoundPrice]:
    core, ram = found.get("compute.gcp.vcpu_hour"), found.get("compute.gcp.gib_hour")
    if core is None or ram is None:
        return {}
    derived = {}
    for entry in _n2_sizes(book):
        vcpu = Decimal(str(entry.vcpu))
        memory = Decimal(str(entry.memory_gib))
        value = vcpu * core.value + memory * ram.value
        detail = f"{vcpu} × N2 vCPU + {memory} GiB × N2 RAM"
        derived[entry.id] = FoundPrice(value=value, source=source, detail=detail)
    return derived
