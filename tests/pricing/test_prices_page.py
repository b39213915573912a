"""The prices settings page: every entry with its default and source, overrides saved and shown,
bad values refused with nothing lost, read-only for members and viewers, resets, tenant
isolation, and a rescan of the organisation's clusters after a change."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from markupsafe import escape
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Membership, User
from app.clouds.models import CloudAccount, Cluster
from app.db import utcnow
from app.pricing import store
from app.pricing.book import load_default_price_book
from app.pricing.models import PriceDefault, PriceOverride
from app.scans.models import ScanRun
from tests.conftest import CSRF_INPUT, Browser, BrowserFactory

URL = "/settings/prices"
HX = {"HX-Request": "true"}


@dataclass
class Org:
    client: Browser
    org_id: uuid.UUID
    clusters: list[Cluster]


def org_id_of(db: Session, email: str) -> uuid.UUID:
    org_id = db.scalar(
        select(Membership.org_id)
        .join(User, User.id == Membership.user_id)
        .where(User.email == email)
    )
    assert org_id is not None
    return org_id


def add_cluster(db: Session, account: CloudAccount, name: str, *, gone: bool = False) -> Cluster:
    now = utcnow()
    cluster = Cluster(
        org_id=account.org_id, account_id=account.id, provider=account.provider,
        external_id=f"aws:{name}:{uuid.uuid4()}", name=name, region="us-east-1",
        kubernetes_version="1.33", endpoint="https://api.example.test:443", node_count=3,
        cloud_status="ACTIVE", details={}, state="gone" if gone else "active",
        first_seen_at=now - timedelta(days=9), last_seen_at=now,
        gone_at=now - timedelta(days=1) if gone else None,
    )  # fmt: skip
    db.add(cluster)
    db.flush()
    return cluster


def signed_up(browser: BrowserFactory, db: Session, email: str, org: str) -> Org:
    """An owner with two active clusters and one gone."""
    client = browser()
    client.sign_up(email, org=org)
    org_id = org_id_of(db, email)
    account = CloudAccount(org_id=org_id, provider="aws", name=f"{org} prod", config={},
                           status="connected", discovery_warnings=[])  # fmt: skip
    db.add(account)
    db.flush()
    clusters = [add_cluster(db, account, f"{org.lower()}-{n}") for n in ("web", "data")]
    add_cluster(db, account, f"{org.lower()}-old", gone=True)
    db.commit()
    return Org(client, org_id, clusters)


@pytest.fixture
def acme(browser: BrowserFactory, db: Session) -> Org:
    return signed_up(browser, db, "owner@acme.test", "Acme")


def set_role(db: Session, org_id: uuid.UUID, role: str) -> None:
    db.execute(update(Membership).where(Membership.org_id == org_id).values(role=role))
    db.commit()


def overrides(db: Session, org_id: uuid.UUID) -> dict[str, Decimal]:
    db.expire_all()
    rows = db.scalars(select(PriceOverride).where(PriceOverride.org_id == org_id))
    return {r.price_id: Decimal(r.value).normalize() for r in rows}


def scan_jobs(app: FastAPI) -> list[str]:
    return [str(kwargs["run_id"]) for name, kwargs in app.state.sent_jobs if name == "scans.run"]


def csrf(client: Browser) -> str:
    match = CSRF_INPUT.search(client.get(URL).text)
    assert match
    return match.group(1)


def save(client: Browser, values: dict[str, str]) -> httpx.Response:
    data = {f"price:{k}": v for k, v in values.items()}
    return client.submit(URL, data, csrf=csrf(client))


def input_value(page: str, price_id: str) -> str:
    match = re.search(rf'name="price:{re.escape(price_id)}"[^>]*value="([^"]*)"', page)
    assert match, price_id
    return html.unescape(match.group(1))


def toast_text(page: str) -> str:
    return " ".join(re.findall(r'<p class="toast-text">(.*?)</p>', page, re.S))


# --- the page ------------------------------------------------------------------------------------


def test_the_page_lists_every_price_grouped_with_its_default_and_source(acme: Org) -> None:
    page = acme.client.get(URL)
    assert page.status_code == 200
    text = page.text
    for group in ("Block storage — AWS EBS", "Block storage — GCP persistent disk",
                  "Azure managed disk tiers", "Load balancers", "Managed control planes",
                  "Compute rates (idle requests)", "Instance types", "Other"):  # fmt: skip
        assert f">{escape(group)}</h2>" in text, group
    for entry in load_default_price_book().entries():
        assert f'name="price:{entry.id}"' in text, entry.id
        assert str(escape(entry.description)) in text, entry.id
        assert input_value(text, entry.id) == ""
    assert "estimated, list price" in text
    assert "New prices apply from each cluster's next scan" in text
    assert (
        '<a href="https://aws.amazon.com/ebs/pricing/" rel="noopener noreferrer">source</a>' in text
    )
    assert "as of 2026-11-25" in text
    assert 'href="/settings/prices" aria-current="page"' in text
    assert "Reset all" not in text  # nothing overridden yet
    assert 'placeholder="0.0225"' in text  # lb.aws.nlb's default, as typed


def test_the_settings_page_links_to_prices(acme: Org) -> None:
    assert '<a href="/settings/prices">Prices</a>' in acme.client.get("/settings").text


def test_refreshed_defaults_show_their_own_source_and_date(acme: Org, db: Session) -> None:
    db.add(PriceDefault(price_id="storage.gcp.pd-ssd", value=Decimal("0.18"),
                        source="https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus",
                        as_of="2026-11-27"))  # fmt: skip
    db.commit()
    row = re.search(
        r'id="price-storage-gcp-pd-ssd-row">(.*?)</tr>', acme.client.get(URL).text, re.S
    )
    assert row
    assert "0.18 <span" in row.group(1)
    assert "cloudbilling.googleapis.com" in row.group(1)
    assert "as of 2026-11-27" in row.group(1)


def test_an_override_saves_shows_and_queues_a_rescan(app: FastAPI, acme: Org, db: Session) -> None:
    response = save(acme.client, {"storage.aws.gp3": "0.065", "lb.aws.nlb": "$0.02",
                                  "storage.aws.gp2": ""})  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == URL
    assert overrides(db, acme.org_id) == {"storage.aws.gp3": Decimal("0.065"),
                                          "lb.aws.nlb": Decimal("0.02")}  # fmt: skip

    page = acme.client.get(URL).text
    assert "Prices saved; 2 clusters queued for rescan." in toast_text(page)
    assert input_value(page, "storage.aws.gp3") == "0.065"
    assert input_value(page, "lb.aws.nlb") == "0.02"
    assert input_value(page, "storage.aws.gp2") == ""
    assert "Overridden: 0.065 USD/GB-month, by owner@acme.test on " in page
    assert 'formaction="/settings/prices/reset" name="price_id" value="storage.aws.gp3"' in page
    assert "Acme overrides 2 prices." in page

    db.expire_all()
    runs = db.scalars(select(ScanRun).where(ScanRun.org_id == acme.org_id)).all()
    assert sorted(r.cluster_id for r in runs) == sorted(c.id for c in acme.clusters)
    assert {r.trigger for r in runs} == {"manual"}
    assert sorted(scan_jobs(app)) == sorted(str(r.id) for r in runs)
    assert store.effective_price_book(db, acme.org_id).value("storage.aws.gp3") == 0.065


def test_a_cluster_already_scanning_keeps_its_one_run(app: FastAPI, acme: Org, db: Session) -> None:
    busy = acme.clusters[0]
    db.add(ScanRun(org_id=acme.org_id, cluster_id=busy.id, trigger="schedule", status="running",
                   attempts=1, by_kind={}, warnings=[]))  # fmt: skip
    db.commit()
    save(acme.client, {"control_plane.eks.standard": "0.1"})
    assert "2 clusters queued for rescan" in toast_text(acme.client.get(URL).text)
    db.expire_all()
    assert len(db.scalars(select(ScanRun).where(ScanRun.cluster_id == busy.id)).all()) == 1
    assert len(scan_jobs(app)) == 1


def test_saving_nothing_new_changes_nothing(app: FastAPI, acme: Org, db: Session) -> None:
    save(acme.client, {"storage.aws.gp3": "0.07"})
    jobs = len(scan_jobs(app))
    response = save(acme.client, {"storage.aws.gp3": "0.0700", "lb.aws.nlb": ""})
    assert response.status_code == 303
    assert "No prices changed." in toast_text(acme.client.get(URL).text)
    assert len(scan_jobs(app)) == jobs
    assert overrides(db, acme.org_id) == {"storage.aws.gp3": Decimal("0.07")}


def test_emptying_a_field_removes_its_override(acme: Org, db: Session) -> None:
    save(acme.client, {"storage.aws.gp3": "0.07", "storage.aws.gp2": "0.09"})
    save(acme.client, {"storage.aws.gp3": "", "storage.aws.gp2": "0.09"})
    assert overrides(db, acme.org_id) == {"storage.aws.gp2": Decimal("0.09")}


@pytest.mark.parametrize(
    ("typed", "message"),
    [("cheap", "Enter a number, like 0.08."), ("-0.5", "A price cannot be negative."),
     ("5000000", "5,000,000 is more than a million — check the unit, which is USD/GB-month."),
     ("0.0000001", "Use at most 6 decimal places.")],
)  # fmt: skip
def test_an_invalid_value_is_explained_and_nothing_is_saved(
    app: FastAPI, acme: Org, db: Session, typed: str, message: str
) -> None:
    save(acme.client, {"storage.aws.gp3": "0.07"})
    jobs = len(scan_jobs(app))
    response = save(acme.client, {"storage.aws.gp3": typed, "lb.aws.nlb": "0.03"})
    assert response.status_code == 422
    page = response.text
    assert str(escape(message)) in page
    assert "1 price could not be saved, so nothing was changed: storage.aws.gp3 — " in page
    assert input_value(page, "storage.aws.gp3") == typed  # what was typed stays to be fixed
    assert input_value(page, "lb.aws.nlb") == "0.03"
    assert 'aria-invalid="true" aria-describedby="price-storage-aws-gp3-error"' in page
    assert overrides(db, acme.org_id) == {"storage.aws.gp3": Decimal("0.07")}
    assert len(scan_jobs(app)) == jobs


def test_htmx_gets_the_form_block_or_a_redirect(acme: Org, db: Session) -> None:
    token = csrf(acme.client)
    bad = acme.client.submit(URL, {"price:lb.aws.nlb": "x"}, htmx=True, csrf=token)
    assert bad.status_code == 422
    assert "<html" not in bad.text
    assert 'id="prices-form"' in bad.text
    good = acme.client.submit(URL, {"price:lb.aws.nlb": "0.021"}, htmx=True, csrf=token)
    assert good.status_code == 204
    assert good.headers["HX-Redirect"] == URL
    assert overrides(db, acme.org_id) == {"lb.aws.nlb": Decimal("0.021")}


def test_an_unknown_price_id_in_the_form_is_refused(acme: Org, db: Session) -> None:
    response = save(acme.client, {"storage.aws.gp9": "0.1"})
    assert response.status_code == 422
    assert "There is no price called" in response.text
    assert overrides(db, acme.org_id) == {}


# --- reset ----------------------------------------------------------------------------------------


def test_reset_one_and_reset_all(app: FastAPI, acme: Org, db: Session) -> None:
    save(
        acme.client,
        {"storage.aws.gp3": "0.07", "lb.aws.nlb": "0.03", "control_plane.eks.standard": "0.2"},
    )
    jobs = len(scan_jobs(app))
    token = csrf(acme.client)
    response = acme.client.submit(f"{URL}/reset", {"price_id": "lb.aws.nlb"}, csrf=token)
    assert response.status_code == 303
    assert overrides(db, acme.org_id) == {"storage.aws.gp3": Decimal("0.07"),
                                          "control_plane.eks.standard": Decimal("0.2")}  # fmt: skip
    page = acme.client.get(URL).text
    # The first save's scans have not started: they will use the new prices, no second run.
    assert "lb.aws.nlb is back to its default; 2 clusters queued for rescan." in toast_text(page)
    assert len(scan_jobs(app)) == jobs

    db.execute(update(ScanRun).values(status="succeeded"))
    db.commit()
    assert acme.client.submit(f"{URL}/reset-all", csrf=token).status_code == 303
    assert overrides(db, acme.org_id) == {}
    page = acme.client.get(URL).text
    assert "All 2 overrides removed, defaults apply; 2 clusters queued for rescan." in toast_text(
        page
    )
    assert len(scan_jobs(app)) == jobs + 2
    assert "Overridden:" not in page
    again = acme.client.submit(f"{URL}/reset-all", csrf=token)
    assert again.status_code == 303
    assert "No prices were overridden." in toast_text(acme.client.get(URL).text)


def test_an_organisation_without_clusters_has_nothing_to_rescan(
    app: FastAPI, browser: BrowserFactory
) -> None:
    client = browser()
    client.sign_up("solo@example.test", org="Solo")
    assert save(client, {"storage.aws.gp3": "0.07"}).status_code == 303
    assert "Prices saved; no clusters to rescan yet." in toast_text(client.get(URL).text)
    assert scan_jobs(app) == []


def test_resetting_a_price_without_an_override_says_so(acme: Org) -> None:
    acme.client.submit(f"{URL}/reset", {"price_id": "storage.aws.gp3"}, csrf=csrf(acme.client))
    assert "That price already uses its default." in toast_text(acme.client.get(URL).text)


# --- roles ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_members_and_viewers_see_the_page_read_only_and_cannot_change_it(
    app: FastAPI, acme: Org, db: Session, role: str
) -> None:
    save(acme.client, {"storage.aws.gp3": "0.07"})
    jobs = len(scan_jobs(app))
    token = csrf(acme.client)
    set_role(db, acme.org_id, role)
    page = acme.client.get(URL).text
    assert (f"Only owners and admins change prices; your role in Acme is {role}, "
            "so this page is read-only for you.") in page  # fmt: skip
    assert 'name="price:' not in page
    assert 'action="/settings/prices' not in page
    assert "Overridden: 0.07 USD/GB-month" in page
    attempts = [
        (URL, {"price:storage.aws.gp3": "0.01"}),
        (f"{URL}/reset", {"price_id": "storage.aws.gp3"}),
        (f"{URL}/reset-all", {}),
    ]
    for path, data in attempts:
        response = acme.client.submit(path, data, csrf=token)
        assert response.status_code == 403, path
        assert "This needs the admin role or higher in Acme." in response.text
    assert overrides(db, acme.org_id) == {"storage.aws.gp3": Decimal("0.07")}
    assert len(scan_jobs(app)) == jobs


def test_an_admin_may_change_prices(acme: Org, db: Session) -> None:
    set_role(db, acme.org_id, "admin")
    assert save(acme.client, {"storage.aws.gp3": "0.07"}).status_code == 303
    assert overrides(db, acme.org_id) == {"storage.aws.gp3": Decimal("0.07")}


def test_the_page_needs_sign_in(browser: BrowserFactory, acme: Org) -> None:
    anonymous = browser()
    response = anonymous.get(URL, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


# --- tenants --------------------------------------------------------------------------------------


def test_one_organisations_prices_are_invisible_to_another(
    app: FastAPI, browser: BrowserFactory, acme: Org, db: Session
) -> None:
    globex = signed_up(browser, db, "owner@globex.test", "Globex")
    save(acme.client, {"storage.aws.gp3": "0.0611", "lb.gcp.forwarding_rule_extra": "0.0077"})
    page = globex.client.get(URL).text
    assert "0.0611" not in page
    assert "0.0077" not in page
    assert "owner@acme.test" not in page
    assert input_value(page, "storage.aws.gp3") == ""
    assert store.effective_price_book(db, globex.org_id).value("storage.aws.gp3") == 0.08

    # Globex resets everything: Acme's prices and clusters are untouched.
    acme_runs = {r.id for r in db.scalars(select(ScanRun).where(ScanRun.org_id == acme.org_id))}
    globex.client.submit(f"{URL}/reset-all", csrf=csrf(globex.client))
    globex.client.submit(f"{URL}/reset", {"price_id": "storage.aws.gp3"}, csrf=csrf(globex.client))
    assert overrides(db, acme.org_id) == {
        "storage.aws.gp3": Decimal("0.0611"),
        "lb.gcp.forwarding_rule_extra": Decimal("0.0077"),
    }
    save(globex.client, {"storage.aws.gp3": "0.09"})
    db.expire_all()
    assert {
        r.id for r in db.scalars(select(ScanRun).where(ScanRun.org_id == acme.org_id))
    } == acme_runs
    globex_runs = db.scalars(select(ScanRun).where(ScanRun.org_id == globex.org_id)).all()
    assert sorted(r.cluster_id for r in globex_runs) == sorted(c.id for c in globex.clusters)
    assert store.effective_price_book(db, acme.org_id).value("storage.aws.gp3") == 0.0611
    assert store.effective_price_book(db, globex.org_id).value("storage.aws.gp3") == 0.09
