"""AWS prices, us-east-1 on demand, from the two Price List APIs, each where it fits.

- EKS control planes and load balancers come from the **bulk offer files**
  (``{base}/offers/v1.0/aws/AmazonEKS/current/us-east-1/index.json``, ``AWSELB``): plain
  unauthenticated JSON of a few hundred kilobytes to a few megabytes, so refreshing needs no AWS
  identity at all.
- EBS volume types and the book's EC2 instance types come from the **Price List Query API**
  (``pricing:GetProducts`` on ``AmazonEC2``, filtered by ``productFamily``/``volumeApiName`` and
  instance attributes). The bulk route is not sensible there: the AmazonEC2 us-east-1 offer file
  is several gigabytes, to read a dozen prices. The Query API is signed, so it uses Leftover's
  own AWS identity (the standard chain) and needs ``pricing:GetProducts``; without credentials,
  or when AWS refuses the call, those prices are skipped with a note and the rest still count.

A product's price is its OnDemand term's price dimension starting at 0, in USD.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import boto3  # type: ignore[import-untyped]
import httpx
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import (  # type: ignore[import-untyped]
    BotoCoreError,
    ClientError,
    NoCredentialsError,
)
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

from app.pricing.book import PriceBook
from app.pricing.sources.common import (
    MAX_PAGES,
    Candidates,
    MalformedResponse,
    SourceResult,
    SourceUnavailable,
    decimal_of,
    expect,
    get_json,
)

REGION = "us-east-1"
QUERY_API = "AWS Price List Query API (pricing:GetProducts, AmazonEC2, us-east-1)"
_REFUSED = frozenset(
    {"AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
     "InvalidClientTokenId", "ExpiredTokenException", "InvalidSignatureException"}
)  # fmt: skip
_HOURS = frozenset({"hrs", "hours", "hour"})
_EKS = {
    re.compile(r"(?:[A-Z0-9]+-)?AmazonEKS-Hours:perCluster"): "control_plane.eks.standard",
    re.compile(r"(?:[A-Z0-9]+-)?AmazonEKS-Hours:extendedSupport"): "control_plane.eks.extended",
}
_LB_USAGE = re.compile(r"(?:[A-Z0-9]+-)?LoadBalancerUsage")
_ELB = {"Load Balancer": "lb.aws.classic", "Load Balancer-Network": "lb.aws.nlb"}
_LINUX_SHARED = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "licenseModel": "No License required",
}


def offer_url(base_url: str, offer: str) -> str:
    return f"{base_url.rstrip('/')}/offers/v1.0/aws/{offer}/current/{REGION}/index.json"


def wanted_ids(book: PriceBook) -> list[str]:
    """The book's ids this reader looks up."""
    fixed = [*_EKS.values(), *_ELB.values()]
    ids = [i for i in fixed if book.get(i)]
    ids += [e.id for e in book.entries() if e.id.startswith("storage.aws.")]
    return ids + [e.id for e in book.entries() if e.id.startswith("instance.aws.")]


def fetch(
    http: httpx.Client,
    base_url: str,
    book: PriceBook,
    *,
    query_endpoint: str | None,
    timeout: float,
    ca_bundle: str | None = None,
) -> SourceResult:
    """Every AWS price of the book: bulk offer files first, then the Query API."""
    result = SourceResult()
    eks, eks_url = Candidates(), offer_url(base_url, "AmazonEKS")
    for product in _offer(http, eks_url, "AWS AmazonEKS offer file"):
        usage = product.attrs.get("usagetype", "")
        for pattern, price_id in _EKS.items():
            if pattern.fullmatch(usage) and product.hourly and book.get(price_id):
                eks.add(price_id, product.value, f"AmazonEKS {usage}")
    elb, elb_url = Candidates(), offer_url(base_url, "AWSELB")
    for product in _offer(http, elb_url, "AWS AWSELB offer file"):
        lb_id = _ELB.get(product.family)
        usage = product.attrs.get("usagetype", "")
        if lb_id and _LB_USAGE.fullmatch(usage) and product.hourly and book.get(lb_id):
            elb.add(lb_id, product.value, f"AWSELB {product.family} {usage}")
    result.found.update(eks.resolve(eks_url, result.notes))
    result.found.update(elb.resolve(elb_url, result.notes))
    _query(book, result, endpoint=query_endpoint, timeout=timeout, ca_bundle=ca_bundle)
    return result


# --- offers: one product's attributes and on-demand price ---------------------------------


@dataclass(frozen=True, slots=True)
class Product:
    family: str
    attrs: dict[str, str]
    value: Decimal
    unit: str

    @property
    def hourly(self) -> bool:
        return self.unit.lower() in _HOURS


def _offer(http: httpx.Client, url: str, what: str) -> Iterator[Product]:
    """The priced products of a bulk offer file (a product without an OnDemand term is
    skipped: it is sold some other way)."""
    data = expect(get_json(http, url, what=what), dict, what)
    products = expect(data.get("products"), dict, f"{what} products")
    terms = expect(expect(data.get("terms"), dict, f"{what} terms").get("OnDemand"), dict,
                   f"{what} OnDemand terms")  # fmt: skip
    for sku, product in products.items():
        expect(product, dict, f"{what} product {sku}")
        on_demand = terms.get(sku)
        if on_demand is None:
            continue
        yield from _priced(product, expect(on_demand, dict, f"{what} terms of {sku}"), what)


