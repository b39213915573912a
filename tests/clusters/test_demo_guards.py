"""A demo organisation's clusters and accounts are generated: nothing offers to scan or look
them up, a forged request queues nothing, and saved prices queue no rescans."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import Organisation
from app.clusters.routes import DEMO_NOT_SCANNED
from app.scans.models import ScanRun
from tests.conftest import BrowserFactory
from tests.factories import add_account, add_cluster, org_id_of


def test_demo_clusters_are_never_scanned_or_looked_up(
    app: FastAPI, browser: BrowserFactory, db: Session
) -> None:
    client = browser()
    client.sign_up("owner@acme.test", org="Acme")
    org_id = org_id_of(db, "owner@acme.test")
    db.execute(update(Organisation).where(Organisation.id == org_id).values(is_demo=True))
    account = add_account(db, org_id, "Demo AWS")
    cluster = add_cluster(db, account, "prod-eu-checkout")
    db.commit()

    page = client.get(f"/clusters/{cluster.id}").text
    assert DEMO_NOT_SCANNED in page
    assert f'action="/clusters/{cluster.id}/scan"' not in page
    assert "Demo organisation" in page, "the banner says the data is generated"

    client.submit(f"/clusters/{cluster.id}/scan", csrf=client.csrf(f"/clusters/{cluster.id}"))
    assert DEMO_NOT_SCANNED in client.get(f"/clusters/{cluster.id}").text
    client.submit(
        f"/cloud-accounts/{account.id}/refresh", csrf=client.csrf(f"/cloud-accounts/{account.id}")
    )
    assert "nothing to look up" in client.get(f"/cloud-accounts/{account.id}").text

    saved = client.submit(
        "/settings/prices", {"price:lb.aws.nlb": "0.03"}, csrf=client.csrf("/settings/prices")
    )
    assert saved.status_code == 303
    assert "keep their costs" in client.get("/settings/prices").text

    db.expire_all()
    assert db.scalars(select(ScanRun).where(ScanRun.cluster_id == cluster.id)).all() == []
    assert [name for name, _ in app.state.sent_jobs if name != "mail.deliver"] == []
