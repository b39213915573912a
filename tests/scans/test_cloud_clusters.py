"""A cloud cluster through the whole pipeline: a GKE account connected through the clouds
service (discovery against a fake Google), its discovery-triggered scan reading the fake API
server with a freshly minted OAuth token; then the token endpoint down (retried) and the
service account revoked (failed, account needs attention)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Organisation
from app.clouds import gcp
from app.clouds.models import AccountStatus, CloudAccount, Cluster
from app.clouds.service import connect_account
from app.config import Settings
from app.db import session_scope
from app.scans.models import ScanRun, ScanStatus, ScanTrigger
from app.scans.service import Outcome, TransientScanError, run_scan
from tests.fakes.gcp import FakeCluster, FakeGCP
from tests.fakes.kube_api import FakeKubeAPI
from tests.scans.conftest import ClusterRef, Sent, cluster_objects, findings, load_run

PROJECT = "shop-prod"


@dataclass(frozen=True)
class Gke:
    google: FakeGCP
    kube: FakeKubeAPI
    settings: Settings
    key: dict[str, str]


@pytest.fixture
def gke(settings: Settings) -> Iterator[Gke]:
    with (
        FakeGCP() as google,
        FakeKubeAPI(cluster_objects(), token=None, accept_token=google.token_checker()) as kube,
    ):
        google.add_cluster(PROJECT, FakeCluster.serving("web", kube))
        pointed = settings.model_copy(
            update={
                "gcp_container_endpoint": google.url,
                "gcp_token_uri": google.token_uri,
                "cloud_timeout_seconds": 5.0,
            }
        )
        yield Gke(google, kube, pointed, google.new_service_account(PROJECT))


def _connect(factory: sessionmaker[Session], gke: Gke) -> tuple[ClusterRef, uuid.UUID]:
    """Connect the account as the page does; return its cluster and the scan discovery queued."""
    parsed = gcp.parse_form({"service_account_json": json.dumps(gke.key), "project_ids": ""})
    with session_scope(factory) as session:
        org = Organisation(id=uuid.uuid4(), name="Acme")
        session.add(org)
        session.flush()
        account = connect_account(
            session,
            org_id=org.id,
            user_id=None,
            provider="gcp",
            name="Google",
            parsed=parsed,
            settings=gke.settings,
        )
        cluster = session.scalars(select(Cluster).where(Cluster.account_id == account.id)).one()
        run = session.scalars(select(ScanRun).where(ScanRun.cluster_id == cluster.id)).one()
        assert run.trigger == ScanTrigger.discovery
        return ClusterRef(org.id, account.id, cluster.id), run.id


def test_a_discovered_gke_cluster_is_scanned_with_a_minted_token(
    factory: sessionmaker[Session], gke: Gke, sent: Sent
) -> None:
    ref, run_id = _connect(factory, gke)
    assert sent == [("scans.run", {"run_id": str(run_id)})]
    assert run_scan(factory, str(run_id), settings=gke.settings) == Outcome.succeeded
    assert gke.kube.requests
    assert all(r.status == 200 for r in gke.kube.requests), "every request carried a live token"
    assert "PersistentVolumeClaim shop/data" in findings(factory, ref)
    assert gke.key["private_key"] not in repr(vars(load_run(factory, run_id)))


def test_an_unreachable_token_endpoint_is_retried(factory: sessionmaker[Session], gke: Gke) -> None:
    ref, run_id = _connect(factory, gke)
    gke.google.stop()
    with pytest.raises(TransientScanError):
        run_scan(factory, str(run_id), settings=gke.settings)
    run = load_run(factory, run_id)
    assert (run.status, run.attempts) == (ScanStatus.queued, 1)
    assert run.error is not None
    assert "token endpoint" in run.error
    assert gke.kube.requests == []
    with factory() as session:
        assert session.get_one(CloudAccount, ref.account_id).status == AccountStatus.connected


def test_a_revoked_service_account_fails_the_scan_and_the_account_needs_attention(
    factory: sessionmaker[Session], gke: Gke, sent: Sent
) -> None:
    ref, run_id = _connect(factory, gke)
    gke.google.revoke(gke.key["client_email"])
    assert run_scan(factory, str(run_id), settings=gke.settings) == Outcome.failed
    run = load_run(factory, run_id)
    assert (run.status, run.attempts) == (ScanStatus.failed, 1)
    assert run.error is not None
    assert gke.key["client_email"] in run.error
    assert gke.key["private_key"] not in run.error
    assert len(sent) == 1, "not retried"
    with factory() as session:
        account = session.get_one(CloudAccount, ref.account_id)
        assert account.status == AccountStatus.needs_attention
        assert account.status_message == f"Cluster web: {run.error}"
    assert findings(factory, ref) == {}
