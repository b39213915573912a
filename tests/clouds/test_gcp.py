"""The GCP adapter over real HTTP: the fake GKE API and token endpoint, the fake Kubernetes API."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.clouds import gcp
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
from app.kube.reader import ClusterUnreachable, RetryPolicy, read_cluster
from tests.conftest import free_port
from tests.fakes.gcp import (
    ApiError,
    FakeCluster,
    FakeGCP,
    make_service_account_key,
)
from tests.fakes.kube_api import FakeKubeAPI

PROJECT = "shop-prod-4821"
FAST_RETRY = RetryPolicy(attempts=2, base_delay=0.001, max_delay=0.01, max_retry_after=1.0)
KUBE_OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    for name in ("default", "shop")
]


@pytest.fixture(scope="module")
def key() -> dict[str, str]:
    """One throwaway key for the module (generating RSA keys is the slow part)."""
    return make_service_account_key(PROJECT)


@pytest.fixture
def fake(key: dict[str, str]) -> Iterator[FakeGCP]:
    """A fake Google that knows the module's key."""
    with FakeGCP() as server:
        server.register(key)
        yield server


def _connect(key: dict[str, Any], projects: str = "") -> ParsedCredentials:
    return gcp.parse_form({"service_account_json": json.dumps(key), "project_ids": projects})


def _stored(key: dict[str, Any], projects: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """The config and secret the app would store for this key."""
    parsed = _connect(key, projects)
    assert parsed.secret is not None
    return parsed.config, parsed.secret


def _refusal(form_key: Any, **form: str) -> InvalidCredentials:
    text = form_key if isinstance(form_key, str) else json.dumps(form_key)
    with pytest.raises(InvalidCredentials) as info:
        gcp.parse_form({"service_account_json": text, **form})
    return info.value


def _pem_lines(pem: str) -> list[str]:
    """The base64 lines of a PEM key: any one of them in a text would be a leak."""
    return [line for line in pem.splitlines() if line and not line.startswith("-----")]


def _texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(exc))]


# --- the connect form -------------------------------------------------------------------------


def test_a_service_account_key_is_accepted(key: dict[str, str]) -> None:
    parsed = _connect(key)

    assert parsed.config == {"project_ids": [PROJECT], "client_email": key["client_email"]}
    assert parsed.secret is not None
    stored = parsed.secret["service_account_json"]
    assert json.loads(stored) == key
    assert "\n" not in stored  # compact JSON text
    assert '", "' not in stored
    assert not any(line in repr(parsed) for line in _pem_lines(key["private_key"]))


def _with(key: dict[str, str], **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {**key, **changes}
    return {k: v for k, v in doc.items() if v is not None}


def _ec_key() -> str:
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return pem.decode()


def _encrypted(pem: str) -> str:
    """The same key, encrypted with a passphrase (as openssl can be asked to)."""
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    encrypted = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )
    return encrypted.decode()