def _priced(product: dict[str, Any], on_demand: dict[str, Any], what: str) -> Iterator[Product]:
    attrs = expect(product.get("attributes", {}), dict, f"{what} attributes")
    attrs = {k: v for k, v in attrs.items() if isinstance(v, str)}
    if attrs.get("regionCode", REGION) != REGION:
        return  # a Local Zone or Outpost listed in the region's file
    if attrs.get("locationType", "AWS Region") != "AWS Region":
        return
    family = product.get("productFamily")
    family = family if isinstance(family, str) else ""
    for term in on_demand.values():
        dims = expect(expect(term, dict, f"{what} term").get("priceDimensions"), dict,
                      f"{what} priceDimensions")  # fmt: skip
        for dim in dims.values():
            expect(dim, dict, f"{what} price dimension")
            if str(dim.get("beginRange", "0")) != "0":
                continue
            per_unit = expect(dim.get("pricePerUnit"), dict, f"{what} pricePerUnit")
            if "USD" not in per_unit:
                raise MalformedResponse(f"{what}: a price dimension has no USD price")
            value = decimal_of(per_unit["USD"], f"{what} pricePerUnit.USD")
            unit = dim.get("unit")
            yield Product(family, attrs, value, unit if isinstance(unit, str) else "")


# --- the Query API ----------------------------------------------------------------------------


def _query(
    book: PriceBook,
    result: SourceResult,
    *,
    endpoint: str | None,
    timeout: float,
    ca_bundle: str | None,
) -> None:
    """EBS volume types and instance types through GetProducts, added to ``result``."""
    volumes = {e.id.removeprefix("storage.aws."): e.id for e in book.entries()
               if e.id.startswith("storage.aws.")}  # fmt: skip
    instances = {e.id.removeprefix("instance.aws."): e.id for e in book.entries()
                 if e.id.startswith("instance.aws.")}  # fmt: skip
    wanted = [*volumes.values(), *instances.values()]
    if not wanted:
        return
    candidates = Candidates()
    try:
        products = _client(endpoint, timeout, ca_bundle)
        storage = {"productFamily": "Storage", "regionCode": REGION}
        for product in products(storage, {"volumeApiName": list(volumes)}):
            name = product.attrs.get("volumeApiName", "")
            if name in volumes and product.unit == "GB-Mo":
                candidates.add(
                    volumes[name],
                    product.value,
                    f"EBS {name} ({product.attrs.get('usagetype', '')})",
                )
        compute = {"productFamily": "Compute Instance", "regionCode": REGION, **_LINUX_SHARED}
        if instances:
            for product in products(compute, {"instanceType": list(instances)}):
                kind = product.attrs.get("instanceType", "")
                linux = all(product.attrs.get(k) == v for k, v in _LINUX_SHARED.items())
                if kind in instances and linux and product.hourly:
                    candidates.add(instances[kind], product.value, f"EC2 {kind} Linux on demand")
    except NoCredentialsError:
        reason = "no AWS credentials for the Price List Query API (Leftover's own identity)"
        _skip(result, wanted, reason)
        return
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _REFUSED:
            _skip(result, wanted, f"AWS refused pricing:GetProducts ({code})")
            return
        raise SourceUnavailable(f"{QUERY_API}: {code or 'error'}") from None
    except ResponseParserError:
        raise MalformedResponse(
            f"{QUERY_API}: the response is not what GetProducts returns"
        ) from None
    except BotoCoreError as exc:
        raise SourceUnavailable(f"{QUERY_API}: {type(exc).__name__}") from None
    result.found.update(candidates.resolve(QUERY_API, result.notes))


def _skip(result: SourceResult, ids: list[str], reason: str) -> None:
    result.notes.append(f"{reason}: EBS and instance prices kept as they are")
    for price_id in ids:
        result.skipped[price_id] = reason


Products = Callable[[dict[str, str], dict[str, list[str]]], Iterator[Product]]


def _client(endpoint: str | None, timeout: float, ca_bundle: str | None) -> Products:
    """A GetProducts reader: TERM_MATCH filters plus ANY_OF lists, every page."""
    config = Config(
        retries={"mode": "standard", "max_attempts": 3},
        connect_timeout=timeout,
        read_timeout=timeout,
        user_agent_extra="leftover",
    )
    client = boto3.Session().client(
        "pricing",
        region_name=REGION,
        endpoint_url=endpoint or None,
        config=config,
        verify=ca_bundle or None,
    )

    def products(match: dict[str, str], any_of: dict[str, list[str]]) -> Iterator[Product]:
        filters = [{"Type": "TERM_MATCH", "Field": k, "Value": v} for k, v in match.items()]
        filters += [{"Type": "ANY_OF", "Field": k, "Value": ",".join(v)} for k, v in any_of.items()]
        token: str | None = None
        for page in range(MAX_PAGES):
            what = f"{QUERY_API} page {page + 1}"
            kwargs: dict[str, Any] = {"ServiceCode": "AmazonEC2", "Filters": filters,
                                      "FormatVersion": "aws_v1", "MaxResults": 100}  # fmt: skip
            if token:
                kwargs["NextToken"] = token
            answer = client.get_products(**kwargs)
            for raw in expect(answer.get("PriceList"), list, f"{what} PriceList"):
                yield from _price_list_item(raw, what)
            token = answer.get("NextToken")
            if not token:
                return
        raise MalformedResponse(f"{QUERY_API}: more than {MAX_PAGES} pages")

    return products


def _price_list_item(raw: Any, what: str) -> Iterator[Product]:
    """One GetProducts item: a JSON document (sent as a string) of a product and its terms."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise MalformedResponse(f"{what}: a PriceList item is not JSON") from None
    item = expect(raw, dict, f"{what} item")
    product = expect(item.get("product"), dict, f"{what} product")
    terms = expect(item.get("terms"), dict, f"{what} terms")
    on_demand = expect(terms.get("OnDemand", {}), dict, f"{what} OnDemand")
    yield from _priced(product, on_demand, what)
