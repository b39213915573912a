"""Fake public price APIs of the three providers, each a real threaded HTTP server on 127.0.0.1.

Each fake renders its catalogue from ``fake.prices`` (book id -> price string, defaulting to
the embedded book's figures) in the provider's own wire shape, with the neighbouring meters a
real catalogue has (Windows and Spot VMs, regional disks, reservations, Local Zones, other
regions …) that a reader must not mistake for the price it wants.

- ``FakeAzurePrices``: ``GET /api/retail/prices?$filter=…`` with the OData subset the Retail
  Prices API documents (``eq``, ``and``, parenthesised ``or``), ``page_size`` items a page and
  an absolute ``NextPageLink`` (``$skip``).
- ``FakeGCPCatalog``: ``GET /v1/services/6F81-5844-456A/skus`` with an API key (header
  ``X-Goog-Api-Key`` or ``?key=``), ``pageSize``/``pageToken`` pagination.
- ``FakeAWSPricing``: the bulk offer files ``GET /offers/v1.0/aws/{offer}/current/us-east-1/
  index.json`` (AmazonEKS, AWSELB), and the Query API ``POST /`` (``X-Amz-Target:
  AWSPriceListService.GetProducts``, JSON 1.1, SigV4 ``Authorization`` naming a known key)
  with TERM_MATCH / ANY_OF filters and ``NextToken`` pagination.

``fake.fail(mode, page=None)`` makes requests misbehave: ``"down"`` (HTTP 503), ``"malformed"``
(HTTP 200 with the wrong shape), ``"not-json"`` or ``"hang"`` (answers after HANG_SECONDS);
``page`` limits it to that page number.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

from app.pricing.book import load_default_price_book

AWS_ACCESS_KEY = "AKIAPRICEFAKE0000001"
AWS_SECRET_KEY = "fake-pricing-secret-never-logged"
GCP_API_KEY = "AIzaFakePriceKey-never-logged-0123456789"
GCP_COMPUTE = "6F81-5844-456A"
HANG_SECONDS = 3.0  # longer than the tests' client timeout


def book_prices() -> dict[str, str]:
    """The embedded book's figures as strings: what each fake lists unless a test changes it."""
    return {e.id: str(Decimal(str(e.value))) for e in load_default_price_book().entries()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: _Fake) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._serve(b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self._serve(self.rfile.read(length) if 0 < length <= 1 << 20 else b"")

    def _serve(self, body: bytes) -> None:
        status, payload, content_type = self.server.fake.handle(
            self.command, self.path, dict(self.headers.items()), body
        )
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


Answer = tuple[int, Any, str]
JSON = "application/json; charset=utf-8"


class _Fake:
    """A threaded server, its request log and its failure switch."""

    def __init__(self) -> None:
        self.prices = book_prices()
        self.requests: list[dict[str, Any]] = []  # method, path, query, headers
        self._failure: tuple[str, int | None] | None = None
        self._lock = threading.Lock()
        self._server = _Server(self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail(self, mode: str | None, page: int | None = None) -> None:
        """Misbehave from now on: "down", "malformed", "not-json" (None: behave)."""
        self._failure = (mode, page) if mode else None

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        split = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:
            self.requests.append(
                {"method": method, "path": split.path, "target": target, "query": query,
                 "headers": headers, "body": body}
            )  # fmt: skip
        return self.route(method, split.path, query, headers, body)

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        raise NotImplementedError

    def failing(self, page: int) -> Answer | None:
        """The failure to answer with on ``page`` (1-based), if any."""
        if self._failure is None:
            return None
        mode, only = self._failure
        if only is not None and only != page:
            return None
        if mode == "down":
            return 503, {"error": {"code": 503, "message": "Service Unavailable"}}, JSON
        if mode == "hang":
            time.sleep(HANG_SECONDS)
            return 503, {"error": {"code": 503, "message": "Too late"}}, JSON
        if mode == "not-json":
            return 200, b"<html><body>Gateway says hello</body></html>", "text/html"
        return 200, self.malformed(), JSON

    def malformed(self) -> Any:
        return {"unexpected": "shape"}

    def price(self, price_id: str) -> float:
        return float(self.prices[price_id])


# --- Azure Retail Prices ------------------------------------------------------------------------

_CLAUSE = re.compile(r"(\w+) eq '([^']*)'")


def _odata(expression: str) -> Callable[[dict[str, Any]], bool] | None:
    """A predicate for the Retail Prices API's filter subset; None when it is not that."""
    parts = re.split(r" and (?![^(]*\))", expression.strip())
    tests: list[list[tuple[str, str]]] = []
    for part in parts:
        inner = part.strip()
        if inner.startswith("(") and inner.endswith(")"):
            inner = inner[1:-1]
        options = []
        for option in inner.split(" or "):
            match = _CLAUSE.fullmatch(option.strip())
            if match is None:
                return None
            field = "type" if match[1] == "priceType" else match[1]
            options.append((field, match[2]))
        tests.append(options)

    def check(item: dict[str, Any]) -> bool:
        return all(any(item.get(f) == v for f, v in options) for options in tests)

    return check


class FakeAzurePrices(_Fake):
    """The Azure Retail Prices API."""

    def __init__(self, *, page_size: int = 100) -> None:
        super().__init__()
        self.page_size = page_size
        self.extra_items: list[dict[str, Any]] = []  # listed after the catalogue

    def malformed(self) -> Any:
        return {"BillingCurrency": "USD", "Items": {"not": "a list"}, "NextPageLink": None}

    def items(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []

        def add(service: str, product: str, sku: str, meter: str, unit: str, price: float,
                **extra: Any) -> None:  # fmt: skip
            region = extra.pop("region", "eastus")
            rows.append(
                {
                    "currencyCode": "USD", "tierMinimumUnits": 0.0, "retailPrice": price,
                    "unitPrice": price, "armRegionName": region, "location": "US East",
                    "effectiveStartDate": extra.pop("effective", "2024-06-01T00:00:00Z"),
                    "meterId": f"m-{len(rows)}", "meterName": meter, "productId": "DZH318Z0",
                    "skuId": f"DZH318Z0/{len(rows)}", "productName": product, "skuName": sku,
                    "serviceName": service, "serviceId": "DZH317F1V4PS",
                    "serviceFamily": "Compute", "unitOfMeasure": unit,
                    "type": extra.pop("type", "Consumption"), "isPrimaryMeterRegion": True,
                    "armSkuName": extra.pop("arm_sku", ""), **extra,
                }
            )  # fmt: skip

        families = {
            "premium": ("Premium SSD Managed Disks", "P"),
            "standard_ssd": ("Standard SSD Managed Disks", "E"),
            "standard_hdd": ("Standard HDD Managed Disks", "S"),
        }
        for family, (product, letter) in families.items():
            for tier in ("10", "15", "20", "30"):
                name = f"{letter}{tier}"
                meter = f"{name} LRS Disk" if letter != "S" else f"{name} Disk"
                price = self.price(f"azure_disk.{family}.{name}")
                add("Storage", product, f"{name} LRS", meter, "1/Month", price)
                add("Storage", product, f"{name} ZRS", f"{name} ZRS Disk", "1/Month", price * 1.5)
                add("Storage", product, f"{name} LRS", f"{name} LRS Disk", "1/Month", price * 1.1,
                    region="westeurope")  # fmt: skip
            if letter != "P":
                add("Storage", product, f"{letter}10 LRS", "LRS Disk Operations", "10K", 0.0005)
        add("Storage", "Premium SSD Managed Disks", "P30 LRS", "P30 LRS Disk", "1/Month", 1200.0,
            type="Reservation")  # fmt: skip
        add("Load Balancer", "Load Balancer", "Standard",
            "Standard Included LB Rules and Outbound Rules", "1 Hour",
            self.price("lb.azure.rule_first5"))  # fmt: skip
        add("Load Balancer", "Load Balancer", "Standard",
            "Standard Overage LB Rules and Outbound Rules", "1 Hour",
            self.price("lb.azure.rule_extra"))  # fmt: skip
        add("Load Balancer", "Load Balancer", "Standard", "Standard Data Processed", "1 GB", 0.005)
        add("Azure Kubernetes Service", "Azure Kubernetes Service", "Standard",
            "Standard Uptime SLA", "1 Hour", self.price("control_plane.aks.standard"))  # fmt: skip
        add("Azure Kubernetes Service", "Azure Kubernetes Service", "Premium",
            "Premium Long Term Support", "1 Hour",
            self.price("control_plane.aks.premium"))  # fmt: skip
        add("Azure Kubernetes Service", "Azure Kubernetes Service", "Automatic",
            "Automatic Hosted Control Plane", "1 Hour", 0.16)  # fmt: skip
        for size in ("D2s_v5", "D4s_v5", "D8s_v5"):
            arm = f"Standard_{size}"
            price = self.price(f"instance.azure.{arm}")
            name = size.replace("_", " ")
            add("Virtual Machines", "Virtual Machines Dsv5 Series", name, name, "1 Hour", price,
                arm_sku=arm)  # fmt: skip
            add("Virtual Machines", "Virtual Machines Dsv5 Series Windows", name, name, "1 Hour",
                price * 2, arm_sku=arm)  # fmt: skip
            add("Virtual Machines", "Virtual Machines Dsv5 Series", f"{name} Spot", f"{name} Spot",
                "1 Hour", price / 5, arm_sku=arm)  # fmt: skip
            add("Virtual Machines", "Virtual Machines Dsv5 Series", f"{name} Low Priority",
                f"{name} Low Priority", "1 Hour", price / 5, arm_sku=arm)  # fmt: skip
            add("Virtual Machines", "Virtual Machines Dsv5 Series", name, name, "1 Hour", price,
                arm_sku=arm, type="DevTestConsumption")  # fmt: skip
        return rows + self.extra_items

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        if method != "GET" or path != "/api/retail/prices":
            return 404, {"Error": {"Code": "NotFound", "Message": "Not found"}}, JSON
        skip = int(query.get("$skip", "0") or 0)
        failure = self.failing(skip // self.page_size + 1)
        if failure:
            return failure
        expression = query.get("$filter", "")
        check = _odata(expression) if expression else (lambda item: True)
        if check is None:
            message = "Invalid OData parameters supplied"
            return 400, {"Error": {"Code": "BadRequest", "Message": message}}, JSON
        matched = [i for i in self.items() if check(i)]
        page = matched[skip : skip + self.page_size]
        more = skip + self.page_size < len(matched)
        link = None
        if more:
            next_query = urlencode({"$filter": expression, "$skip": skip + self.page_size})
            link = f"{self.url}/api/retail/prices?{next_query}"
        body_out = {
            "BillingCurrency": "USD", "CustomerEntityId": "Default",
            "CustomerEntityType": "Retail", "Items": page, "NextPageLink": link,
            "Count": len(page),
        }  # fmt: skip
        return 200, body_out, JSON


# --- GCP Cloud Billing Catalog ------------------------------------------------------------------


def _money(value: float) -> dict[str, Any]:
    exact = Decimal(str(value))
    units = int(exact)
    return {"currencyCode": "USD", "units": str(units), "nanos": int((exact - units) * 10**9)}


class FakeGCPCatalog(_Fake):
    """The Cloud Billing Catalog API's Compute Engine SKU listing."""

    def __init__(self, *, page_size: int = 5, api_key: str = GCP_API_KEY) -> None:
        super().__init__()
        self.page_size = page_size
        self.api_key = api_key

    def malformed(self) -> Any:
        return {"skus": [{"description": "Storage PD Capacity", "pricingInfo": "oops",
                          "category": {"usageType": "OnDemand"},
                          "serviceRegions": ["us-central1"]}]}  # fmt: skip

    def skus(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        americas = ["us-central1", "us-east1", "us-west1", "northamerica-northeast1"]

        def add(description: str, unit: str, price: float, *, usage: str = "OnDemand",
                regions: list[str] | None = None, family: str = "Compute",
                tiers: list[tuple[float, float]] | None = None) -> None:  # fmt: skip
            sku_id = f"{len(rows):04X}-{len(description):04X}-FAKE"
            rates = [
                {"startUsageAmount": start, "unitPrice": _money(value)}
                for start, value in (tiers or [(0, price)])
            ]
            rows.append(
                {
                    "name": f"services/{GCP_COMPUTE}/skus/{sku_id}", "skuId": sku_id,
                    "description": description,
                    "category": {"serviceDisplayName": "Compute Engine",
                                 "resourceFamily": family, "resourceGroup": "N2Standard",
                                 "usageType": usage},
                    "serviceRegions": regions or ["us-central1"],
                    "pricingInfo": [{
                        "summary": "",
                        "pricingExpression": {
                            "usageUnit": unit, "displayQuantity": 1, "tieredRates": rates,
                            "usageUnitDescription": unit, "baseUnit": unit,
                            "baseUnitDescription": unit, "baseUnitConversionFactor": 1,
                        },
                        "currencyConversionRate": 1,
                        "effectiveTime": "2026-11-20T08:00:00.000Z",
                    }],
                    "serviceProviderName": "Google",
                    "geoTaxonomy": {"type": "REGIONAL", "regions": regions or ["us-central1"]},
                }
            )  # fmt: skip

        add("Storage PD Capacity", "GiBy.mo", self.price("storage.gcp.pd-standard"),
            family="Storage")  # fmt: skip
        add("Storage PD Capacity in Belgium", "GiBy.mo", 0.044, regions=["europe-west1"],
            family="Storage")  # fmt: skip
        add("Regional Storage PD Capacity", "GiBy.mo", 0.08, family="Storage")
        add("Balanced PD Capacity", "GiBy.mo", self.price("storage.gcp.pd-balanced"),
            family="Storage")  # fmt: skip
        add("Regional Balanced PD Capacity", "GiBy.mo", 0.2, family="Storage")
        add("SSD backed PD Capacity", "GiBy.mo", self.price("storage.gcp.pd-ssd"),
            family="Storage")  # fmt: skip
        add("Storage Image", "GiBy.mo", 0.05, family="Storage")
        add("N2 Instance Core running in Americas", "h", self.price("compute.gcp.vcpu_hour"),
            regions=americas)  # fmt: skip
        add("N2 Instance Ram running in Americas", "GiBy.h", self.price("compute.gcp.gib_hour"),
            regions=americas)  # fmt: skip
        add("Spot Preemptible N2 Instance Core running in Americas", "h", 0.0076,
            usage="Preemptible", regions=americas)  # fmt: skip
        add("N2 Custom Instance Core running in Americas", "h", 0.033191, regions=americas)
        add("Commitment v1: N2 Cpu in Americas for 1 Year", "h", 0.019915, usage="Commit1Yr",
            regions=americas)  # fmt: skip
        add("N2 Instance Core running in EMEA", "h", 0.034806, regions=["europe-west1"])
        add("Network Load Balancing: Forwarding Rule Minimum Service Charge in Americas", "h",
            self.price("lb.gcp.forwarding_rule_first5"), regions=americas,
            family="Network")  # fmt: skip
        add("Network Load Balancing: Forwarding Rule Additional Service Charge in Americas", "h",
            self.price("lb.gcp.forwarding_rule_extra"), regions=americas,
            family="Network")  # fmt: skip
        add("Network Internet Egress from Americas to Americas", "GiBy", 0.12, family="Network",
            regions=americas, tiers=[(0, 0.0), (1, 0.12), (1024, 0.11)])  # fmt: skip
        return rows

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        if method != "GET" or path != f"/v1/services/{GCP_COMPUTE}/skus":
            return (
                404,
                {"error": {"code": 404, "message": "Not found", "status": "NOT_FOUND"}},
                JSON,
            )
        key = {k.lower(): v for k, v in headers.items()}.get("x-goog-api-key") or query.get("key")
        if key != self.api_key:
            error = {"code": 403, "message": "The request is missing a valid API key.",
                     "status": "PERMISSION_DENIED"}  # fmt: skip
            return 403, {"error": error}, JSON
        token = query.get("pageToken", "")
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode()) if token else 0
        except ValueError:
            return 400, {"error": {"code": 400, "message": "Invalid page token"}}, JSON
        size = min(int(query.get("pageSize", "5000")), self.page_size)
        failure = self.failing(offset // size + 1)
        if failure:
            return failure
        skus = self.skus()
        page = skus[offset : offset + size]
        following = offset + size
        next_token = (
            base64.urlsafe_b64encode(str(following).encode()).decode()
            if following < len(skus)
            else ""
        )
        return 200, {"skus": page, "nextPageToken": next_token}, JSON


# --- AWS Price List (bulk offer files and the Query API) ----------------------------------------

_OFFER_PATH = re.compile(r"/offers/v1\.0/aws/(\w+)/current/us-east-1/index\.json")
_CREDENTIAL = re.compile(r"AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/\d{8}/us-east-1/pricing/")


def _term(sku: str, price: float, unit: str, description: str) -> dict[str, Any]:
    code = "JRTCKXETXF"
    return {
        f"{sku}.{code}": {
            "offerTermCode": code, "sku": sku, "effectiveDate": "2026-11-01T00:00:00Z",
            "priceDimensions": {
                f"{sku}.{code}.6YS6EN2CT7": {
                    "rateCode": f"{sku}.{code}.6YS6EN2CT7", "description": description,
                    "beginRange": "0", "endRange": "Inf", "unit": unit,
                    "pricePerUnit": {"USD": f"{Decimal(str(price)):.10f}"}, "appliesTo": [],
                }
            },
            "termAttributes": {},
        }
    }  # fmt: skip


class FakeAWSPricing(_Fake):
    """The AWS Price List bulk offer files and Query API (GetProducts)."""

    def __init__(self, *, page_size: int = 3) -> None:
        super().__init__()
        self.page_size = page_size
        self.deny = False  # answer GetProducts with AccessDeniedException

    def malformed(self) -> Any:
        return {"formatVersion": "v1.0", "products": ["not", "a", "map"], "terms": {}}

    def _product(self, sku: str, family: str, price: float, unit: str, **attrs: str) -> Any:
        attrs = {"servicecode": "AmazonEC2", "location": "US East (N. Virginia)",
                 "locationType": "AWS Region", "regionCode": "us-east-1", **attrs}  # fmt: skip
        return (
            {"sku": sku, "productFamily": family, "attributes": attrs},
            _term(sku, price, unit, f"${price} per {unit}"),
        )

    def offer(self, name: str) -> dict[str, Any] | None:
        p = self._product
        if name == "AmazonEKS":
            items = [
                p("EKSSTD0001", "Compute", self.price("control_plane.eks.standard"), "Hrs",
                  usagetype="USE1-AmazonEKS-Hours:perCluster", operation="CreateOperation"),
                p("EKSEXT0001", "Compute", self.price("control_plane.eks.extended"), "Hrs",
                  usagetype="USE1-AmazonEKS-Hours:extendedSupport", operation="CreateOperation"),
                p("EKSOUT0001", "Compute", 0.1, "Hrs",
                  usagetype="USE1-AmazonEKS-Hours:perCluster-Outposts"),
                p("EKSAUTO001", "Compute", 0.0048, "Hrs", usagetype="USE1-AmazonEKS-AutoMode-Hrs"),
            ]  # fmt: skip
        elif name == "AWSELB":
            items = [
                p("ELBCLS0001", "Load Balancer", self.price("lb.aws.classic"), "Hrs",
                  usagetype="LoadBalancerUsage", operation="LoadBalancing"),
                p("ELBNLB0001", "Load Balancer-Network", self.price("lb.aws.nlb"), "Hrs",
                  usagetype="LoadBalancerUsage", operation="LoadBalancing:Network"),
                p("ELBNLB0002", "Load Balancer-Network", 0.006, "LCU-Hrs",
                  usagetype="LCUUsage", operation="LoadBalancing:Network"),
                p("ELBALB0001", "Load Balancer-Application", 0.0225, "Hrs",
                  usagetype="LoadBalancerUsage", operation="LoadBalancing:Application"),
                p("ELBNLBLZ01", "Load Balancer-Network", 0.0248, "Hrs",
                  usagetype="USE1-BOS1-LoadBalancerUsage", regionCode="us-east-1-bos-1",
                  locationType="AWS Local Zone"),
            ]  # fmt: skip
        else:
            return None
        return {
            "formatVersion": "v1.0", "disclaimer": "For informational purposes only.",
            "offerCode": name, "version": "20261120000000",
            "publicationDate": "2026-11-20T00:00:00Z",
            "products": {prod["sku"]: prod for prod, _ in items},
            "terms": {"OnDemand": {prod["sku"]: term for prod, term in items}, "Reserved": {}},
        }  # fmt: skip

    def ec2_products(self) -> list[dict[str, Any]]:
        """AmazonEC2 products as GetProducts returns them (product + terms)."""
        out = []
        for i, name in enumerate(("gp2", "gp3", "io1", "io2", "st1", "sc1", "standard")):
            price = self.price(f"storage.aws.{name}") if name != "standard" else 0.05
            usage = f"EBS:VolumeUsage.{name}"
            prod, term = self._product(
                f"EBS{i:07d}", "Storage", price, "GB-Mo", volumeApiName=name, usagetype=usage
            )
            out.append({"product": prod, "terms": {"OnDemand": term}})
        local_zone = {
            "volumeApiName": "gp3",
            "usagetype": "USE1-BOS1-EBS:VolumeUsage.gp3",
            "regionCode": "us-east-1-bos-1",
            "locationType": "AWS Local Zone",
        }
        prod, term = self._product("EBSLZ00001", "Storage", 0.096, "GB-Mo", **local_zone)
        out.append({"product": prod, "terms": {"OnDemand": term}})
        for size in ("large", "xlarge", "2xlarge"):
            kind = f"m5.{size}"
            price = self.price(f"instance.aws.{kind}")
            base = {"instanceType": kind, "operatingSystem": "Linux", "tenancy": "Shared",
                    "preInstalledSw": "NA", "capacitystatus": "Used",
                    "licenseModel": "No License required"}  # fmt: skip
            variants = [
                (price, base),
                (price * 1.8, {**base, "operatingSystem": "Windows"}),
                (price * 1.1, {**base, "tenancy": "Dedicated"}),
                (0.0, {**base, "capacitystatus": "AllocatedCapacityReservation"}),
            ]
            for j, (value, attrs) in enumerate(variants):
                prod, term = self._product(f"EC2{size[:3].upper()}{j:04d}", "Compute Instance",
                                           value, "Hrs", **attrs)  # fmt: skip
                out.append({"product": prod, "terms": {"OnDemand": term}})
        return out

    def route(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Answer:
        if method == "GET":
            match = _OFFER_PATH.fullmatch(path)
            offer = self.offer(match[1]) if match else None
            if offer is None:
                return 403, b"<Error><Code>AccessDenied</Code></Error>", "application/xml"
            return self.failing(1) or (200, offer, JSON)
        if method == "POST" and path == "/":
            return self.get_products(headers, body)
        return 404, {"message": "not found"}, JSON

    def get_products(self, headers: dict[str, str], body: bytes) -> Answer:
        lower = {k.lower(): v for k, v in headers.items()}
        amz = "application/x-amz-json-1.1"
        if lower.get("x-amz-target") != "AWSPriceListService.GetProducts":
            return 400, {"__type": "UnknownOperationException"}, amz
        credential = _CREDENTIAL.match(lower.get("authorization", ""))
        if credential is None or credential[1] != AWS_ACCESS_KEY:
            message = "The security token included in the request is invalid."
            return 400, {"__type": "UnrecognizedClientException", "message": message}, amz
        if self.deny:
            message = "User is not authorized to perform: pricing:GetProducts"
            return 400, {"__type": "AccessDeniedException", "Message": message}, amz
        request = json.loads(body or b"{}")
        offset = int(request.get("NextToken") or 0)
        size = min(int(request.get("MaxResults") or 100), self.page_size)
        failure = self.failing(offset // size + 1)
        if failure:
            status, payload, _ = failure
            return status, payload, amz
        if request.get("ServiceCode") != "AmazonEC2":
            return 200, {"FormatVersion": "aws_v1", "PriceList": []}, amz
        matched = [p for p in self.ec2_products() if _filters_match(p, request.get("Filters", []))]
        page = matched[offset : offset + size]
        answer: dict[str, Any] = {
            "FormatVersion": "aws_v1",
            "PriceList": [json.dumps({**p, "serviceCode": "AmazonEC2"}) for p in page],
        }
        if offset + size < len(matched):
            answer["NextToken"] = str(offset + size)
        return 200, answer, amz


def _filters_match(item: dict[str, Any], filters: list[dict[str, str]]) -> bool:
    product = item["product"]
    for f in filters:
        field, wanted = f["Field"], f["Value"]
        actual = (
            product["productFamily"]
            if field == "productFamily"
            else product["attributes"].get(field)
        )
        if f["Type"] == "ANY_OF":
            if actual not in wanted.split(","):
                return False
        elif (actual or "").lower() != wanted.lower():
            return False
    return True
