"""End to end, the way a user meets it: PostgreSQL, Redis and a real Celery worker process.

Through the web app a signed-up owner connects one account of each kind — an AWS role (with the
ExternalId the page generated), a GCP service-account key, an Azure service principal and a
kubeconfig cluster. Each connection's discovery finds its cluster, a scan of every new cluster
goes to the worker over Redis, the worker mints that provider's short-lived cluster credential
(presigned STS token, Google OAuth token, Entra ID token, the kubeconfig's token), reads the
cluster, and publishes. Each cluster page then shows its findings and a succeeded scan; "Scan
now" runs a second scan whose status block polls until it ends and then stops.

Every cluster is a simulated EKS/GKE/AKS cluster (tests/clusters) with known waste, served by its
own FakeKubeAPI that accepts only its provider's minted tokens; the clouds are the fakes in
tests/fakes. Waits poll the database and the pages; nothing is timed.
"""

from __future__ import annotations

import base64
import contextlib
import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.clouds.models import CloudAccount, Cluster
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.main import create_app
from app.scans.models import Finding, ScanRun
from tests.clusters.platforms import PLATFORMS
from tests.clusters.waste import Expected, add_all_waste
from tests.conftest import (
    REDIS_HOST,
    REDIS_PORT,
    REPO,
    Browser,
    empty_all_tables,
    make_settings,
    reachable,
    skip_or_fail,
)
from tests.fakes.aws import AWS_ENV_CLEARED, FakeAWS, eks_token_checker, leftover_aws_env
from tests.fakes.azure import (
    AKS_SERVER_APP_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    FakeAKS,
    FakeAzure,
)
from tests.fakes.gcp import FakeCluster, FakeGCP
from tests.fakes.kube_api import FakeKubeAPI
from tests.ops.conftest import child_env, stop, wait_until

pytestmark = pytest.mark.services

SCAN_TIMEOUT = 300  # seconds: worker start-up, then four scans (generous for a slow CI machine)
HX = {"HX-Request": "true"}
POLL = 'hx-trigger="every 2s"'

LEFTOVER_KEY = "AKIALEFTOVERE2EKEY01"  # Leftover's own AWS identity (the default chain)
LEFTOVER_SECRET = "LeftoverE2eSecret/" + "e" * 22
PRINCIPAL = "arn:aws:iam::999988887777:role/leftover-service"
ROLE_ARN = "arn:aws:iam::444455556666:role/LeftoverReadOnly"
PROJECT = "analytics-4821"
SUBSCRIPTION = "22222222-bbbb-4bbb-8bbb-222222222222"
KUBE_TOKEN = "e2e-kubeconfig-token-never-logged"
EXTERNAL_ID = re.compile(r'name="external_id" value="([^"]+)"')
SIGNATURE = re.compile(r'name="external_id_signature" value="([^"]+)"')
AWS_ENV = leftover_aws_env(LEFTOVER_KEY, LEFTOVER_SECRET)


@dataclass
class Served:
    """One simulated cluster behind its own fake API server, with the waste it must show."""

    provider: str
    name: str
    api: FakeKubeAPI
    expected: list[Expected]


def simulated(platform: str, now: datetime) -> tuple[list[dict[str, Any]], list[Expected]]:
    """A settled cluster of ``platform`` with every waste pattern added; (objects, expected)."""
    cluster = PLATFORMS[platform](now)
    waste = add_all_waste(cluster)
    return cluster.to_objects(), waste.expected


@dataclass
class Clouds:
    aws: FakeAWS
    gcp: FakeGCP
    azure: FakeAzure
    served: dict[str, Served]  # by provider