AUTHORIZED_USER = {
    "type": "authorized_user",
    "client_id": "764086051850-6qr4p6gpi6hn506pt8ejuq83di341hur.apps.googleusercontent.com",
    "client_secret": "d-FL95Q19q7MQmFpd7hHD0Ty",
    "refresh_token": "1//0refresh-token-value",
}
EXTERNAL_ACCOUNT = {
    "type": "external_account",
    "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/x",
    "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
    "token_url": "https://sts.googleapis.com/v1/token",
    "credential_source": {"executable": {"command": "/bin/sh -c 'curl evil'"}},
}
IMPERSONATED = {
    "type": "impersonated_service_account",
    "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/x",
    "source_credentials": AUTHORIZED_USER,
}


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        (lambda k: AUTHORIZED_USER, "person's own Google sign-in"),
        (lambda k: EXTERNAL_ACCOUNT, "run a program"),
        (lambda k: {**EXTERNAL_ACCOUNT, "type": "external_account_authorized_user"}, "sends"),
        (lambda k: IMPERSONATED, "impersonation file"),
        (lambda k: _with(k, type="gdch_service_account"), "token endpoint is not Google's"),
        (lambda k: _with(k, type=None), 'has no "type"'),
        (lambda k: _with(k, type="magic"), '"magic" are not supported'),
        (lambda k: _with(k, private_key=None), 'has no "private_key"'),
        (
            lambda k: _with(k, private_key="-----BEGIN PRIVATE KEY-----\nAAAA\n"),
            "that can be loaded",
        ),
        (lambda k: _with(k, private_key=_encrypted(k["private_key"])), "unencrypted PEM"),
        (lambda k: _with(k, private_key=_ec_key()), "not an RSA key"),
        (lambda k: _with(k, client_email=None), '"client_email"'),
        (lambda k: _with(k, project_id="X"), '"project_id"'),
        (lambda k: _with(k, token_uri="https://evil.example/token"), "send the key's signed"),
        (lambda k: _with(k, token_uri=None), "not Google's token endpoint"),
        (lambda k: _with(k, universe_domain="evil.example"), "universe_domain"),
        (lambda k: [k], "must be a JSON object"),
    ],
    ids=[
        "authorized_user",
        "external_account",
        "external_account_authorized_user",
        "impersonated",
        "gdch",
        "no-type",
        "unknown-type",
        "no-private-key",
        "broken-private-key",
        "encrypted-private-key",
        "ec-private-key",
        "no-client-email",
        "bad-project-id",
        "foreign-token-uri",
        "no-token-uri",
        "foreign-universe",
        "not-an-object",
    ],
)
def test_every_other_key_shape_is_refused_with_the_reason(
    key: dict[str, str], shape: Any, reason: str
) -> None:
    error = _refusal(shape(key))

    assert error.field == "service_account_json"
    assert reason in error.message
    assert not any(line in error.message for line in _pem_lines(key["private_key"]))
    assert "d-FL95Q19q7MQmFpd7hHD0Ty" not in error.message
    assert "curl evil" not in error.message


def test_refusals_of_foreign_types_say_what_is_accepted() -> None:
    message = _refusal(EXTERNAL_ACCOUNT).message
    assert '"type": "external_account"' in message
    assert '"type": "service_account"' in message
    assert "gcloud iam service-accounts keys create" in message


def test_malformed_json_names_line_and_column_without_quoting_the_key(
    key: dict[str, str],
) -> None:
    text = json.dumps(key, indent=2).replace('",\n  "client_email"', '"\n  "client_email"')

    error = _refusal(text)

    assert error.field == "service_account_json"
    assert "not valid JSON" in error.message
    assert "line 6, column 3" in error.message
    assert not any(line in error.message for line in _pem_lines(key["private_key"]))
    # Raised outside the handler: no chained JSONDecodeError carries the text along.
    assert error.__context__ is None
    assert error.__cause__ is None


def test_oversized_empty_and_ambiguous_uploads_are_refused(key: dict[str, str]) -> None:
    big = _with(key, padding="x" * (64 * 1024))
    assert "larger than 64 KiB" in _refusal(big).message
    assert "Paste or upload" in _refusal("  \n").message
    twice = json.dumps(key)[:-1] + ', "type": "authorized_user"}'
    assert 'names "type" twice' in _refusal(twice).message
    assert "nested too deeply" in _refusal("[" * 60_000).message


def test_project_ids_are_split_deduplicated_and_default_to_the_keys(key: dict[str, str]) -> None:
    parsed = _connect(key, "alpha-project-1, beta-project-2\ngamma-project-3  alpha-project-1")
    assert parsed.config["project_ids"] == ["alpha-project-1", "beta-project-2", "gamma-project-3"]
    assert _connect(key, " \n ").config["project_ids"] == [PROJECT]
    assert _connect(key, "example.com:legacy-project").config["project_ids"] == [
        "example.com:legacy-project"
    ]


