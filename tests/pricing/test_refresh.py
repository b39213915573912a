"""Refreshing the default prices from the providers' price APIs: real HTTP against the fakes in
tests/fakes/prices.py, results in SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.pricing import store
from app.pricing.models import PriceDefault
from app.pricing.refresh import RefreshReport, refresh_default_prices, run_price_refresh
from tests.conftest import PASSWORD, make_settings
from tests.fakes.aws import AWS_ENV_CLEARED, leftover_aws_env
from tests.fakes.prices import (
    AWS_ACCESS_KEY,
    AWS_SECRET_KEY,
    GCP_API_KEY,
    FakeAWSPricing,
    FakeAzurePrices,
    FakeGCPCatalog,
)

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)


@dataclass
class Fakes:
    azure: FakeAzurePrices
    gcp: FakeGCPCatalog
    aws: FakeAWSPricing


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leftover's own AWS identity is the fake's key; nothing from this machine leaks in."""
    for name in AWS_ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in leftover_aws_env(AWS_ACCESS_KEY, AWS_SECRET_KEY).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with (
        FakeAzurePrices(page_size=4) as azure,
        FakeGCPCatalog(page_size=5) as gcp,
        FakeAWSPricing(page_size=3) as aws,
    ):
        yield Fakes(azure, gcp, aws)


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str, fakes: Fakes) -> Settings:
    return settings_for(tmp_path, database_url, fakes)


def settings_for(tmp_path: Path, database_url: str, fakes: Fakes, **values: Any) -> Settings:
    values = {
        "price_refresh": True,
        "price_azure_url": fakes.azure.url,
        "price_gcp_url": fakes.gcp.url,
        "price_gcp_api_key": GCP_API_KEY,
        "price_aws_url": fakes.aws.url,
        "price_aws_query_url": fakes.aws.url,
        "price_timeout_seconds": 1.0,
        **values,
    }
    return make_settings(tmp_path, database_url, **values)


def refresh(factory: sessionmaker[Session], settings: Settings) -> RefreshReport:
    with session_scope(factory) as session:
        return refresh_default_prices(session, settings=settings, now=NOW)


def rows(factory: sessionmaker[Session]) -> dict[str, tuple[Decimal, str, str]]:
    with session_scope(factory) as session:
        found = session.scalars(select(PriceDefault)).all()
        return {r.price_id: (Decimal(r.value), r.source, r.as_of) for r in found}


def changed_ids(report: RefreshReport, provider: str) -> set[str]:
    return {c.price_id for c in report.provider(provider).changed}


# --- values land ----------------------------------------------------------------------------------


