"""Fixtures for the scan pipeline: a fake cluster, a kubeconfig account pointing at it, runs.

Clusters are created the way a kubeconfig upload stores them (plain config, the token sealed
by ``app.clouds.service.encrypt_secret``), so the pipeline reads them through the real
``cluster_access_for`` and the real kubeconfig adapter, and talks HTTPS to ``FakeKubeAPI``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.accounts.models import Organisation
from app.clouds.models import AccountStatus, CloudAccount, Cluster, ClusterState, Provider
from app.clouds.service import encrypt_secret
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope, utcnow
from app.scans.models import Finding, ScanRun, ScanTrigger
from app.scans.service import queue_scan
from tests.fakes.kube_api import FakeKubeAPI
from tests.ops.conftest import spawn

__all__ = ["spawn"]  # the worker tests start `leftover worker` processes through it

TOKEN = "scan-t0ken-7f3a9c-never-shown"
Sent = list[tuple[str, dict[str, Any]]]


def cluster_objects(config_maps: Iterable[str] = ("unused-a", "unused-b")) -> list[dict[str, Any]]:
    """A small cluster: a running app using one ConfigMap, an unused 100 GiB gp3 volume ($8 a
    month), and one unused ConfigMap per name in ``config_maps``."""
    container = {"name": "c", "image": "nginx", "envFrom": [{"configMapRef": {"name": "used"}}]}
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "node-1",
                "labels": {
                    "node.kubernetes.io/instance-type": "m5.large",
                    "topology.kubernetes.io/region": "us-east-1",
                },
            },
            "spec": {"providerID": "aws:///us-east-1a/i-0123"},
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [container]}}},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": "shop"},
            "spec": {"nodeName": "node-1", "containers": [container]},
            "status": {"phase": "Running"},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "used", "namespace": "shop"},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data", "namespace": "shop"},
            "spec": {
                "storageClassName": "gp3",
                "resources": {"requests": {"storage": "100Gi"}},
                "volumeName": "pv-1",
            },
            "status": {"phase": "Bound", "capacity": {"storage": "100Gi"}},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": "pv-1"},
            "spec": {
                "capacity": {"storage": "100Gi"},
                "storageClassName": "gp3",
                "claimRef": {"name": "data", "namespace": "shop"},
                "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-1"},
            },
            "status": {"phase": "Bound"},
        },
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "gp3"},
            "provisioner": "ebs.csi.aws.com",
            "parameters": {"type": "gp3"},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db-password", "namespace": "shop"},
            "type": "Opaque",
            "data": {"password": "aHVudGVyMi1zZWNyZXQtdmFsdWU="},
        },
    ]
    for name in config_maps:
        objects.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "shop"},
            }
        )
    return objects


@dataclass(frozen=True)
class ClusterRef:
    org_id: uuid.UUID
    account_id: uuid.UUID
    cluster_id: uuid.UUID


@pytest.fixture
def sent() -> Sent:
    return []


@pytest.fixture
def factory(settings: Settings, sent: Sent) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test database whose jobs are recorded in ``sent`` instead of a broker."""
    engine = make_engine(settings.database)
    made = make_sessionmaker(engine)
    made.configure(info=jobs.sender_info(lambda name, kwargs: sent.append((name, kwargs))))
    yield made
    engine.dispose()


@pytest.fixture
def api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(cluster_objects(), token=TOKEN) as served:
        yield served


def add_cluster(
    factory: sessionmaker[Session],
    settings: Settings,
    api: FakeKubeAPI,
    *,
    token: str = TOKEN,
    server: str | None = None,
) -> ClusterRef:
    """An organisation with a kubeconfig account for ``api`` and its one cluster."""
    server = server or api.url
    now = utcnow()
    with session_scope(factory) as session:
        org = Organisation(id=uuid.uuid4(), name="Acme")
        session.add(org)
        account = CloudAccount(
            id=uuid.uuid4(),
            org_id=org.id,
            provider=Provider.kubeconfig.value,
            name="fake cluster",
            config={
                "server": server,
                "context": "fake",
                "cluster_name": "fake",
                "ca_data": api.ca_pem.decode(),
            },
            status=AccountStatus.connected.value,
            discovery_warnings=[],
        )
        encrypt_secret(account, {"token": token}, key_ring=settings.key_ring())
        account.secret_changed_at = now
        session.add(account)
        session.flush()
        cluster = Cluster(
            id=uuid.uuid4(),
            org_id=org.id,
            account_id=account.id,
            provider=Provider.kubeconfig.value,
            external_id=f"kubeconfig:{server}",
            name="fake",
            region="",
            endpoint=server,
            ca_data=api.ca_pem.decode(),
            details={},
            state=ClusterState.active.value,
            first_seen_at=now,
            last_seen_at=now,
        )
        session.add(cluster)
        return ClusterRef(org_id=org.id, account_id=account.id, cluster_id=cluster.id)


def repoint(
    factory: sessionmaker[Session],
    settings: Settings,
    ref: ClusterRef,
    api: FakeKubeAPI,
    *,
    token: str = TOKEN,
) -> None:
    """Point the account at ``api`` (same URL, new CA or token), as a re-upload would."""
    with session_scope(factory) as session:
        account = session.get_one(CloudAccount, ref.account_id)
        account.config = {**account.config, "ca_data": api.ca_pem.decode()}
        encrypt_secret(account, {"token": token}, key_ring=settings.key_ring())
        session.execute(
            update(Cluster).where(Cluster.id == ref.cluster_id).values(ca_data=api.ca_pem.decode())
        )


def queue(
    factory: sessionmaker[Session], ref: ClusterRef, trigger: ScanTrigger = ScanTrigger.manual
) -> uuid.UUID:
    """Queue a scan of the cluster and return its run id."""
    with session_scope(factory) as session:
        run = queue_scan(session, session.get_one(Cluster, ref.cluster_id), trigger=trigger)
        assert run is not None
        return run.id


def load_run(factory: sessionmaker[Session], run_id: uuid.UUID) -> ScanRun:
    with factory() as session:
        return session.get_one(ScanRun, run_id)


def findings(factory: sessionmaker[Session], ref: ClusterRef) -> dict[str, Finding]:
    """The cluster's current findings by "Kind namespace/name"."""
    with factory() as session:
        rows = session.scalars(select(Finding).where(Finding.cluster_id == ref.cluster_id))
        return {f"{f.kind} {f.namespace or ''}/{f.name}": f for f in rows}


def published(factory: sessionmaker[Session], ref: ClusterRef) -> dict[str, tuple[Any, ...]]:
    """What the pages would show of each finding: which row, from which run, last seen when."""
    return {
        key: (f.id, f.scan_run_id, f.last_seen_at, f.monthly_cost_usd)
        for key, f in findings(factory, ref).items()
    }


def set_run(factory: sessionmaker[Session], run_id: uuid.UUID, **values: Any) -> None:
    with session_scope(factory) as session:
        session.execute(update(ScanRun).where(ScanRun.id == run_id).values(**values))


AddCluster = Callable[..., ClusterRef]