@pytest.mark.parametrize(
    ("projects", "reason"),
    [
        ("Shop_Prod", "is not a Google Cloud project id"),
        ("abc", "is not a Google Cloud project id"),
        ("ends-with-hyphen-", "is not a Google Cloud project id"),
        ("9-starts-with-digit", "is not a Google Cloud project id"),
        ("123456789012", "looks like a project number"),
        (" ".join(f"project-{i:04d}" for i in range(101)), "At most 100 projects"),
    ],
)
def test_bad_project_ids_are_refused(key: dict[str, str], projects: str, reason: str) -> None:
    error = _refusal(key, project_ids=projects)
    assert error.field == "project_ids"
    assert reason in error.message


# --- discovery --------------------------------------------------------------------------------


def test_discovers_the_clusters_of_several_projects(fake: FakeGCP, key: dict[str, str]) -> None:
    ca = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    fake.add_cluster(PROJECT, FakeCluster("web", endpoint="34.76.1.2", ca_pem=ca))
    fake.add_cluster(
        "shop-dev-7731",
        FakeCluster(
            "batch",
            location="us-central1-a",
            endpoint="35.1.2.3",
            node_count=0,
            node_pools=[
                {"name": "a", "initialNodeCount": 2, "locations": ["z1", "z2", "z3"]},
                {"name": "b", "initialNodeCount": 1},
            ],
        ),
    )
    fake.add_cluster("shop-dev-7731", FakeCluster("new", status="PROVISIONING", node_count=0))
    fake.add_project("shop-empty-01")
    fake.missing_zones["shop-empty-01"] = ["asia-east1-b", "asia-east1-a"]
    parsed = _connect(key, "shop-prod-4821 shop-dev-7731 shop-empty-01")

    result = gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())

    web, batch, new = result.clusters
    assert web == DiscoveredCluster(
        provider="gcp",
        external_id=f"projects/{PROJECT}/locations/europe-west1/clusters/web",
        name="web",
        region="europe-west1",
        endpoint="https://34.76.1.2",
        ca_data=ca,
        kubernetes_version="1.30.5-gke.1014001",
        node_count=3,
        status="RUNNING",
        details={"project": PROJECT, "location": "europe-west1"},
    )
    assert batch.external_id == "projects/shop-dev-7731/locations/us-central1-a/clusters/batch"
    assert batch.region == "us-central1-a"
    assert batch.node_count == 2 * 3 + 1  # per zone, summed over the pools
    assert batch.ca_data is None
    assert (new.endpoint, new.status, new.node_count) == (None, "PROVISIONING", None)
    assert result.warnings == [
        "Project shop-empty-01: Google could not reach the zones asia-east1-a, asia-east1-b; "
        "clusters there may be missing until the next discovery."
    ]
    assert fake.count("GET") == 3


@pytest.mark.filterwarnings("ignore:Unrecognized Status enum value")
def test_an_unusable_endpoint_or_ca_is_a_warning(fake: FakeGCP, key: dict[str, str]) -> None:
    odd = {"masterAuth": {"clusterCaCertificate": "not base64!"}, "status": 99}
    fake.add_cluster(PROJECT, FakeCluster("odd", endpoint="10.0.0.1/evil?x", overrides=odd))

    result = gcp.discover(*_stored(key), endpoints=fake.endpoints())

    (cluster,) = result.clusters
    assert (cluster.endpoint, cluster.ca_data, cluster.status) == (None, None, "99")
    assert result.warnings == [
        f"Cluster odd in {PROJECT}: its endpoint is not a host name.",
        f"Cluster odd in {PROJECT}: its CA is not a PEM certificate.",
    ]


def test_a_failing_project_among_several_is_a_warning(fake: FakeGCP, key: dict[str, str]) -> None:
    fake.add_cluster(PROJECT, FakeCluster("web", endpoint="34.76.1.2"))
    fake.add_project("shop-legacy-01")
    fake.fail("shop-legacy-01", ApiError.service_disabled("shop-legacy-01"))
    parsed = _connect(key, f"{PROJECT} shop-gone-0001 shop-legacy-01")

    result = gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())

    assert [c.name for c in result.clusters] == ["web"]
    gone, disabled = result.warnings
    assert "Project shop-gone-0001 was not found" in gone
    assert "Kubernetes Engine API is not enabled in project shop-legacy-01" in disabled
    assert "gcloud services enable container.googleapis.com" in disabled