def test_changed_prices_land_and_the_rest_is_kept(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    fakes.aws.prices.update(
        {
            "storage.aws.gp3": "0.075",
            "lb.aws.nlb": "0.0235",
            "control_plane.eks.extended": "0.5",
            "instance.aws.m5.large": "0.1",
        }
    )
    fakes.gcp.prices.update({"storage.gcp.pd-balanced": "0.11", "compute.gcp.vcpu_hour": "0.0333"})
    fakes.azure.prices.update(
        {
            "azure_disk.premium.P15": "39.5",
            "control_plane.aks.standard": "0.12",
            "instance.azure.Standard_D4s_v5": "0.2",
        }
    )

    report = refresh(factory, settings)

    assert [p.status for p in report.providers] == ["ok", "ok", "ok"]
    assert changed_ids(report, "aws") == {
        "storage.aws.gp3", "lb.aws.nlb", "control_plane.eks.extended", "instance.aws.m5.large",
    }  # fmt: skip
    assert changed_ids(report, "gcp") == {
        "storage.gcp.pd-balanced", "compute.gcp.vcpu_hour", "instance.gcp.n2-standard-2",
        "instance.gcp.n2-standard-4", "instance.gcp.n2-standard-8",
    }  # fmt: skip
    assert changed_ids(report, "azure") == {
        "azure_disk.premium.P15", "control_plane.aks.standard", "instance.azure.Standard_D4s_v5",
    }  # fmt: skip
    for provider in report.providers:
        assert provider.not_found == [], provider
        assert provider.error is None
    assert "storage.aws.gp2" in report.provider("aws").unchanged
    assert "lb.gcp.forwarding_rule_first5" in report.provider("gcp").unchanged
    assert "azure_disk.standard_hdd.S30" in report.provider("azure").unchanged

    saved = rows(factory)
    assert set(saved) == {c.price_id for p in report.providers for c in p.changed}
    assert saved["storage.aws.gp3"][0] == Decimal("0.075")
    assert saved["storage.aws.gp3"][2] == "2026-11-27"
    assert (
        saved["lb.aws.nlb"][1]
        == f"{fakes.aws.url}/offers/v1.0/aws/AWSELB/current/us-east-1/index.json"
    )
    assert saved["azure_disk.premium.P15"][1] == f"{fakes.azure.url}/api/retail/prices"
    assert saved["storage.gcp.pd-balanced"][1] == f"{fakes.gcp.url}/v1/services/6F81-5844-456A/skus"
    # n2-standard-2: 2 vCPU × 0.0333 + 8 GiB × 0.004237 (the RAM rate is unchanged)
    assert saved["instance.gcp.n2-standard-2"][0] == Decimal("0.100496")
    assert report.written == len(saved)

    with session_scope(factory) as session:
        book = store.default_price_book(session)
    assert book.value("azure_disk.premium.P15") == 39.5
    assert book.value("control_plane.aks.standard") == 0.12
    assert book.entry("storage.aws.gp3").as_of == "2026-11-27"

    again = refresh(factory, settings)
    assert again.written == 0
    assert rows(factory) == saved


def test_neighbouring_meters_are_not_mistaken_for_the_price(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    """Windows, Spot, Dedicated, ZRS, reservations, regional PDs, Local Zones, LCU-hours and
    other regions are all in the fakes' catalogues at other prices: nothing changes."""
    report = refresh(factory, settings)
    for provider in report.providers:
        assert provider.changed == [], provider
        assert provider.not_found == [], provider
        assert provider.refused == {}, provider
        assert provider.notes == [], provider
    assert len(report.provider("azure").unchanged) == 19
    assert len(report.provider("aws").unchanged) == 13
    assert len(report.provider("gcp").unchanged) == 10
    assert rows(factory) == {}


def test_every_page_is_read(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    fakes.azure.prices["azure_disk.standard_hdd.S30"] = "42.5"  # on a late page
    fakes.gcp.prices["lb.gcp.forwarding_rule_extra"] = "0.012"  # on the last page
    report = refresh(factory, settings)
    assert changed_ids(report, "azure") == {"azure_disk.standard_hdd.S30"}
    assert changed_ids(report, "gcp") == {"lb.gcp.forwarding_rule_extra"}
    skips = [r["query"].get("$skip") for r in fakes.azure.requests]
    assert {"4", "8", "12"} <= set(skips)
    tokens = [r["query"].get("pageToken") for r in fakes.gcp.requests]
    assert len(tokens) == 4
    assert tokens[0] is None
    bodies = [r["body"] for r in fakes.aws.requests if r["method"] == "POST"]
    assert any(b'"NextToken"' in body for body in bodies)


def test_a_stored_refreshed_price_is_what_a_new_value_is_compared_with(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    with session_scope(factory) as session:
        session.add(PriceDefault(price_id="lb.aws.classic", value=Decimal("0.027"),
                                 source="https://old.test", as_of="2026-01-01",
                                 refreshed_at=datetime(2026, 1, 1, tzinfo=UTC)))  # fmt: skip
    report = refresh(factory, settings)  # the fake lists 0.025, the embedded figure
    change = next(c for c in report.provider("aws").changed if c.price_id == "lb.aws.classic")
    assert (change.old, change.new) == (Decimal("0.027000"), Decimal("0.025000"))
    assert rows(factory)["lb.aws.classic"] == (
        Decimal("0.025"),
        f"{fakes.aws.url}/offers/v1.0/aws/AWSELB/current/us-east-1/index.json",
        "2026-11-27",
    )


def test_implausible_jumps_are_refused(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    fakes.aws.prices["storage.aws.gp2"] = "10.0"  # 100× — a per-GB-month meter read as per-TB?
    fakes.azure.prices["lb.azure.rule_extra"] = "0"
    report = refresh(factory, settings)
    assert "changed by more than 10" in report.provider("aws").refused["storage.aws.gp2"]
    assert "became zero" in report.provider("azure").refused["lb.azure.rule_extra"]
    assert rows(factory) == {}


def test_different_prices_for_one_id_leave_it_alone(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    meter = "Standard Uptime SLA"
    fakes.azure.extra_items.append(
        {"currencyCode": "USD", "retailPrice": 0.2, "armRegionName": "eastus",
         "effectiveStartDate": "2024-06-01T00:00:00Z", "meterName": meter,
         "productName": "Azure Kubernetes Service", "skuName": "Standard",
         "serviceName": "Azure Kubernetes Service", "unitOfMeasure": "1 Hour",
         "type": "Consumption"}
    )  # fmt: skip
    report = refresh(factory, settings)
    azure = report.provider("azure")
    assert "control_plane.aks.standard" in azure.not_found
    assert any("several different prices" in note for note in azure.notes)
    newer = {**fakes.azure.extra_items[0], "effectiveStartDate": "2026-10-01T00:00:00Z"}
    fakes.azure.extra_items[:] = [newer]
    report = refresh(factory, settings)
    assert changed_ids(report, "azure") == {"control_plane.aks.standard"}
    assert rows(factory)["control_plane.aks.standard"][0] == Decimal("0.2")


# --- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["malformed", "not-json"])
@pytest.mark.parametrize("provider", ["azure", "gcp", "aws"])
def test_a_malformed_response_writes_nothing_for_that_provider(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes, provider: str, mode: str
) -> None:
    fakes.aws.prices["lb.aws.classic"] = "0.026"
    fakes.gcp.prices["storage.gcp.pd-ssd"] = "0.18"
    fakes.azure.prices["azure_disk.premium.P10"] = "20.5"
    fake = getattr(fakes, provider)
    fake.prices.update({"storage.aws.gp3": "0.07", "storage.gcp.pd-standard": "0.05",
                        "azure_disk.standard_hdd.S30": "45"})  # fmt: skip
    fake.fail(mode, page=2)  # the first page is fine: a later one breaks
    report = refresh(factory, settings)
    broken = report.provider(provider)
    assert broken.status == "failed"
    assert broken.error is not None
    assert broken.error.startswith("malformed response, nothing written")
    assert broken.changed == []
    expected = {"aws": "lb.aws.classic", "gcp": "storage.gcp.pd-ssd",
                "azure": "azure_disk.premium.P10"}  # fmt: skip
    assert set(rows(factory)) == {v for k, v in expected.items() if k != provider}


def test_nothing_is_written_when_every_response_is_malformed(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    with session_scope(factory) as session:
        session.add(PriceDefault(price_id="storage.aws.gp2", value=Decimal("0.1"),
                                 source="https://kept.test", as_of="2026-10-01",
                                 refreshed_at=datetime(2026, 10, 1, tzinfo=UTC)))  # fmt: skip
    before = rows(factory)
    for fake in (fakes.azure, fakes.gcp, fakes.aws):
        fake.prices["storage.aws.gp3" if fake is fakes.aws else "lb.azure.rule_first5"] = "0.03"
        fake.fail("malformed")
    report = refresh(factory, settings)
    assert [p.status for p in report.providers] == ["failed", "failed", "failed"]
    assert "Items: expected a list" in (report.provider("azure").error or "")
    assert "pricingInfo" in (report.provider("gcp").error or "")
    assert "products: expected an object" in (report.provider("aws").error or "")
    assert rows(factory) == before


@pytest.mark.parametrize("mode", ["down", "stopped", "hang"])
def test_a_provider_down_does_not_block_the_others(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes, mode: str
) -> None:
    fakes.aws.prices["control_plane.eks.standard"] = "0.11"
    fakes.gcp.prices["compute.gcp.gib_hour"] = "0.0045"
    fakes.azure.prices["azure_disk.standard_ssd.E20"] = "40"
    if mode == "stopped":
        fakes.gcp.stop()
    else:
        fakes.gcp.fail(mode)
    report = refresh(factory, settings)
    gcp = report.provider("gcp")
    assert gcp.status == "failed"
    assert gcp.error is not None
    assert gcp.error.startswith("unavailable, nothing written: GCP Cloud Billing Catalog")
    expected = {"down": "HTTP 503 (Service Unavailable)", "stopped": "ConnectError",
                "hang": "timed out"}  # fmt: skip
    assert expected[mode] in gcp.error
    assert set(rows(factory)) == {"control_plane.eks.standard", "azure_disk.standard_ssd.E20"}


def test_aws_offer_files_unreachable_fails_aws_only(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    fakes.aws.fail("down")
    fakes.azure.prices["lb.azure.rule_first5"] = "0.027"
    report = refresh(factory, settings)
    assert report.provider("aws").status == "failed"
    assert "AWS AmazonEKS offer file: HTTP 503" in (report.provider("aws").error or "")
    assert set(rows(factory)) == {"lb.azure.rule_first5"}


# --- credentials ----------------------------------------------------------------------------------


def test_gcp_without_an_api_key_is_skipped_with_a_note(
    tmp_path: Path, database_url: str, factory: sessionmaker[Session], fakes: Fakes
) -> None:
    fakes.gcp.prices["storage.gcp.pd-ssd"] = "0.2"
    fakes.azure.prices["azure_disk.premium.P20"] = "75"
    settings = settings_for(tmp_path, database_url, fakes, price_gcp_api_key=None)
    report = refresh(factory, settings)
    gcp = report.provider("gcp")
    assert gcp.status == "skipped"
    assert gcp.notes == [
        "skipped: no API key for the Cloud Billing Catalog (LEFTOVER_PRICE_GCP_API_KEY)"
    ]
    assert fakes.gcp.requests == []
    assert set(rows(factory)) == {"azure_disk.premium.P20"}


def test_the_gcp_key_travels_in_a_header_and_never_shows(
    tmp_path: Path,
    database_url: str,
    factory: sessionmaker[Session],
    fakes: Fakes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    report = refresh(factory, settings_for(tmp_path, database_url, fakes))
    assert report.provider("gcp").status == "ok"
    for request in fakes.gcp.requests:
        assert GCP_API_KEY not in request["target"]
        assert request["headers"]["X-Goog-Api-Key"] == GCP_API_KEY
    fakes.gcp.api_key = "AIzaAnotherKey"  # the configured key is now refused
    wrong = refresh(factory, settings_for(tmp_path, database_url, fakes))
    error = wrong.provider("gcp").error or ""
    assert "HTTP 403 (The request is missing a valid API key.)" in error
    assert GCP_API_KEY not in caplog.text
    assert GCP_API_KEY not in repr(wrong.as_dict())
    assert GCP_API_KEY not in repr(settings_for(tmp_path, database_url, fakes))


def test_aws_without_credentials_refreshes_what_needs_none(
    factory: sessionmaker[Session],
    settings: Settings,
    fakes: Fakes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    fakes.aws.prices.update({"storage.aws.gp3": "0.07", "control_plane.eks.standard": "0.12"})
    report = refresh(factory, settings)
    aws = report.provider("aws")
    assert aws.status == "ok"
    assert changed_ids(report, "aws") == {"control_plane.eks.standard"}
    assert "storage.aws.gp3" in aws.skipped
    assert "instance.aws.m5.large" in aws.skipped
    assert aws.notes == [
        "no AWS credentials for the Price List Query API (Leftover's own identity): "
        "EBS and instance prices kept as they are"
    ]
    assert set(rows(factory)) == {"control_plane.eks.standard"}


def test_aws_refusing_get_products_is_a_note_not_a_failure(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    fakes.aws.deny = True
    fakes.aws.prices.update({"storage.aws.gp3": "0.07", "lb.aws.classic": "0.026"})
    report = refresh(factory, settings)
    aws = report.provider("aws")
    assert aws.status == "ok"
    assert "AccessDeniedException" in aws.notes[0]
    assert set(rows(factory)) == {"lb.aws.classic"}


# --- the task body --------------------------------------------------------------------------------


def test_the_task_does_nothing_unless_the_operator_enabled_it(
    tmp_path: Path, database_url: str, factory: sessionmaker[Session], fakes: Fakes
) -> None:
    fakes.aws.prices["storage.aws.gp3"] = "0.07"
    disabled = settings_for(tmp_path, database_url, fakes, price_refresh=False)
    assert run_price_refresh(factory, settings=disabled, now=NOW) is None
    assert fakes.aws.requests == fakes.gcp.requests == fakes.azure.requests == []
    assert rows(factory) == {}
    enabled = settings_for(tmp_path, database_url, fakes)
    report = run_price_refresh(factory, settings=enabled, now=NOW)
    assert report is not None
    assert rows(factory)["storage.aws.gp3"][0] == Decimal("0.07")
    result = report.as_dict()
    change = result["providers"][0]["changed"][0]
    assert change == {"price_id": "storage.aws.gp3", "old": "0.080000", "new": "0.070000",
                      "detail": "EBS gp3 (EBS:VolumeUsage.gp3)"}  # fmt: skip


def test_a_given_http_client_is_used_and_left_open(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    seen: list[str] = []
    with httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.host)]}) as http:
        with session_scope(factory) as session:
            refresh_default_prices(session, settings=settings, now=NOW, http=http)
        assert not http.is_closed
    assert seen
    assert set(seen) == {"127.0.0.1"}


def test_refreshed_defaults_reach_every_organisation_but_not_over_an_override(
    factory: sessionmaker[Session], settings: Settings, fakes: Fakes
) -> None:
    from app.accounts.service import create_user_with_org

    with session_scope(factory) as session:
        user, org = create_user_with_org(
            session, email="o@example.test", password=PASSWORD, org_name="Org"
        )
        org_id: uuid.UUID = org.id
        store.set_override(session, org_id, "storage.aws.gp3", "0.05", user.id)
    fakes.aws.prices.update({"storage.aws.gp3": "0.07", "storage.aws.gp2": "0.09"})
    refresh(factory, settings)
    with session_scope(factory) as session:
        book = store.effective_price_book(session, org_id)
    assert book.value("storage.aws.gp3") == 0.05
    assert book.value("storage.aws.gp2") == 0.09
