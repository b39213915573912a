"""The cloud accounts service on real databases (SQLite and PostgreSQL), against the fake
Kubernetes API over HTTPS: connect (nothing saved unless the provider accepts), discovery
(upsert, gone, revived, incomplete listings), the worker's discovery outcomes, encryption bound
to the row, cluster credentials, deletion with the scan history, and no secret in logs.

The helpers at the top are shared with ``test_pages.py``."""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.orm import Session

from app.clouds import kubeconfig, service
from app.clouds.base import (
    CredentialsRefused,
    DiscoveredCluster,
    DiscoveryResult,
    ProviderError,
    ProviderUnavailable,
)
from app.clouds.models import CloudAccount, Cluster
from app.config import Settings
from app.crypto import DecryptionFailed
from app.db import session_scope
from app.kube.reader import read_cluster
from app.scans.models import Finding, ScanRun
from tests.accounts.helpers import make_user
from tests.fakes.kube_api import FakeKubeAPI, Fault

TOKEN = "kube-t0ken-of-the-connected-cluster-never-shown"
NODES = [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i}"}} for i in range(3)]

# --- shared helpers ------------------------------------------------------------------------------


def kubeconfig_text(
    api: FakeKubeAPI,
    *,
    token: str = TOKEN,
    cluster: str = "on-prem",
    user: dict[str, Any] | None = None,
) -> str:
    """A kubeconfig for ``api`` with a bearer token (or the given user entry)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": cluster,
                    "cluster": {
                        "server": api.url,
                        "certificate-authority-data": base64.b64encode(api.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": "leftover", "user": user or {"token": token}}],
            "contexts": [{"name": "ctx", "context": {"cluster": cluster, "user": "leftover"}}],
            "current-context": "ctx",
        }
    )


def add_history(app: FastAPI, cluster_id: uuid.UUID, *, findings: int = 2) -> uuid.UUID:
    """A finished scan run of ``cluster_id`` with ``findings`` findings; the run's id."""
    now = datetime.now(UTC)
    with session_scope(app.state.sessionmaker) as db:
        cluster = db.get_one(Cluster, cluster_id)
        run = ScanRun(
            id=uuid.uuid4(),
            org_id=cluster.org_id,
            cluster_id=cluster.id,
            trigger="manual",
            status="succeeded",
            attempts=1,
            by_kind={},
            warnings=[],
        )
        db.add(run)
        db.flush()
        for i in range(findings):
            db.add(
                Finding(
                    org_id=cluster.org_id,
                    cluster_id=cluster.id,
                    scan_run_id=run.id,
                    identity=uuid.uuid4().hex,
                    kind="ConfigMap",
                    api_version="v1",
                    namespace="shop",
                    name=f"unused-{i}",
                    rule="unreferenced",
                    reason="Nothing refers to it.",
                    confidence="high",
                    cascade_from=[],
                    evidence=[],
                    monthly_cost_usd=Decimal(0),
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )
        return run.id


def counts(app: FastAPI) -> dict[str, int]:
    """Rows in each cloud and scan table."""
    with session_scope(app.state.sessionmaker) as db:
        return {
            model.__tablename__: int(db.scalar(select(func.count()).select_from(model)) or 0)
            for model in (CloudAccount, Cluster, ScanRun, Finding)
        }


def raw_ciphertexts(app: FastAPI) -> list[str]:
    """The secret column exactly as stored, read past the ORM."""
    with app.state.engine.connect() as conn:
        rows = conn.execute(text("SELECT secret_ciphertext FROM cloud_accounts")).all()
    return [row[0] for row in rows if row[0] is not None]


def all_database_text(app: FastAPI) -> str:
    """Every value of the cloud and scan tables as one string (to look for a leaked secret)."""
    parts: list[str] = []
    with app.state.engine.connect() as conn:
        for table in ("cloud_accounts", "clusters", "scan_runs", "findings"):
            for row in conn.execute(text(f'SELECT * FROM "{table}"')).all():  # noqa: S608
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(NODES, token=TOKEN, git_version="v1.30.4") as server:
        yield server


@pytest.fixture
def org_id(app: FastAPI) -> uuid.UUID:
    return make_user(app, "owner@example.com", org="Acme")[1]


def connect(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI, **kw: str
) -> uuid.UUID:
    """Connect ``api`` by kubeconfig through the service; the new account's id."""
    parsed = kubeconfig.parse_form({"kubeconfig": kubeconfig_text(api, **kw)})
    with session_scope(app.state.sessionmaker) as db:
        account = service.connect_account(
            db,
            org_id=org_id,
            user_id=None,
            provider="kubeconfig",
            name="On prem",
            parsed=parsed,
            settings=settings,
        )
        return account.id


def found(name: str, **values: Any) -> DiscoveredCluster:
    values.setdefault("endpoint", f"https://{name[:40]}.example.test")
    values.setdefault("region", "eu-west-1")
    return DiscoveredCluster(
        provider="aws",
        external_id=f"arn:aws:eks:eu-west-1:111122223333:cluster/{name}",
        name=name,
        ca_data=b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        **values,
    )


def plain_account(db: Session, org_id: uuid.UUID, *, name: str = "AWS prod") -> CloudAccount:
    account = CloudAccount(
        id=uuid.uuid4(),
        org_id=org_id,
        provider="aws",
        name=name,
        config={"auth": "role", "role_arn": None, "external_id": "x", "regions": []},
        status="connected",
        discovery_warnings=[],
    )
    db.add(account)
    db.flush()
    return account


# --- connect -------------------------------------------------------------------------------------


def test_connect_checks_first_then_stores_the_account_its_clusters_and_queues_scans(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    account_id = connect(app, settings, org_id, api)

    with session_scope(app.state.sessionmaker) as db:
        account = db.get_one(CloudAccount, account_id)
        assert account.status == "connected"
        assert account.secret_changed_at is not None
        assert account.last_discovery_at is not None
        clusters = db.scalars(select(Cluster)).all()
        assert [(c.name, c.node_count, c.kubernetes_version) for c in clusters] == [
            ("on-prem", 3, "v1.30.4")
        ]
        assert clusters[0].external_id == f"kubeconfig:{api.url}"
        assert clusters[0].ca_data == api.ca_pem.decode()
        run = db.scalars(select(ScanRun)).one()
        assert (run.cluster_id, run.trigger, run.status) == (clusters[0].id, "discovery", "queued")
    assert ("scans.run", {"run_id": str(run.id)}) in app.state.sent_jobs
    assert api.count("/version") == 1


def test_refused_credentials_save_nothing_and_leak_nothing(
    app: FastAPI,
    settings: Settings,
    org_id: uuid.UUID,
    api: FakeKubeAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "a-revoked-token-that-must-not-leak"
    with pytest.raises(CredentialsRefused) as refused:
        connect(app, settings, org_id, api, token=wrong)

    assert counts(app) == {"cloud_accounts": 0, "clusters": 0, "scan_runs": 0, "findings": 0}
    assert app.state.sent_jobs == []
    assert refused.value.reason
    for text_ in (refused.value.reason, repr(refused.value), caplog.text):
        assert wrong not in text_


def test_the_secret_is_encrypted_and_bound_to_its_row(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI, db: Session
) -> None:
    first = connect(app, settings, org_id, api)
    second = connect(app, settings, org_id, api)
    assert TOKEN not in all_database_text(app)
    assert all(c.startswith("v1.") for c in raw_ciphertexts(app))

    ring = settings.key_ring()
    a, b = db.get_one(CloudAccount, first), db.get_one(CloudAccount, second)
    assert service.decrypt_secret(a, key_ring=ring) == {"token": TOKEN}
    # The same secret twice: different ciphertexts (fresh nonces).
    assert a.secret_ciphertext != b.secret_ciphertext
    b.secret_ciphertext = a.secret_ciphertext
    with pytest.raises(DecryptionFailed):
        service.decrypt_secret(b, key_ring=ring)
    with pytest.raises(DecryptionFailed):
        service.decrypt_secret(a, key_ring=make_other_ring())


def make_other_ring() -> Any:
    from app.crypto import LocalKeyRing, new_key, parse_keys

    return LocalKeyRing(parse_keys(new_key()))


def test_an_account_without_a_secret_stores_none(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, db: Session
) -> None:
    account = plain_account(db, org_id)
    service.encrypt_secret(account, None, key_ring=settings.key_ring())
    assert account.secret_ciphertext is None
    assert service.decrypt_secret(account, key_ring=settings.key_ring()) is None


def test_encrypting_before_the_row_has_an_id_gives_it_one(settings: Settings) -> None:
    account = CloudAccount(provider="gcp", name="x", config={})
    service.encrypt_secret(account, {"service_account_json": "{}"}, key_ring=settings.key_ring())
    assert account.id is not None
    assert service.decrypt_secret(account, key_ring=settings.key_ring()) == {
        "service_account_json": "{}"
    }


# --- discovery -----------------------------------------------------------------------------------


def test_apply_discovery_upserts_marks_gone_and_revives(
    app: FastAPI, org_id: uuid.UUID, db: Session
) -> None:
    account = plain_account(db, org_id)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)

    first = service.apply_discovery(
        db, account, DiscoveryResult([found("web"), found("batch")]), now=t0
    )
    assert sorted(c.name for c in first.new) == ["batch", "web"]
    web = next(c for c in first.new if c.name == "web")
    db.commit()
    add_history(app, web.id)

    t1 = t0 + timedelta(hours=6)
    second = service.apply_discovery(
        db, account, DiscoveryResult([found("batch", node_count=7)]), now=t1
    )
    assert [c.name for c in second.gone] == ["web"]
    assert [(c.name, c.node_count) for c in second.updated] == [("batch", 7)]
    assert (web.state, web.gone_at) == ("gone", t1)
    db.commit()
    assert counts(app)["scan_runs"] == 1, "a gone cluster keeps its history"
    assert counts(app)["findings"] == 2

    # An incomplete listing (a region could not be read) marks nothing gone.
    third = service.apply_discovery(
        db, account, DiscoveryResult([], warnings=["us-east-1: access denied"]), now=t1
    )
    assert third.gone == []
    assert account.discovery_warnings == ["us-east-1: access denied"]

    t2 = t1 + timedelta(hours=6)
    fourth = service.apply_discovery(
        db, account, DiscoveryResult([found("web"), found("batch")]), now=t2
    )
    assert [c.name for c in fourth.revived] == ["web"]
    assert fourth.new == []
    assert (web.state, web.gone_at, web.last_seen_at) == ("active", None, t2)
    assert web.first_seen_at == t0
    assert account.last_discovery_at == t2
    assert account.discovery_warnings == []
    assert db.scalar(select(func.count()).select_from(Cluster)) == 2


def test_apply_discovery_keeps_odd_values_inside_the_columns(
    org_id: uuid.UUID, db: Session
) -> None:
    account = plain_account(db, org_id)
    long_id = "kubeconfig:https://" + "a" * 600
    twice = found("x" * 300, region="r" * 80, status="S" * 80)
    result = DiscoveryResult(
        [
            twice,
            twice,
            DiscoveredCluster("kubeconfig", long_id, "long", "", None, b"\xff\xfe"),
        ]
    )
    change = service.apply_discovery(db, account, result, now=datetime.now(UTC))
    db.commit()

    assert len(change.new) == 2, "a cluster listed twice is stored once"
    long = next(c for c in change.new if c.name == "long")
    assert long.external_id.startswith("sha256:")
    assert long.ca_data is None
    other = next(c for c in change.new if c.name != "long")
    assert (len(other.name), len(other.region), len(other.cloud_status or "")) == (255, 64, 64)


def test_run_discovery_outcomes(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    factory = app.state.sessionmaker
    account_id = connect(app, settings, org_id, api)

    def account() -> CloudAccount:
        with session_scope(factory) as db:
            return db.get_one(CloudAccount, account_id)

    assert service.run_discovery(factory, str(account_id), settings=settings) == "connected"
    assert account().status == "connected"

    api.inject("/version", Fault.error(404), times=None)
    assert service.run_discovery(factory, str(account_id), settings=settings) == "error"
    assert account().status == "error"
    assert "/version" in (account().status_message or "")

    api.clear_faults()
    api.inject("/version", Fault.error(503), times=None)
    with pytest.raises(ProviderUnavailable):
        service.run_discovery(factory, str(account_id), settings=settings)
    assert account().status == "error", "a transient failure changes nothing"

    api.clear_faults()
    api.token = "rotated-on-the-cluster"
    assert service.run_discovery(factory, str(account_id), settings=settings) == "needs_attention"
    assert account().needs_attention
    assert account().status_message

    assert service.run_discovery(factory, str(uuid.uuid4()), settings=settings) == "missing"
    assert service.run_discovery(factory, "not-an-id", settings=settings) == "missing"


def test_run_discovery_queues_scans_for_new_clusters_only(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    factory = app.state.sessionmaker
    account_id = connect(app, settings, org_id, api)
    with session_scope(factory) as db:
        db.execute(update(ScanRun).values(status="succeeded"))
    before = len(app.state.sent_jobs)

    service.run_discovery(factory, str(account_id), settings=settings)

    assert len(app.state.sent_jobs) == before, "a known cluster is scanned on its schedule"
    assert counts(app)["scan_runs"] == 1


def test_an_undecryptable_secret_needs_attention(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    factory = app.state.sessionmaker
    first = connect(app, settings, org_id, api)
    second = connect(app, settings, org_id, api)
    with session_scope(factory) as db:
        a, b = db.get_one(CloudAccount, first), db.get_one(CloudAccount, second)
        b.secret_ciphertext = a.secret_ciphertext

    assert service.run_discovery(factory, str(second), settings=settings) == "needs_attention"
    with session_scope(factory) as db:
        b = db.get_one(CloudAccount, second)
        assert b.status_message == service.UNDECRYPTABLE
        cluster = db.scalars(select(Cluster).where(Cluster.account_id == second)).one()
        with pytest.raises(CredentialsRefused):
            service.cluster_access_for(db, cluster, settings=settings)


def test_request_discovery_is_sent_after_commit(
    app: FastAPI, org_id: uuid.UUID, db: Session
) -> None:
    account = plain_account(db, org_id)
    service.request_discovery(db, account)
    assert app.state.sent_jobs == []
    db.commit()
    assert app.state.sent_jobs == [("clouds.discover", {"account_id": str(account.id)})]


def test_accounts_due_for_discovery(app: FastAPI, org_id: uuid.UUID, db: Session) -> None:
    now = datetime(2026, 11, 26, 12, tzinfo=UTC)
    never = plain_account(db, org_id, name="never")
    stale = plain_account(db, org_id, name="stale")
    fresh = plain_account(db, org_id, name="fresh")
    refused = plain_account(db, org_id, name="refused")
    failing = plain_account(db, org_id, name="failing")
    stale.last_discovery_at = now - timedelta(hours=7)
    fresh.last_discovery_at = now - timedelta(hours=1)
    refused.last_discovery_at = now - timedelta(days=3)
    refused.status = "needs_attention"
    failing.last_discovery_at = now - timedelta(hours=6)
    failing.status = "error"
    db.commit()

    due = service.accounts_due_for_discovery(db, now=now, interval=timedelta(hours=6))

    assert set(due) == {never.id, stale.id, failing.id}


# --- cluster credentials -------------------------------------------------------------------------


def test_cluster_access_reads_the_cluster_with_the_stored_token(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    connect(app, settings, org_id, api)
    with session_scope(app.state.sessionmaker) as db:
        cluster = db.scalars(select(Cluster)).one()
        access = service.cluster_access_for(db, cluster, settings=settings)

    assert access.server == api.url
    assert TOKEN not in repr(access)
    snapshot = read_cluster(access)
    assert len(snapshot.nodes) == 3


def test_a_provider_error_on_connect_is_plain_and_saves_nothing(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    api.inject("/version", Fault.error(404), times=None)
    with pytest.raises(ProviderError) as failed:
        connect(app, settings, org_id, api)
    assert "Kubernetes API server" in failed.value.reason
    assert counts(app)["cloud_accounts"] == 0


# --- deletion ------------------------------------------------------------------------------------


def test_delete_account_takes_its_clusters_runs_and_findings(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    doomed = connect(app, settings, org_id, api)
    kept = connect(app, settings, org_id, api)
    factory = app.state.sessionmaker
    with session_scope(factory) as db:
        clusters = {c.account_id: c.id for c in db.scalars(select(Cluster))}
    add_history(app, clusters[doomed], findings=3)
    add_history(app, clusters[kept], findings=1)

    with session_scope(factory) as db:
        account = db.get_one(CloudAccount, doomed)
        scope = service.deletion_scope(db, account)
        assert (scope.clusters, scope.scan_runs, scope.findings) == (1, 2, 3)
        service.delete_account(db, account)

    # Two runs each: the discovery's queued scan and the added history.
    assert counts(app) == {"cloud_accounts": 1, "clusters": 1, "scan_runs": 2, "findings": 1}
    with session_scope(factory) as db:
        assert db.get(CloudAccount, kept) is not None
        assert db.scalars(select(Cluster.account_id)).all() == [kept]


def test_two_discoveries_racing_for_a_new_cluster_both_succeed(
    app: FastAPI, settings: Settings, org_id: uuid.UUID, api: FakeKubeAPI
) -> None:
    """A duplicate message runs two discoveries at once: the one that inserts second sees the
    unique (account, external id) refuse it, and saves again as an update."""
    factory = app.state.sessionmaker
    account_id = connect(app, settings, org_id, api)
    with session_scope(factory) as db:
        db.execute(update(ScanRun).values(status="succeeded"))
        db.execute(delete(Cluster))
    raced: list[uuid.UUID] = []

    def other_worker_first(session: Session, _context: Any, _instances: Any) -> None:
        new = [c for c in session.new if isinstance(c, Cluster)]
        if new and not raced:
            raced.append(new[0].id)
            with session_scope(factory) as other:
                other.add(
                    Cluster(
                        org_id=new[0].org_id,
                        account_id=new[0].account_id,
                        provider=new[0].provider,
                        external_id=new[0].external_id,
                        name="seen by the other worker",
                        first_seen_at=new[0].first_seen_at,
                        last_seen_at=new[0].last_seen_at,
                        details={},
                    )
                )

    event.listen(Session, "before_flush", other_worker_first)
    try:
        outcome = service.run_discovery(factory, str(account_id), settings=settings)
    finally:
        event.remove(Session, "before_flush", other_worker_first)

    assert outcome == "connected"
    assert raced
    with session_scope(factory) as db:
        cluster = db.scalars(select(Cluster)).one()
        assert cluster.id != raced[0], "the other worker's row is kept and updated"
        assert cluster.name == "on-prem"
