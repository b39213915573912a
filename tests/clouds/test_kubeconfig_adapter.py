"""The "kubeconfig" provider adapter against the fake Kubernetes API over real HTTPS.

Covers the connect form (parse_form), the one real call (discover: version and node count),
the mapping of transport failures to the pipeline's three error kinds, the SSRF guard with its
reason reaching the user, and the credentials handed to the reader (cluster_access).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import trustme
import yaml

from app.clouds import kubeconfig as adapter
from app.clouds.base import (
    CloudError,
    CredentialsRefused,
    DiscoveredCluster,
    Endpoints,
    InvalidCredentials,
    ParsedCredentials,
    ProviderError,
    ProviderUnavailable,
)
from app.kube.reader import read_cluster
from tests.conftest import free_port
from tests.fakes.kube_api import FakeKubeAPI, Fault
from tests.kube.conftest import FAST_RETRY

TOKEN = "kubeconfig-adapter-t0ken-do-not-leak"
NODES = 1203  # three pages of 500
ENDPOINTS = Endpoints(timeout=5.0)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def kubeconfig_text(server: str, ca_pem: bytes | None, user: dict[str, Any]) -> str:
    cluster: dict[str, Any] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = _b64(ca_pem)
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "on-prem", "cluster": cluster}],
            "users": [{"name": "leftover", "user": user}],
            "contexts": [{"name": "ctx", "context": {"cluster": "on-prem", "user": "leftover"}}],
            "current-context": "ctx",
        }
    )


def nodes(count: int) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{i:04}"}}
        for i in range(count)
    ]


@pytest.fixture
def api() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(nodes(NODES), token=TOKEN, git_version="v1.29.4") as server:
        yield server


def connect(server: str, ca_pem: bytes | None, **form: str) -> ParsedCredentials:
    text = kubeconfig_text(server, ca_pem, {"token": TOKEN})
    return adapter.parse_form({"kubeconfig": text, **form})


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert TOKEN not in text
        assert "PRIVATE KEY" not in text


# --- parse_form ----------------------------------------------------------------------------


def test_parse_form_keeps_server_ca_and_token(api: FakeKubeAPI) -> None:
    parsed = connect(api.url, api.ca_pem)

    assert parsed.config == {
        "server": api.url,
        "context": "ctx",
        "cluster_name": "on-prem",
        "ca_data": api.ca_pem.decode(),
        "tls_server_name": None,
    }
    assert parsed.secret == {"token": TOKEN}
    assert_no_secret(repr(parsed), str(parsed))


def test_parse_form_keeps_a_client_certificate_as_pem_text() -> None:
    ca = trustme.CA()
    leaf = ca.issue_cert("leftover")
    user = {
        "client-certificate-data": _b64(leaf.cert_chain_pems[0].bytes()),
        "client-key-data": _b64(leaf.private_key_pem.bytes()),
    }

    parsed = adapter.parse_form({"kubeconfig": kubeconfig_text("https://k.test", None, user)})

    assert parsed.config["ca_data"] is None
    assert parsed.secret is not None
    assert set(parsed.secret) == {"client_certificate_data", "client_key_data"}
    assert parsed.secret["client_certificate_data"] == leaf.cert_chain_pems[0].bytes().decode()
    assert parsed.secret["client_key_data"].startswith("-----BEGIN PRIVATE KEY-----")
    assert_no_secret(repr(parsed))


def test_parse_form_names_the_refused_field() -> None:
    text = kubeconfig_text(
        "https://k.test", None, {"token": TOKEN, "exec": {"command": "aws", "args": ["eks"]}}
    )

    with pytest.raises(InvalidCredentials) as info:
        adapter.parse_form({"kubeconfig": text})

    assert info.value.field == "kubeconfig"
    assert "users[0].user.exec" in info.value.message
    assert "runs a program" in info.value.message
    assert_no_secret(str(info.value), repr(info.value))


@pytest.mark.parametrize(
    ("form", "field", "words"),
    [
        ({}, "kubeconfig", "Paste or upload a kubeconfig"),
        ({"kubeconfig": "  \n"}, "kubeconfig", "Paste or upload a kubeconfig"),
        ({"kubeconfig": "a: [\n"}, "kubeconfig", "not valid YAML"),
        ({"kubeconfig": "x" * 300_000}, "kubeconfig", "larger than"),
    ],
)
def test_parse_form_bad_uploads(form: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(InvalidCredentials) as info:
        adapter.parse_form(form)

    assert info.value.field == field
    assert words in info.value.message


def test_parse_form_unknown_context_is_the_context_fields_fault(api: FakeKubeAPI) -> None:
    with pytest.raises(InvalidCredentials) as info:
        connect(api.url, api.ca_pem, context="other")

    assert info.value.field == "context"
    assert "its contexts are: ctx" in info.value.message
    assert connect(api.url, api.ca_pem, context=" ctx ").config["context"] == "ctx"


# --- discover ------------------------------------------------------------------------------


def test_discover_reads_version_and_counts_nodes_page_by_page(api: FakeKubeAPI) -> None:
    parsed = connect(api.url, api.ca_pem)

    result = adapter.discover(
        parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
    )

    assert result.warnings == []
    [cluster] = result.clusters
    assert cluster == DiscoveredCluster(
        provider="kubeconfig",
        external_id=f"kubeconfig:{api.url}",
        name="on-prem",
        region="",
        endpoint=api.url,
        ca_data=api.ca_pem,
        kubernetes_version="v1.29.4",
        node_count=NODES,
    )
    node_lists = [r for r in api.requests if r.path == "/api/v1/nodes"]
    assert [r.query.get("limit") for r in node_lists] == ["500", "500", "500"]
    assert ["continue" in r.query for r in node_lists] == [False, True, True]
    # Only metadata is asked for, and every request carried the token over TLS.
    assert all("PartialObjectMetadataList" in r.headers["accept"] for r in node_lists)
    assert {r.headers["authorization"] for r in api.requests} == {f"Bearer {TOKEN}"}


def test_discover_with_a_client_certificate() -> None:
    with FakeKubeAPI(nodes(2), token="not-this", client_cert_auth=True) as api:
        cert, key = api.client_cert()
        user = {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}
        parsed = adapter.parse_form({"kubeconfig": kubeconfig_text(api.url, api.ca_pem, user)})

        result = adapter.discover(
            parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert result.clusters[0].node_count == 2
    assert result.clusters[0].kubernetes_version == "v1.30.2"


def test_a_wrong_token_is_credentials_refused(
    api: FakeKubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    parsed = connect(api.url, api.ca_pem)
    wrong = {"token": TOKEN + "-revoked"}
    caplog.set_level(logging.DEBUG)

    with pytest.raises(CredentialsRefused) as info:
        adapter.discover(parsed.config, wrong, endpoints=ENDPOINTS, allow_private_endpoints=True)

    assert "refused the credentials (401 Unauthorized)" in info.value.reason
    assert api.url in info.value.reason
    assert_no_secret(str(info.value), repr(info.value), caplog.text)
    assert api.count("^/version") == 1  # a 401 is final: no retries


def test_nothing_secret_is_logged_on_success(
    api: FakeKubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    parsed = connect(api.url, api.ca_pem)

    result = adapter.discover(
        parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
    )

    assert result.clusters[0].node_count == NODES
    assert_no_secret(caplog.text, repr(result))


def test_nodes_the_credentials_may_not_list_become_a_warning() -> None:
    with FakeKubeAPI(nodes(3), token=TOKEN, forbidden=["nodes"]) as api:
        parsed = connect(api.url, api.ca_pem)
        result = adapter.discover(
            parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert result.clusters[0].node_count is None
    assert result.clusters[0].kubernetes_version == "v1.30.2"
    assert len(result.warnings) == 1
    assert "may not list nodes (403 Forbidden)" in result.warnings[0]
    assert "leftover-reader ClusterRole" in result.warnings[0]


def test_an_expired_continue_token_restarts_the_count(api: FakeKubeAPI) -> None:
    api.inject(r"^/api/v1/nodes\?.*continue=", Fault.gone())
    parsed = connect(api.url, api.ca_pem)

    result = adapter.discover(
        parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
    )

    assert result.clusters[0].node_count == NODES
    starts = [r for r in api.requests if r.path == "/api/v1/nodes" and "continue" not in r.query]
    assert len(starts) == 2


def test_a_server_failing_on_every_try_is_unavailable(api: FakeKubeAPI) -> None:
    api.inject(r"^/version", Fault.error(503), times=None)
    parsed = connect(api.url, api.ca_pem)

    with pytest.raises(ProviderUnavailable) as info:
        adapter.discover(
            parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert "503 Service Unavailable" in info.value.reason
    assert api.count("^/version") == adapter.DISCOVERY_RETRY.attempts


def test_a_closed_port_is_unavailable() -> None:
    server = f"https://127.0.0.1:{free_port()}"
    parsed = connect(server, trustme.CA().cert_pem.bytes())

    with pytest.raises(ProviderUnavailable) as info:
        adapter.discover(
            parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert "connection refused" in info.value.reason
    assert server in info.value.reason


def test_a_server_that_never_answers_times_out(api: FakeKubeAPI) -> None:
    api.inject(r"^/version", Fault.stall(1.0), times=None)
    parsed = connect(api.url, api.ca_pem)

    with pytest.raises(ProviderUnavailable) as info:
        adapter.discover(
            parsed.config,
            parsed.secret,
            endpoints=Endpoints(timeout=0.2),
            allow_private_endpoints=True,
        )

    assert "did not answer within 0.2 s" in info.value.reason


def test_a_certificate_from_another_ca_is_a_provider_error(api: FakeKubeAPI) -> None:
    parsed = connect(api.url, trustme.CA().cert_pem.bytes())

    with pytest.raises(ProviderError) as info:
        adapter.discover(
            parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert "TLS verification of 127.0.0.1 failed" in info.value.reason
    # The token never left: the handshake failed before any request.
    assert api.requests == []


def test_an_address_that_is_not_kubernetes_is_a_provider_error(api: FakeKubeAPI) -> None:
    parsed = connect(f"{api.url}/not-kubernetes", api.ca_pem)

    with pytest.raises(ProviderError) as info:
        adapter.discover(
            parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert "/not-kubernetes/version answered 404 Not Found" in info.value.reason
    assert "is this the address of a Kubernetes API server?" in info.value.reason


# --- the SSRF guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "reason"),
    [
        ("https://169.254.169.254", "169.254.169.254, a cloud metadata address"),
        ("https://127.0.0.1:{port}", "127.0.0.1 is a loopback address"),
        ("https://10.0.0.1:6443", "10.0.0.1 is a private address"),
        ("https://[::1]:{port}", "::1 is a loopback address"),
        ("https://localhost:{port}", "localhost ("),
        ("https://100.64.0.7", "is a carrier-grade NAT address"),
        ("https://[fe80::1]:6443", "is a link-local address"),
    ],
)
def test_private_endpoints_are_refused_with_the_reason(
    api: FakeKubeAPI, server: str, reason: str
) -> None:
    parsed = connect(server.format(port=api.port), api.ca_pem)

    with pytest.raises(ProviderError) as info:
        adapter.discover(parsed.config, parsed.secret, endpoints=ENDPOINTS)

    assert reason in info.value.reason
    assert "refused to connect" in info.value.reason
    if "metadata" not in reason:
        assert "private endpoints are not allowed" in info.value.reason
    assert api.requests == []
    assert_no_secret(str(info.value))


def test_metadata_addresses_are_refused_even_when_private_endpoints_are_allowed() -> None:
    parsed = connect("https://169.254.169.254/latest", None)

    with pytest.raises(ProviderError) as info:
        adapter.discover(
            parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert "a cloud metadata address" in info.value.reason


def test_a_name_resolving_to_loopback_works_when_private_endpoints_are_allowed(
    api: FakeKubeAPI,
) -> None:
    # The fake's certificate names "localhost"; the same URL is refused above without the flag.
    parsed = connect(f"https://localhost:{api.port}", api.ca_pem)

    result = adapter.discover(
        parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
    )

    assert result.clusters[0].node_count == NODES


# --- cluster_access ------------------------------------------------------------------------


def test_cluster_access_reads_the_cluster_with_the_stored_credentials(api: FakeKubeAPI) -> None:
    parsed = connect(api.url, api.ca_pem)
    [cluster] = adapter.discover(
        parsed.config, parsed.secret, endpoints=ENDPOINTS, allow_private_endpoints=True
    ).clusters
    before = len(api.requests)

    access = adapter.cluster_access(
        parsed.config, parsed.secret, cluster, endpoints=ENDPOINTS, allow_private_endpoints=True
    )

    assert len(api.requests) == before  # no network to build it
    assert (access.server, access.ca_data, access.token) == (api.url, api.ca_pem, TOKEN)
    assert access.allow_private_endpoints is True
    assert access.name == "on-prem"
    assert_no_secret(repr(access))
    snap = read_cluster(access, kinds=["Node"], retry=FAST_RETRY)
    assert len(snap.nodes) == NODES


def test_cluster_access_keeps_the_ssrf_decision(api: FakeKubeAPI) -> None:
    parsed = connect(api.url, api.ca_pem)
    cluster = DiscoveredCluster(
        provider="kubeconfig",
        external_id=f"kubeconfig:{api.url}",
        name="on-prem",
        region="",
        endpoint=api.url,
        ca_data=api.ca_pem,
    )

    access = adapter.cluster_access(
        parsed.config, parsed.secret, cluster, endpoints=ENDPOINTS, allow_private_endpoints=False
    )

    assert access.allow_private_endpoints is False


@pytest.mark.parametrize(
    ("secret", "external_id", "error", "words"),
    [
        (None, "kubeconfig:{url}", CredentialsRefused, "No credentials are stored"),
        ({"client_key_data": "x"}, "kubeconfig:{url}", CredentialsRefused, "No credentials"),
        ({"token": TOKEN}, "kubeconfig:https://other.test", ProviderError, "no longer the one"),
    ],
)
def test_cluster_access_refuses_what_it_cannot_use(
    api: FakeKubeAPI,
    secret: dict[str, str] | None,
    external_id: str,
    error: type[CloudError],
    words: str,
) -> None:
    parsed = connect(api.url, api.ca_pem)
    cluster = DiscoveredCluster(
        provider="kubeconfig",
        external_id=external_id.format(url=api.url),
        name="on-prem",
        region="",
        endpoint=api.url,
        ca_data=api.ca_pem,
    )

    with pytest.raises(error) as info:
        adapter.cluster_access(
            parsed.config, secret, cluster, endpoints=ENDPOINTS, allow_private_endpoints=True
        )

    assert words in info.value.reason


def test_stored_settings_that_no_longer_parse_ask_for_a_new_upload(api: FakeKubeAPI) -> None:
    parsed = connect(api.url, api.ca_pem)
    broken = {**parsed.config, "server": "http://downgraded.test"}

    with pytest.raises(CredentialsRefused) as info:
        adapter.discover(broken, parsed.secret, endpoints=ENDPOINTS)

    assert "Replace the kubeconfig" in info.value.reason