def test_a_missing_project_alone_is_a_provider_error(fake: FakeGCP, key: dict[str, str]) -> None:
    parsed = _connect(key, "shop-gone-0001")
    with pytest.raises(ProviderError) as info:
        gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())
    assert "Project shop-gone-0001 was not found" in info.value.reason


def test_permission_denied_is_credentials_refused(fake: FakeGCP, key: dict[str, str]) -> None:
    fake.add_cluster(PROJECT, FakeCluster("web", endpoint="34.76.1.2"))
    fake.add_project("shop-locked-01", viewers=["someone-else@example.com"])
    parsed = _connect(key, f"{PROJECT} shop-locked-01")

    with pytest.raises(CredentialsRefused) as info:
        gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())

    reason = info.value.reason
    assert key["client_email"] in reason
    assert "shop-locked-01" in reason
    assert "roles/container.clusterViewer" in reason


def test_a_key_google_does_not_know_is_credentials_refused(fake: FakeGCP) -> None:
    fake.add_project(PROJECT)
    unknown = make_service_account_key(PROJECT)  # never registered: deleted at Google
    parsed = _connect(unknown)

    with pytest.raises(CredentialsRefused) as info:
        gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())

    assert "deleted or disabled" in info.value.reason


@pytest.mark.parametrize(
    "error",
    [
        ApiError.unavailable(),
        ApiError(429, "RESOURCE_EXHAUSTED", "Quota exceeded."),
        ApiError(500, "INTERNAL", "Internal error."),
    ],
    ids=["503", "429", "500"],
)
def test_outages_and_throttling_are_provider_unavailable(
    fake: FakeGCP, key: dict[str, str], error: ApiError
) -> None:
    fake.add_cluster(PROJECT, FakeCluster("web", endpoint="34.76.1.2"))
    fake.fail(PROJECT, error)
    parsed = _connect(key)

    with pytest.raises(ProviderUnavailable) as info:
        gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())
    assert f"HTTP {error.code}" in info.value.reason
    assert fake.count("GET") == 1  # no hidden retries: the pipeline backs off

    # The outage is over: the next discovery succeeds.
    result = gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())
    assert [c.name for c in result.clusters] == ["web"]


def test_a_stalled_or_absent_api_is_provider_unavailable(
    fake: FakeGCP, key: dict[str, str]
) -> None:
    fake.add_project(PROJECT)
    fake.fail(PROJECT, ApiError.stall(3.0))
    parsed = _connect(key)

    with pytest.raises(ProviderUnavailable) as stalled:
        gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints(timeout=0.3))
    assert "did not answer in time" in stalled.value.reason

    nowhere = Endpoints(gcp_container=f"http://127.0.0.1:{free_port()}", timeout=2.0)
    with pytest.raises(ProviderUnavailable) as absent:
        gcp.discover(parsed.config, parsed.secret, endpoints=nowhere)
    assert "the connection failed" in absent.value.reason


def test_a_stored_key_is_checked_again_before_use(fake: FakeGCP, key: dict[str, str]) -> None:
    parsed = _connect(key)
    tampered = {"service_account_json": json.dumps(_with(key, token_uri="https://evil.example"))}
    endpoints = fake.endpoints()

    with pytest.raises(CredentialsRefused) as info:
        gcp.discover(parsed.config, tampered, endpoints=endpoints)
    assert "cannot be used any more" in info.value.reason
    with pytest.raises(CredentialsRefused):
        gcp.discover(parsed.config, None, endpoints=endpoints)
    assert fake.requests == []


