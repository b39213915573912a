"""The Azure adapter against a fake Entra ID + ARM over HTTPS, and fake AKS API servers.

Everything is real HTTP: azure-identity signs in to the fake authority, the ARM SDK lists and
fetches kubeconfigs from the fake ARM, and the cluster reader reads the fake Kubernetes API with
the credentials the adapter minted.
"""

from __future__ import annotations

import logging
import stat
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.clouds import azure
from app.clouds.base import (
    CloudError,
    CredentialsRefused,
    DiscoveredCluster,
    Endpoints,
    InvalidCredentials,
    ProviderError,
    ProviderUnavailable,
)
from app.kube.reader import RetryPolicy, read_cluster
from tests.conftest import free_port
from tests.fakes.azure import (
    AKS_SERVER_APP_ID,
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    FakeAKS,
    FakeAzure,
)
from tests.fakes.kube_api import FakeKubeAPI

SUB_A = "11111111-aaaa-4aaa-8aaa-111111111111"
SUB_B = "22222222-bbbb-4bbb-8bbb-222222222222"
SUB_GONE = "33333333-cccc-4ccc-8ccc-333333333333"
LOCAL_TOKEN = "local-account-token-4f9a"
CONFIG = {"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "subscription_ids": [SUB_A, SUB_B]}
SECRET = {"client_secret": CLIENT_SECRET}
FAST = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01, max_retry_after=1.0)

OBJECTS: list[dict[str, Any]] = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "aks-pool0-1"}},
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
        "data": {"k": "v"},
    },
    {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "shop"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]},
        "status": {"phase": "Running"},
    },
]


def _clusters(count: int, resource_group: str, **fields: Any) -> list[FakeAKS]:
    return [
        FakeAKS(
            name=f"aks-{resource_group.lower()}-{i}",
            resource_group=resource_group,
            server=f"https://127.0.0.1:{6443 + i}",
            **fields,
        )
        for i in range(count)
    ]


@pytest.fixture
def fake() -> Iterator[FakeAzure]:
    subscriptions = {SUB_A: _clusters(5, "RG-Prod"), SUB_B: _clusters(1, "rg-dev")}
    with FakeAzure(subscriptions=subscriptions) as server:
        yield server


def _secret_free(fake: FakeAzure, texts: list[str]) -> None:
    """No client secret, and no token the fake issued, in any of ``texts``."""
    tokens = [issued.token for issued in fake.issued()]
    for text in texts:
        assert CLIENT_SECRET not in text
        for token in tokens:
            assert token not in text


def _exception_texts(exc: BaseException) -> list[str]:
    return ["".join(traceback.format_exception(exc)), str(exc), repr(exc)]


# --- the connect form -------------------------------------------------------------------------


def test_parse_form_accepts_guids_and_splits_subscriptions() -> None:
    parsed = azure.parse_form(
        {
            "tenant_id": f"  {TENANT_ID.upper()} ",
            "client_id": CLIENT_ID,
            "client_secret": f"  {CLIENT_SECRET}\n",
            "subscription_ids": f"{SUB_A}, {SUB_B}\n{SUB_A.upper()};{SUB_B}  ",
        }
    )
    assert parsed.config == {
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "subscription_ids": [SUB_A, SUB_B],
    }
    assert parsed.secret == {"client_secret": CLIENT_SECRET}
    assert CLIENT_SECRET not in repr(parsed)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("tenant_id", "contoso.onmicrosoft.com", "must be a GUID"),
        ("tenant_id", "", "Enter the tenant ID"),
        ("tenant_id", "72f988bf-86f1-41af-91ab-2d7cd011db4", "must be a GUID"),
        ("client_id", "my-app", "must be a GUID"),
        ("client_secret", "", "Enter the client secret"),
        ("client_secret", "x" * 1025, "longer than 1 KiB"),
        ("client_secret", "abc\ndef", "control characters"),
        ("subscription_ids", "", "at least one subscription"),
        ("subscription_ids", f"{SUB_A} production", '"production" is not a subscription ID'),
    ],
)
def test_parse_form_refuses_malformed_fields(field: str, value: str, words: str) -> None:
    form = {
        "tenant_id": TENANT_ID,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "subscription_ids": SUB_A,
        field: value,
    }
    with pytest.raises(InvalidCredentials) as caught:
        azure.parse_form(form)
    assert caught.value.field == field
    assert words in caught.value.message
    assert CLIENT_SECRET not in caught.value.message