@pytest.fixture
def clouds() -> Iterator[Clouds]:
    """The three fake clouds, and one served cluster per provider (the kubeconfig one too)."""
    now = datetime.now(UTC).replace(microsecond=0)
    with contextlib.ExitStack() as stack:
        aws = stack.enter_context(FakeAWS(keys={LEFTOVER_KEY: LEFTOVER_SECRET}, roles={}))
        gcp = stack.enter_context(FakeGCP())
        azure = stack.enter_context(FakeAzure(subscriptions={}))
        served: dict[str, Served] = {}

        objects, expected = simulated("eks", now)
        checker = eks_token_checker("shop-prod", sts_host=aws.host, aws=aws)
        api = stack.enter_context(FakeKubeAPI(objects, token=None, accept_token=checker))
        aws.add_cluster("shop-prod", "eu-west-1", endpoint=api.url, ca_pem=api.ca_pem)
        served["aws"] = Served("aws", "shop-prod", api, expected)

        objects, expected = simulated("gke", now)
        api = stack.enter_context(
            FakeKubeAPI(objects, token=None, accept_token=gcp.token_checker())
        )
        gcp.add_cluster(PROJECT, FakeCluster.serving("analytics", api))
        served["gcp"] = Served("gcp", "analytics", api, expected)

        objects, expected = simulated("aks", now)
        api = stack.enter_context(
            FakeKubeAPI(objects, token=None, accept_token=azure.token_checker(AKS_SERVER_APP_ID))
        )
        aks = FakeAKS(
            "payments",
            "rg-payments",
            server=api.url,
            ca_pem=api.ca_pem,
            aad=True,
            local_accounts_disabled=True,
        )
        azure.subscriptions = {SUBSCRIPTION: [aks]}
        served["azure"] = Served("azure", "payments", api, expected)

        objects, expected = simulated("eks", now)
        api = stack.enter_context(FakeKubeAPI(objects, token=KUBE_TOKEN))
        served["kubeconfig"] = Served("kubeconfig", "basement", api, expected)

        yield Clouds(aws=aws, gcp=gcp, azure=azure, served=served)


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database of its own (so a parallel run's workers cannot take these jobs)."""
    if not reachable(REDIS_HOST, REDIS_PORT):
        skip_or_fail(f"Redis on {REDIS_HOST}:{REDIS_PORT}")
    import redis

    url = f"redis://{REDIS_HOST}:{REDIS_PORT}/{random.randint(1, 15)}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


@pytest.fixture
def postgres(migrated_postgres: str) -> Iterator[str]:
    """The session's migrated PostgreSQL database, empty before and after."""
    empty_all_tables(migrated_postgres)
    yield migrated_postgres
    empty_all_tables(migrated_postgres)


@pytest.fixture
def settings(tmp_path: Path, postgres: str, redis_url: str, clouds: Clouds) -> Settings:
    return make_settings(
        tmp_path,
        database_url=postgres,
        redis_url=redis_url,
        aws_principal_arn=PRINCIPAL,
        aws_endpoint_url=clouds.aws.url,
        gcp_container_endpoint=clouds.gcp.url,
        gcp_token_uri=clouds.gcp.token_uri,
        azure_management_endpoint=clouds.azure.url,
        azure_authority=clouds.azure.url,
        cloud_ca_bundle=str(clouds.azure.ca_file),
        cloud_timeout_seconds=10.0,
        allow_private_endpoints=True,
    )


def worker_env(settings: Settings) -> dict[str, str]:
    """The worker sees the same database, broker and cloud endpoints as the web app."""
    env = child_env(
        settings,
        LEFTOVER_AWS_PRINCIPAL_ARN=settings.aws_principal_arn,
        LEFTOVER_AWS_ENDPOINT_URL=str(settings.aws_endpoint_url),
        LEFTOVER_GCP_CONTAINER_ENDPOINT=str(settings.gcp_container_endpoint),
        LEFTOVER_GCP_TOKEN_URI=str(settings.gcp_token_uri),
        LEFTOVER_AZURE_MANAGEMENT_ENDPOINT=str(settings.azure_management_endpoint),
        LEFTOVER_AZURE_AUTHORITY=str(settings.azure_authority),
        LEFTOVER_CLOUD_CA_BUNDLE=str(settings.cloud_ca_bundle),
        LEFTOVER_CLOUD_TIMEOUT_SECONDS=str(settings.cloud_timeout_seconds),
        LEFTOVER_ALLOW_PRIVATE_ENDPOINTS="true",
        **AWS_ENV,
    )
    for name in AWS_ENV_CLEARED:
        env.pop(name, None)
    return env


@contextlib.contextmanager
def worker(settings: Settings, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``leftover worker`` as a child process in its own group, always stopped afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker", "--concurrency", "2"],
            cwd=settings.data_dir,
            env={**worker_env(settings), "PYTHONPATH": str(REPO)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        stop(proc, timeout=30)


@pytest.fixture
def web(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[FastAPI]:
    """The web app on the same settings, sending its jobs to Redis for real."""
    for name in AWS_ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


# --- connecting through the pages ---------------------------------------------------------------


def kubeconfig_text(served: Served) -> str:
    """A kubeconfig with a static token for the served cluster (what a user would upload)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": served.name,
                    "cluster": {
                        "server": served.api.url,
                        "certificate-authority-data": base64.b64encode(served.api.ca_pem).decode(),
                    },
                }
            ],
            "users": [{"name": "leftover", "user": {"token": KUBE_TOKEN}}],
            "contexts": [{"name": "lab", "context": {"cluster": served.name, "user": "leftover"}}],
            "current-context": "lab",
        }
    )


def connected(client: Browser, response: httpx.Response) -> str:
    """The new account's page after a successful connect (which must have found 1 cluster)."""
    location = response.headers.get("location", "")
    assert response.status_code == 303, response.text[-3000:]
    assert re.fullmatch(r"/cloud-accounts/[0-9a-f-]{36}", location), location
    page = client.get(location).text
    assert "Connected — 1 cluster found." in page, page[-3000:]
    return location


def connect_everything(client: Browser, clouds: Clouds) -> dict[str, str]:
    """Connect one account of each kind through the pages; the GCP key (to look for leaks)."""
    # AWS: the page generates the ExternalId; the customer puts it in the role's trust policy.
    page = client.get("/cloud-accounts/new", params={"provider": "aws"}).text
    external_id, signature = EXTERNAL_ID.search(page), SIGNATURE.search(page)
    assert external_id, page[-3000:]
    assert signature
    clouds.aws.roles[ROLE_ARN] = external_id.group(1)
    aws_form = {
        "provider": "aws",
        "name": "Shop AWS",
        "auth": "role",
        "role_arn": ROLE_ARN,
        "regions": "eu-west-1",
        "external_id": external_id.group(1),
        "external_id_signature": signature.group(1),
    }
    connected(client, client.submit("/cloud-accounts", aws_form))
    assert [a.external_id for a in clouds.aws.assumed] == [external_id.group(1)]

    key = clouds.gcp.new_service_account(PROJECT)
    gcp_form = {
        "provider": "gcp",
        "name": "Analytics GCP",
        "service_account_json": json.dumps(key),
        "project_ids": PROJECT,
    }
    connected(client, client.submit("/cloud-accounts", gcp_form))

    azure_form = {
        "provider": "azure",
        "name": "Payments Azure",
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "subscription_ids": SUBSCRIPTION,
    }
    connected(client, client.submit("/cloud-accounts", azure_form))

    kube_form = {
        "provider": "kubeconfig",
        "name": "Basement",
        "kubeconfig": kubeconfig_text(clouds.served["kubeconfig"]),
    }
    connected(client, client.submit("/cloud-accounts", kube_form))
    return key


# --- reading back -------------------------------------------------------------------------------


def clusters_by_provider(factory: sessionmaker[Session]) -> dict[str, Cluster]:
    with factory() as session:
        rows = list(session.scalars(select(Cluster)))
        session.expunge_all()
    return {c.provider: c for c in rows}


def runs_of(factory: sessionmaker[Session], cluster: Cluster) -> list[ScanRun]:
    with factory() as session:
        rows = list(
            session.scalars(
                select(ScanRun)
                .where(ScanRun.cluster_id == cluster.id)
                .order_by(ScanRun.created_at.desc())
            )
        )
        session.expunge_all()
    return rows


def findings_of(
    factory: sessionmaker[Session], cluster: Cluster
) -> set[tuple[str, str | None, str]]:
    with factory() as session:
        rows = session.scalars(select(Finding).where(Finding.cluster_id == cluster.id))
        return {(f.kind, f.namespace, f.name) for f in rows}


def all_finished(factory: sessionmaker[Session], clusters: list[Cluster], *, runs: int) -> bool:
    for cluster in clusters:
        found = runs_of(factory, cluster)
        if len(found) < runs or found[0].status not in ("succeeded", "failed"):
            return False
    return True


def describe_runs(factory: sessionmaker[Session], clusters: list[Cluster]) -> str:
    lines = []
    for cluster in clusters:
        for run in runs_of(factory, cluster):
            lines.append(f"{cluster.provider} {cluster.name}: {run.status} {run.error or ''}")
    return "\n".join(lines)


def test_connect_discover_scan_and_show_findings_for_every_provider(
    web: FastAPI, settings: Settings, clouds: Clouds, tmp_path: Path
) -> None:
    engine = make_engine(settings.database)
    factory = make_sessionmaker(engine)
    log = tmp_path / "worker.log"
    try:
        with worker(settings, log) as proc, Browser(web, base_url="http://testserver") as client:
            client.sign_up("owner@e2e.test", org="E2E Org")
            gcp_key = connect_everything(client, clouds)

            # Discovery found one cluster per account, and queued a scan of each.
            clusters = clusters_by_provider(factory)
            assert sorted(clusters) == ["aws", "azure", "gcp", "kubeconfig"]
            for provider, cluster in clusters.items():
                assert cluster.name == clouds.served[provider].name
                assert [r.trigger for r in runs_of(factory, cluster)] == ["discovery"]

            done = wait_until(
                lambda: all_finished(factory, list(clusters.values()), runs=1),
                SCAN_TIMEOUT,
                interval=1.0,
            )
            worker_log = log.read_text(errors="replace")
            assert done, describe_runs(factory, list(clusters.values())) + worker_log[-4000:]
            assert proc.poll() is None, worker_log[-4000:]
            report = describe_runs(factory, list(clusters.values())) + "\n" + worker_log[-4000:]
            for cluster in clusters.values():
                assert runs_of(factory, cluster)[0].status == "succeeded", report

            listing = client.get("/clusters").text
            for mark in (">AWS<", ">GCP<", ">Azure<", ">K8s<"):
                assert mark in listing
            pages = [listing]
            for provider, cluster in clusters.items():
                served = clouds.served[provider]
                assert f'href="/clusters/{cluster.id}"' in listing
                pages.append(assert_cluster_page(client, factory, cluster, served))

            scan_again_and_poll(client, factory, clusters["gcp"], clouds.served["gcp"])

            worker_log = log.read_text(errors="replace")
        private_lines = [ln for ln in gcp_key["private_key"].splitlines() if "-----" not in ln]
        for secret in (CLIENT_SECRET, KUBE_TOKEN, LEFTOVER_SECRET, *private_lines):
            assert secret not in worker_log
            assert not [page for page in pages if secret in page]
        with factory() as session:
            account_names = set(session.scalars(select(CloudAccount.name)))
        assert account_names == {"Shop AWS", "Analytics GCP", "Payments Azure", "Basement"}
    finally:
        engine.dispose()


def assert_cluster_page(
    client: Browser, factory: sessionmaker[Session], cluster: Cluster, served: Served
) -> str:
    """The cluster page shows every expected leftover, and a succeeded discovery scan."""
    stored = findings_of(factory, cluster)
    missing = [e.ref for e in served.expected if e.ref not in stored]
    assert not missing, f"{served.provider}: not found {missing[:5]}"
    page = client.get(f"/clusters/{cluster.id}")
    assert page.status_code == 200
    html = page.text
    findings = html[html.index('id="findings-title"') : html.index('id="history-title"')]
    for expected in served.expected:
        assert f">{expected.name}<" in findings or f">{expected.name} <" in findings, (
            served.provider,
            expected.ref,
        )
    assert f">{len(stored):,}<" in findings, "the headline count is the stored one"
    history = html[html.index('id="history-title"') :]
    assert "Succeeded" in history
    assert "New cluster found" in history  # discovery's trigger, in words
    assert "Failed" not in history
    assert POLL not in html, "nothing is running, nothing polls"
    return html


def scan_again_and_poll(
    client: Browser, factory: sessionmaker[Session], cluster: Cluster, served: Served
) -> None:
    """ "Scan now" queues a second run; its status block polls until it ends, then stops and
    tells the page to refresh; the findings keep their identity across the two scans."""
    before = findings_of(factory, cluster)
    url = f"/clusters/{cluster.id}"
    assert client.submit(f"{url}/scan").status_code == 303
    runs = runs_of(factory, cluster)
    assert [r.trigger for r in runs] == ["manual", "discovery"]
    status_url = f"{url}/scans/{runs[0].id}"

    answers: list[httpx.Response] = []

    def finished() -> bool:
        answer = client.get(status_url, headers=HX)
        assert answer.status_code == 200
        answers.append(answer)
        return POLL not in answer.text

    assert wait_until(finished, SCAN_TIMEOUT, interval=1.0), answers[-1].text
    last = answers[-1]
    assert "scan-finished" in last.headers["HX-Trigger"]
    assert "Succeeded" in last.text, last.text
    assert all(POLL in a.text for a in answers[:-1]), "it polled while the scan was active"
    assert runs_of(factory, cluster)[0].status == "succeeded"
    assert findings_of(factory, cluster) == before
    history = client.get(url).text
    history = history[history.index('id="history-title"') :]
    assert history.count("Succeeded") == 2