def test_tls_endpoints_are_verified_with_the_ca_bundle(tmp_path: Path) -> None:
    with (
        FakeGCP(tls=True) as fake,
        FakeKubeAPI(KUBE_OBJECTS, token=None, accept_token=fake.token_checker()) as api,
    ):
        key = fake.new_service_account(PROJECT)
        fake.add_cluster(PROJECT, FakeCluster.serving("web", api))
        bundle = tmp_path / "ca.pem"
        bundle.write_bytes(fake.ca_pem)
        parsed = _connect(key)

        with pytest.raises(ProviderUnavailable) as info:
            gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints())
        assert "TLS certificate could not be verified" in info.value.reason

        trusted = fake.endpoints(ca_bundle=str(bundle))
        (cluster,) = gcp.discover(parsed.config, parsed.secret, endpoints=trusted).clusters
        access = gcp.cluster_access(
            parsed.config, parsed.secret, cluster, endpoints=trusted, allow_private_endpoints=True
        )
        assert read_cluster(access, kinds=["Namespace"], retry=FAST_RETRY).listed == {"Namespace"}


# --- cluster credentials ----------------------------------------------------------------------


@pytest.fixture
def kube(fake: FakeGCP) -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(KUBE_OBJECTS, token=None, accept_token=fake.token_checker()) as api:
        yield api


def _discovered(fake: FakeGCP, parsed: ParsedCredentials, kube: FakeKubeAPI) -> DiscoveredCluster:
    fake.add_cluster(PROJECT, FakeCluster.serving("web", kube))
    (cluster,) = gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints()).clusters
    return cluster


def test_the_minted_token_reads_the_cluster(
    fake: FakeGCP, key: dict[str, str], kube: FakeKubeAPI
) -> None:
    parsed = _connect(key)
    cluster = _discovered(fake, parsed, kube)

    access = gcp.cluster_access(
        parsed.config,
        parsed.secret,
        cluster,
        endpoints=fake.endpoints(),
        allow_private_endpoints=True,
    )
    snapshot = read_cluster(access, kinds=["Namespace"], retry=FAST_RETRY)

    assert sorted(n.metadata.name for n in snapshot.namespaces) == ["default", "shop"]
    assert snapshot.warnings == []
    assert access.server == kube.url
    assert access.ca_data == kube.ca_pem
    assert len(fake.issued) == 1
    assert kube.requests
    assert all(r.status == 200 for r in kube.requests)
    assert not fake.token_checker()("ya29.made-up")


@pytest.mark.parametrize(("lifetime", "grants", "distinct"), [(3600, 1, 1), (60, 3, 2)])
def test_the_token_is_reused_until_near_expiry(lifetime: int, grants: int, distinct: int) -> None:
    with (
        FakeGCP(expires_in=lifetime) as fake,
        FakeKubeAPI(KUBE_OBJECTS, token=None, accept_token=fake.token_checker()) as kube,
    ):
        parsed = _connect(fake.new_service_account(PROJECT))
        cluster = _discovered(fake, parsed, kube)
        access = gcp.cluster_access(
            parsed.config,
            parsed.secret,
            cluster,
            endpoints=fake.endpoints(),
            allow_private_endpoints=True,
        )
        assert access.token_provider is not None
        tokens = {access.token_provider(), access.token_provider()}

        # A 60 s token is inside Google's refresh margin (3m45s): each use mints a new one.
        assert fake.count("POST", "^/token$") == grants
        assert len(tokens) == distinct
        assert all(fake.token_checker()(t) for t in tokens)


def test_a_revoked_key_is_refused_when_minting(
    fake: FakeGCP, key: dict[str, str], kube: FakeKubeAPI
) -> None:
    parsed = _connect(key)
    cluster = _discovered(fake, parsed, kube)
    fake.revoke(key["client_email"])

    with pytest.raises(CredentialsRefused) as info:
        gcp.cluster_access(
            parsed.config,
            parsed.secret,
            cluster,
            endpoints=fake.endpoints(),
            allow_private_endpoints=True,
        )
    assert "invalid_grant" in info.value.reason
    assert key["client_email"] in info.value.reason


def test_a_cluster_without_endpoint_cannot_be_accessed(fake: FakeGCP, key: dict[str, str]) -> None:
    fake.add_cluster(PROJECT, FakeCluster("new", status="PROVISIONING"))
    parsed = _connect(key)
    (cluster,) = gcp.discover(parsed.config, parsed.secret, endpoints=fake.endpoints()).clusters

    with pytest.raises(ProviderError) as info:
        gcp.cluster_access(
            parsed.config,
            parsed.secret,
            cluster,
            endpoints=fake.endpoints(),
            allow_private_endpoints=True,
        )
    assert "no API endpoint yet (status PROVISIONING)" in info.value.reason
    assert fake.count("POST") == 0