def test_parse_form_replacing_credentials_keeps_what_the_form_leaves_blank() -> None:
    existing = {"tenant_id": TENANT_ID, "client_id": CLIENT_ID, "subscription_ids": [SUB_A]}
    rotated = azure.parse_form(
        {"tenant_id": "", "client_id": "", "client_secret": "new-secret", "subscription_ids": ""},
        existing=existing,
    )
    assert rotated.config == existing
    assert rotated.secret == {"client_secret": "new-secret"}

    moved = azure.parse_form(
        {"client_secret": "new-secret", "subscription_ids": SUB_B}, existing=existing
    )
    assert moved.config["subscription_ids"] == [SUB_B]
    assert moved.config["tenant_id"] == TENANT_ID

    with pytest.raises(InvalidCredentials) as caught:
        azure.parse_form({"client_secret": ""}, existing=existing)
    assert caught.value.field == "client_secret"


# --- discovery --------------------------------------------------------------------------------


def test_discovers_every_cluster_across_subscriptions_and_pages() -> None:
    aad = FakeAKS(
        name="payments",
        resource_group="RG-Prod",
        server="https://payments-dns-abc.hcp.westeurope.azmk8s.io:443",
        aad=True,
        local_accounts_disabled=True,
        node_counts=(3, 2, 0),
        current_kubernetes_version="1.31.1",
        kubernetes_version="1.31",
    )
    private = FakeAKS(
        name="internal",
        resource_group="rg-dev",
        server="https://internal-dns.privatelink.northeurope.azmk8s.io:443",
        location="northeurope",
        private_only=True,
        power_state="Stopped",
    )
    creating = FakeAKS(
        name="new", resource_group="rg-dev", server=None, provisioning_state="Creating"
    )
    subscriptions = {
        SUB_A: [*_clusters(4, "RG-Prod"), aad],
        SUB_B: [private, creating],
    }
    with FakeAzure(subscriptions=subscriptions, page_size=2) as fake:
        result = azure.discover(CONFIG, SECRET, endpoints=fake.endpoints())
        listed = fake.count(r"GET /subscriptions/.*/managedClusters$")

    assert result.warnings == []
    assert listed == 3 + 1  # five clusters in pages of two, then one page
    assert [c.name for c in result.clusters] == [
        "aks-rg-prod-0",
        "aks-rg-prod-1",
        "aks-rg-prod-2",
        "aks-rg-prod-3",
        "payments",
        "internal",
        "new",
    ]
    by_name = {c.name: c for c in result.clusters}
    assert by_name["payments"] == DiscoveredCluster(
        provider="azure",
        external_id=(
            f"/subscriptions/{SUB_A}/resourcegroups/rg-prod/providers/"
            "microsoft.containerservice/managedclusters/payments"
        ),
        name="payments",
        region="westeurope",
        endpoint="https://payments-dns-abc.hcp.westeurope.azmk8s.io:443",
        ca_data=None,
        kubernetes_version="1.31.1",
        node_count=5,
        status="Succeeded/Running",
        details={
            "subscription_id": SUB_A,
            "resource_group": "RG-Prod",
            "aad": True,
            "local_accounts_disabled": True,
        },
    )
    internal = by_name["internal"]
    assert internal.endpoint == "https://internal-dns.privatelink.northeurope.azmk8s.io:443"
    assert internal.status == "Succeeded/Stopped"
    assert internal.details["aad"] is False
    assert by_name["new"].endpoint is None
    assert by_name["new"].status == "Creating/Running"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"client_secret": "not-the-secret"}, "AADSTS7000215"),
        ({"client_id": "99999999-9999-4999-8999-999999999999"}, "AADSTS700016"),
        ({"tenant_id": "88888888-8888-4888-8888-888888888888"}, "AADSTS90002"),
    ],
)
def test_a_refused_sign_in_is_credentials_refused_in_plain_words(
    fake: FakeAzure, change: dict[str, str], words: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = {**CONFIG, **{k: v for k, v in change.items() if k != "client_secret"}}
    secret = {"client_secret": change.get("client_secret", CLIENT_SECRET)}
    with pytest.raises(CredentialsRefused) as caught:
        azure.discover(config, secret, endpoints=fake.endpoints())
    assert words in caught.value.reason
    assert "Microsoft Entra ID" in caught.value.reason
    assert fake.count("GET /subscriptions/") == 0
    texts = [*_exception_texts(caught.value), caplog.text]
    _secret_free(fake, texts)
    assert all(secret["client_secret"] not in t for t in texts)


def test_forbidden_subscription_is_credentials_refused_naming_the_role() -> None:
    with FakeAzure(forbidden_subscriptions=[SUB_A]) as fake:
        config = {**CONFIG, "subscription_ids": [SUB_A]}
        with pytest.raises(CredentialsRefused) as caught:
            azure.discover(config, SECRET, endpoints=fake.endpoints())
    assert "AuthorizationFailed" in caught.value.reason
    assert "Azure Kubernetes Service Cluster User Role" in caught.value.reason
    assert SUB_A in caught.value.reason


def test_unknown_subscription_among_answering_ones_is_a_warning(fake: FakeAzure) -> None:
    config = {**CONFIG, "subscription_ids": [SUB_A, SUB_GONE, SUB_B]}
    result = azure.discover(config, SECRET, endpoints=fake.endpoints())
    assert len(result.clusters) == 6
    assert len(result.warnings) == 1
    assert SUB_GONE in result.warnings[0]
    assert "SubscriptionNotFound" in result.warnings[0]


def test_only_unknown_subscriptions_is_a_provider_error(fake: FakeAzure) -> None:
    config = {**CONFIG, "subscription_ids": [SUB_GONE]}
    with pytest.raises(ProviderError) as caught:
        azure.discover(config, SECRET, endpoints=fake.endpoints())
    assert "was not found" in caught.value.reason


def test_a_forbidden_subscription_among_answering_ones_is_a_warning() -> None:
    with FakeAzure(subscriptions={SUB_A: _clusters(1, "rg")}, forbidden_subscriptions=[SUB_B]) as f:
        result = azure.discover(CONFIG, SECRET, endpoints=f.endpoints())
    assert [c.name for c in result.clusters] == ["aks-rg-0"]
    assert "Azure Kubernetes Service Cluster User Role" in result.warnings[0]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_throttling_and_server_errors_are_provider_unavailable(
    fake: FakeAzure, status: int
) -> None:
    fake.inject(rf"GET /subscriptions/{SUB_B}/", status, times=None)
    with pytest.raises(ProviderUnavailable) as caught:
        azure.discover(CONFIG, SECRET, endpoints=fake.endpoints())
    assert f"HTTP {status}" in caught.value.reason
    assert fake.count(f"GET /subscriptions/{SUB_B}/") == 3  # the first try and two retries


def test_one_server_error_is_retried_and_discovery_succeeds(fake: FakeAzure) -> None:
    fake.inject(r"GET /subscriptions/.*skipToken=2", 500)
    result = azure.discover(CONFIG, SECRET, endpoints=fake.endpoints())
    assert len(result.clusters) == 6


def test_entra_failing_is_provider_unavailable_not_refused(fake: FakeAzure) -> None:
    fake.inject(r"POST /.*/oauth2/v2.0/token", 500, times=None)
    with pytest.raises(ProviderUnavailable) as caught:
        azure.discover(CONFIG, SECRET, endpoints=fake.endpoints())
    assert "Microsoft Entra ID is unavailable right now (HTTP 500)" in caught.value.reason


def test_entra_throttling_is_provider_unavailable(fake: FakeAzure) -> None:
    fake.inject(r"POST /.*/oauth2/v2.0/token", 429, times=None)
    with pytest.raises(ProviderUnavailable) as caught:
        azure.discover(CONFIG, SECRET, endpoints=fake.endpoints())
    assert "(HTTP 429)" in caught.value.reason


def test_a_stalled_arm_is_provider_unavailable(fake: FakeAzure) -> None:
    fake.inject(r"GET /subscriptions/", hang=5.0, times=None)
    with pytest.raises(ProviderUnavailable) as caught:
        azure.discover(CONFIG, SECRET, endpoints=fake.endpoints(timeout=0.3))
    assert "did not answer in time" in caught.value.reason


def test_an_unreachable_authority_is_provider_unavailable(fake: FakeAzure) -> None:
    nowhere = f"https://127.0.0.1:{free_port()}"
    endpoints = Endpoints(
        azure_management=fake.url,
        azure_authority=nowhere,
        ca_bundle=str(fake.ca_file),
        timeout=2.0,
    )
    with pytest.raises(ProviderUnavailable):
        azure.discover(CONFIG, SECRET, endpoints=endpoints)


def test_an_untrusted_arm_certificate_is_not_accepted(fake: FakeAzure) -> None:
    endpoints = Endpoints(azure_management=fake.url, azure_authority=fake.url, timeout=2.0)
    with pytest.raises(ProviderUnavailable):
        azure.discover(CONFIG, SECRET, endpoints=endpoints)
    assert fake.count("POST") == 0  # the secret never left for an unverified server


# --- cluster credentials ----------------------------------------------------------------------


def _discovered(fake: FakeAzure, name: str) -> DiscoveredCluster:
    result = azure.discover(CONFIG, SECRET, endpoints=fake.endpoints())
    return next(c for c in result.clusters if c.name == name)


def test_local_account_cluster_is_read_with_its_token() -> None:
    with FakeKubeAPI(OBJECTS, token=LOCAL_TOKEN) as kube:
        aks = FakeAKS("shop", "rg-shop", server=kube.url, ca_pem=kube.ca_pem, token=LOCAL_TOKEN)
        with FakeAzure(subscriptions={SUB_A: [aks], SUB_B: []}) as fake:
            cluster = _discovered(fake, "shop")
            assert cluster.details["aad"] is False
            access = azure.cluster_access(
                CONFIG, SECRET, cluster, endpoints=fake.endpoints(), allow_private_endpoints=True
            )
            snapshot = read_cluster(access, retry=FAST)
        assert access.server == kube.url
        assert access.ca_data == kube.ca_pem
        assert access.token == LOCAL_TOKEN
        assert access.token_provider is None
        assert LOCAL_TOKEN not in repr(access)
        assert [n.metadata.name for n in snapshot.namespaces] == ["shop"]
        assert len(snapshot.pods) == 1
        assert snapshot.warnings == []


def test_local_account_cluster_with_a_client_certificate() -> None:
    # No bearer token is accepted: only the client certificate can authenticate.
    with FakeKubeAPI(OBJECTS, token="no-such-token", client_cert_auth=True) as kube:
        aks = FakeAKS(
            "certs", "rg", server=kube.url, ca_pem=kube.ca_pem, client_cert=kube.client_cert()
        )
        with FakeAzure(subscriptions={SUB_A: [aks], SUB_B: []}) as fake:
            cluster = _discovered(fake, "certs")
            access = azure.cluster_access(
                CONFIG, SECRET, cluster, endpoints=fake.endpoints(), allow_private_endpoints=True
            )
            snapshot = read_cluster(access, retry=FAST)
        assert access.token is None
        assert access.client_cert_data is not None
        assert len(snapshot.pods) == 1


def _kubelogin_trap(tmp_path: Path) -> tuple[Path, Path]:
    """A fake kubelogin that would leave a file behind if anything ever ran it."""
    marker = tmp_path / "kubelogin-was-run"
    script = tmp_path / "kubelogin"
    script.write_text(f"#!/bin/sh\ntouch {marker}\necho '{{}}'\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script, marker


def test_entra_id_cluster_is_read_with_a_minted_token_and_kubelogin_never_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    script, marker = _kubelogin_trap(tmp_path)
    with (
        FakeAzure() as fake,
        FakeKubeAPI(OBJECTS, accept_token=fake.token_checker(AKS_SERVER_APP_ID)) as kube,
    ):
        aks = FakeAKS(
            "payments",
            "rg-pay",
            server=kube.url,
            ca_pem=kube.ca_pem,
            aad=True,
            local_accounts_disabled=True,
            exec_command=str(script),
        )
        fake.subscriptions = {SUB_A: [aks], SUB_B: []}
        cluster = _discovered(fake, "payments")
        assert cluster.details["aad"] is True
        access = azure.cluster_access(
            CONFIG, SECRET, cluster, endpoints=fake.endpoints(), allow_private_endpoints=True
        )
        snapshot = read_cluster(access, retry=FAST)
        aks_tokens = fake.issued(AKS_SERVER_APP_ID)
        credential_requests = [r for r in fake.requests if r.path.endswith("UserCredential")]
        kube_bearers = {r.headers.get("authorization") for r in kube.requests}

    assert not marker.exists()
    assert [r.query.get("format") for r in credential_requests] == ["exec"]
    assert access.server == kube.url
    assert access.ca_data == kube.ca_pem
    assert access.token is None
    assert access.token_provider is not None
    assert len(aks_tokens) == 1  # one token serves the whole read (it is far from expiry)
    assert kube_bearers == {f"Bearer {aks_tokens[0].token}"}
    assert len(snapshot.pods) == 1
    assert snapshot.warnings == []
    _secret_free(fake, [repr(access), repr(access.token_provider), caplog.text])


def test_entra_token_is_minted_again_near_expiry() -> None:
    aks = FakeAKS("payments", "rg", server="https://127.0.0.1:6443", ca_pem=None, aad=True)
    # Two minutes of validity is inside the five-minute refresh margin: every call renews.
    with FakeAzure(subscriptions={SUB_A: [aks], SUB_B: []}, token_lifetime=120) as fake:
        access = azure.cluster_access(
            CONFIG,
            SECRET,
            _discovered(fake, "payments"),
            endpoints=fake.endpoints(),
            allow_private_endpoints=True,
        )
        assert access.token_provider is not None
        first, second = access.token_provider(), access.token_provider()
        checker = fake.token_checker(AKS_SERVER_APP_ID)
        assert first != second
        assert checker(first)
        assert checker(second)
        assert len(fake.issued(AKS_SERVER_APP_ID)) == 3  # minted at access time, then twice


def test_cluster_credentials_forbidden_is_credentials_refused(fake: FakeAzure) -> None:
    cluster = _discovered(fake, "aks-rg-prod-1")
    fake.inject(r"POST .*/listClusterUserCredential", 403, code="AuthorizationFailed")
    with pytest.raises(CredentialsRefused) as caught:
        azure.cluster_access(
            CONFIG, SECRET, cluster, endpoints=fake.endpoints(), allow_private_endpoints=True
        )
    assert "Azure Kubernetes Service Cluster User Role" in caught.value.reason
    assert "aks-rg-prod-1" in caught.value.reason


def test_a_cluster_deleted_since_discovery_is_a_provider_error(fake: FakeAzure) -> None:
    cluster = _discovered(fake, "aks-rg-dev-0")
    fake.subscriptions = {SUB_A: [], SUB_B: []}
    with pytest.raises(ProviderError) as caught:
        azure.cluster_access(
            CONFIG, SECRET, cluster, endpoints=fake.endpoints(), allow_private_endpoints=True
        )
    assert "no longer exists" in caught.value.reason


def test_cluster_access_with_a_revoked_secret_is_credentials_refused(fake: FakeAzure) -> None:
    cluster = _discovered(fake, "aks-rg-dev-0")
    fake.client_secret = "rotated-elsewhere"
    with pytest.raises(CredentialsRefused) as caught:
        azure.cluster_access(
            CONFIG, SECRET, cluster, endpoints=fake.endpoints(), allow_private_endpoints=True
        )
    assert "AADSTS7000215" in caught.value.reason
    _secret_free(fake, _exception_texts(caught.value))


def test_a_local_account_kubeconfig_without_credentials_is_a_provider_error() -> None:
    aks = FakeAKS("bare", "rg", server="https://127.0.0.1:6443")
    with FakeAzure(subscriptions={SUB_A: [aks], SUB_B: []}) as fake:
        cluster = _discovered(fake, "bare")
        with pytest.raises(ProviderError) as caught:
            azure.cluster_access(
                CONFIG, SECRET, cluster, endpoints=fake.endpoints(), allow_private_endpoints=True
            )
    assert "holds no credentials" in caught.value.reason
    assert "kubeconfig for bare" in caught.value.reason


def test_stored_credentials_missing_the_secret_are_refused_before_any_call(
    fake: FakeAzure,
) -> None:
    with pytest.raises(CredentialsRefused):
        azure.discover(CONFIG, None, endpoints=fake.endpoints())
    assert fake.requests == []


def test_no_secret_in_any_error_or_log_line(
    fake: FakeAzure, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    failures: list[CloudError] = []
    fake.inject(r"GET /subscriptions/", 500, times=3)
    for endpoints, secret in (
        (fake.endpoints(), {"client_secret": "wrong-" + CLIENT_SECRET}),
        (fake.endpoints(), SECRET),
        (fake.endpoints(), SECRET),
    ):
        with pytest.raises(CloudError) as caught:
            azure.discover({**CONFIG, "subscription_ids": [SUB_GONE]}, secret, endpoints=endpoints)
        failures.append(caught.value)
    result = azure.discover(CONFIG, SECRET, endpoints=fake.endpoints())
    texts = [caplog.text, repr(result)]
    for failure in failures:
        texts += _exception_texts(failure)
    _secret_free(fake, texts)
    assert all("wrong-" + CLIENT_SECRET not in t for t in texts)