def test_private_endpoints_are_refused_unless_allowed(
    fake: FakeGCP, key: dict[str, str], kube: FakeKubeAPI
) -> None:
    parsed = _connect(key)
    cluster = _discovered(fake, parsed, kube)

    access = gcp.cluster_access(
        parsed.config,
        parsed.secret,
        cluster,
        endpoints=fake.endpoints(),
        allow_private_endpoints=False,
    )
    with pytest.raises(ClusterUnreachable, match="refused to connect"):
        read_cluster(access, kinds=["Namespace"], retry=FAST_RETRY)
    assert kube.requests == []


# --- no secret anywhere -----------------------------------------------------------------------


def _minted_tokens(kube: FakeKubeAPI) -> set[str]:
    """The bearer tokens the cluster actually received."""
    return {
        r.headers["authorization"].removeprefix("Bearer ")
        for r in kube.requests
        if "authorization" in r.headers
    }


def test_no_secret_in_errors_reprs_or_logs(
    fake: FakeGCP, key: dict[str, str], kube: FakeKubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    errors: list[BaseException] = []
    parsed = _connect(key)
    texts.append(repr(parsed))
    for bad in (_with(key, token_uri="https://evil.example/token"), _with(key, type=None)):
        errors.append(_refusal(bad))
    errors.append(_refusal(json.dumps(key)[:-3]))

    cluster = _discovered(fake, parsed, kube)
    texts.append(repr(cluster))
    access = gcp.cluster_access(
        parsed.config,
        parsed.secret,
        cluster,
        endpoints=fake.endpoints(),
        allow_private_endpoints=True,
    )
    texts += [repr(access), repr(access.token_provider)]
    read_cluster(access, kinds=["Namespace"], retry=FAST_RETRY)

    fake.add_project("shop-locked-01", viewers=[])
    locked = {**parsed.config, "project_ids": ["shop-locked-01"]}
    for config, endpoints in (
        (locked, fake.endpoints()),
        (parsed.config, Endpoints(gcp_container=f"http://127.0.0.1:{free_port()}")),
    ):
        with pytest.raises(CloudError) as info:
            gcp.discover(config, parsed.secret, endpoints=endpoints)
        errors.append(info.value)
    fake.revoke(key["client_email"])
    with pytest.raises(CredentialsRefused) as refused:
        gcp.cluster_access(
            parsed.config,
            parsed.secret,
            cluster,
            endpoints=fake.endpoints(),
            allow_private_endpoints=True,
        )
    errors.append(refused.value)

    for error in errors:
        texts += _texts(error)
    assert caplog.text  # the HTTP libraries did log: the check below is not vacuous
    texts.append(caplog.text)
    secrets = _pem_lines(key["private_key"]) + list(_minted_tokens(kube))
    assert len(_minted_tokens(kube)) == 1
    for text in texts:
        for secret in secrets:
            assert secret not in text
        assert "eyJ" not in text  # no signed JWT (assertion or self-signed token)


def test_a_key_whose_private_half_google_does_not_know_is_refused(
    fake: FakeGCP, key: dict[str, str]
) -> None:
    # The token endpoint really checks signatures: a key with the same email but another RSA
    # key pair is refused, so the minting tests above prove the adapter signs with the key.
    impostor = {**make_service_account_key(PROJECT), "client_email": key["client_email"]}
    fake.add_project(PROJECT)
    cluster = DiscoveredCluster(
        provider="gcp",
        external_id="x",
        name="web",
        region="europe-west1",
        endpoint="https://127.0.0.1:1",
        ca_data=None,
    )
    with pytest.raises(CredentialsRefused, match="Invalid JWT Signature"):
        gcp.cluster_access(
            {},
            _connect(impostor).secret,
            cluster,
            endpoints=fake.endpoints(),
            allow_private_endpoints=True,
        )
    assert fake.issued == []
