"""The AWS adapter over real HTTP: moto's server and tests/fakes/aws.py for EKS and STS, and the
fake Kubernetes API accepting (or refusing) the EKS tokens the adapter mints."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3  # type: ignore[import-untyped]
import pytest
from botocore.retries import standard  # type: ignore[import-untyped]
from moto.server import ThreadedMotoServer

from app.clouds import aws
from app.clouds.base import (
    CloudError,
    CredentialsRefused,
    DiscoveredCluster,
    Endpoints,
    InvalidCredentials,
    ProviderError,
    ProviderUnavailable,
)
from app.kube.reader import AuthenticationRefused, read_cluster
from tests.conftest import free_port
from tests.fakes.aws import (
    AWS_ENV_CLEARED,
    AwsFault,
    FakeAWS,
    eks_token_checker,
    leftover_aws_env,
)
from tests.fakes.kube_api import FakeKubeAPI

LEFTOVER_KEY = "AKIALEFTOVEROWNKEY01"  # Leftover's own identity (the default chain)
LEFTOVER_SECRET = "LeftoverOwnSecret/" + "L" * 22
CUSTOMER_KEY = "AKIACUSTOMERKEY00001"
CUSTOMER_SECRET = "CustomerSecret+Key/" + "c" * 21
ROLE_ARN = "arn:aws:iam::444455556666:role/leftover/LeftoverReadOnly"
EXTERNAL_ID = "lo-7f3c9a0e2b4d4c1e9a8b"
ROLE_CONFIG: dict[str, Any] = {
    "auth": "role",
    "role_arn": ROLE_ARN,
    "external_id": EXTERNAL_ID,
    "regions": ["eu-west-1", "us-east-1"],
}
KEYS_CONFIG: dict[str, Any] = {
    "auth": "keys",
    "role_arn": None,
    "external_id": "",
    "regions": ["eu-west-1", "us-east-1"],
}
KEYS_SECRET = {"access_key_id": CUSTOMER_KEY, "secret_access_key": CUSTOMER_SECRET}
OBJECTS = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}},
    {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
    },
]


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leftover's own identity comes from the environment; nothing from this machine leaks in."""
    for name in AWS_ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    for name, value in leftover_aws_env(LEFTOVER_KEY, LEFTOVER_SECRET).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's jittered backoff sleeps up to seconds between its 5 attempts; the attempts
    are what these tests count, not the sleeping."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def fake() -> Iterator[FakeAWS]:
    keys = {LEFTOVER_KEY: LEFTOVER_SECRET, CUSTOMER_KEY: CUSTOMER_SECRET}
    with FakeAWS(keys=keys, roles={ROLE_ARN: EXTERNAL_ID}, page_size=1) as server:
        yield server


@pytest.fixture
def kube() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(OBJECTS, token=None) as api:
        api.accept_token = lambda token: False  # each test says which tokens it accepts
        yield api


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_url(moto_server: str) -> str:
    import requests

    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    return moto_server


def token_url(token: str) -> str:
    """The presigned URL inside an EKS token."""
    encoded = token.removeprefix("k8s-aws-v1.")
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def endpoints(server: FakeAWS, **extra: Any) -> Endpoints:
    return Endpoints(aws=server.url, **{"timeout": 5.0, **extra})


# --- parse_form -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:iam::123456789012:role/LeftoverReadOnly",
        "arn:aws-cn:iam::123456789012:role/Leftover",
        "arn:aws-us-gov:iam::123456789012:role/team/ops/Leftover+Reader=1,.@-_",
    ],
)
def test_parse_form_accepts_a_role_arn(arn: str) -> None:
    form = {"auth": "role", "role_arn": f"  {arn} ", "external_id": EXTERNAL_ID, "regions": ""}
    parsed = aws.parse_form(form)
    assert parsed.config == {
        "auth": "role",
        "role_arn": arn,
        "external_id": EXTERNAL_ID,
        "regions": [],
    }
    assert parsed.secret is None


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "arn:aws:iam::123456789012:user/leftover",
        "arn:aws:sts::123456789012:assumed-role/Leftover/session",
        "arn:aws:iam::12345678901:role/Leftover",
        "arn:aws:iam::1234567890123:role/Leftover",
        "arn:aws-eu:iam::123456789012:role/Leftover",
        "arn:aws:iam:us-east-1:123456789012:role/Leftover",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/Leftover Reader",
        "arn:aws:iam::123456789012:role/" + "r" * 65,
        "arn:aws:iam::123456789012:policy/Leftover",
        "arn:aws:iam::123456789012:role/Léftover",
    ],
)
def test_parse_form_refuses_a_malformed_role_arn(arn: str) -> None:
    with pytest.raises(InvalidCredentials) as caught:
        aws.parse_form({"auth": "role", "role_arn": arn, "external_id": EXTERNAL_ID})
    assert caught.value.field == "role_arn"
    assert "role" in caught.value.message


def test_the_existing_external_id_wins_over_the_form() -> None:
    form = {"auth": "role", "role_arn": ROLE_ARN, "external_id": "attacker-chosen-id"}
    parsed = aws.parse_form(form, existing={"external_id": EXTERNAL_ID, "auth": "role"})
    assert parsed.config["external_id"] == EXTERNAL_ID


@pytest.mark.parametrize("external_id", ["", "x", "a" * 1225, "has space", "semi;colon", "é-id"])
def test_parse_form_refuses_a_missing_or_malformed_external_id(external_id: str) -> None:
    with pytest.raises(InvalidCredentials) as caught:
        aws.parse_form({"auth": "role", "role_arn": ROLE_ARN, "external_id": external_id})
    assert caught.value.field == "external_id"


def test_parse_form_accepts_every_external_id_character() -> None:
    external_id = "Ab9_+=,.@:/-" + "z" * 1212
    parsed = aws.parse_form({"auth": "role", "role_arn": ROLE_ARN, "external_id": external_id})
    assert parsed.config["external_id"] == external_id


def test_parse_form_accepts_access_keys_and_keeps_them_secret() -> None:
    form = {
        "auth": "keys",
        "access_key_id": CUSTOMER_KEY,
        "secret_access_key": f" {CUSTOMER_SECRET}\n",
        "regions": "eu-west-1",
        "role_arn": "",
    }
    parsed = aws.parse_form(form)
    assert parsed.config == {
        "auth": "keys",
        "role_arn": None,
        "external_id": "",
        "regions": ["eu-west-1"],
    }
    assert parsed.secret == KEYS_SECRET
    assert CUSTOMER_SECRET not in repr(parsed)


@pytest.mark.parametrize(
    ("key_id", "secret", "field"),
    [
        ("", CUSTOMER_SECRET, "access_key_id"),
        ("AKIA123", CUSTOMER_SECRET, "access_key_id"),
        ("akiacustomerkey00001", CUSTOMER_SECRET, "access_key_id"),
        ("AIDACUSTOMERKEY00001", CUSTOMER_SECRET, "access_key_id"),
        ("ASIACUSTOMERKEY00001", CUSTOMER_SECRET, "access_key_id"),
        (CUSTOMER_KEY, "", "secret_access_key"),
        (CUSTOMER_KEY, CUSTOMER_SECRET[:39], "secret_access_key"),
        (CUSTOMER_KEY, CUSTOMER_SECRET + "x", "secret_access_key"),
        (CUSTOMER_KEY, CUSTOMER_SECRET[:39] + "!", "secret_access_key"),
    ],
)
def test_parse_form_refuses_malformed_keys_without_echoing_them(
    key_id: str, secret: str, field: str
) -> None:
    form = {"auth": "keys", "access_key_id": key_id, "secret_access_key": secret}
    with pytest.raises(InvalidCredentials) as caught:
        aws.parse_form(form)
    assert caught.value.field == field
    for text in (str(caught.value), repr(caught.value), caught.value.message):
        assert CUSTOMER_SECRET[:20] not in text
        assert not secret or secret[:20] not in text


def test_a_temporary_key_is_refused_with_the_reason() -> None:
    form = {"auth": "keys", "access_key_id": "ASIACUSTOMERKEY00001", "secret_access_key": "x"}
    with pytest.raises(InvalidCredentials, match="temporary"):
        aws.parse_form(form)


def test_parse_form_reads_regions_in_any_separator_once_each() -> None:
    form = {
        "auth": "role",
        "role_arn": ROLE_ARN,
        "external_id": EXTERNAL_ID,
        "regions": "us-east-1, EU-west-1\nap-southeast-2 us-east-1;us-gov-west-1",
    }
    regions = aws.parse_form(form).config["regions"]
    assert regions == ["us-east-1", "eu-west-1", "ap-southeast-2", "us-gov-west-1"]


@pytest.mark.parametrize("regions", ["mars-1", "us-east", "us_east_1", "useast1", "1-us-east"])
def test_parse_form_refuses_a_bad_region(regions: str) -> None:
    form = {"auth": "role", "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID, "regions": regions}
    with pytest.raises(InvalidCredentials) as caught:
        aws.parse_form(form)
    assert caught.value.field == "regions"


def test_parse_form_refuses_an_unknown_auth_kind() -> None:
    with pytest.raises(InvalidCredentials) as caught:
        aws.parse_form({"auth": "password", "role_arn": ROLE_ARN, "external_id": EXTERNAL_ID})
    assert caught.value.field == "auth"


# --- policies ---------------------------------------------------------------------------------


def test_policies_trust_only_leftover_with_this_external_id_and_read_only_eks() -> None:
    principal = "arn:aws:iam::999988887777:role/leftover-service"
    trust_text, permissions_text = aws.policies(principal, EXTERNAL_ID)
    assert json.loads(trust_text) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "LeftoverAssumeRole",
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    permissions = json.loads(permissions_text)
    [statement] = permissions["Statement"]
    assert statement["Effect"] == "Allow"
    assert sorted(statement["Action"]) == [
        "eks:DescribeCluster",
        "eks:DescribeNodegroup",
        "eks:ListClusters",
        "eks:ListNodegroups",
    ]
    assert "\n  " in trust_text  # pretty, for pasting


# --- discovery --------------------------------------------------------------------------------


def test_discovery_through_moto_lists_and_describes_clusters_across_regions(moto_url: str) -> None:
    for region, names in (("eu-west-1", ["shop", "data"]), ("us-east-1", ["edge"])):
        eks = boto3.client("eks", region_name=region, endpoint_url=moto_url)
        for name in names:
            eks.create_cluster(
                name=name,
                version="1.29",
                roleArn="arn:aws:iam::123456789012:role/eks",
                resourcesVpcConfig={},
            )
    boto3.client("eks", region_name="eu-west-1", endpoint_url=moto_url).create_nodegroup(
        clusterName="shop",
        nodegroupName="general",
        nodeRole="arn:aws:iam::123456789012:role/node",
        subnets=["subnet-1"],
        scalingConfig={"minSize": 1, "maxSize": 5, "desiredSize": 3},
    )
    config = {**KEYS_CONFIG, "regions": ["eu-west-1", "us-east-1", "ap-south-1"]}

    result = aws.discover(config, KEYS_SECRET, endpoints=Endpoints(aws=moto_url))

    found = {(c.region, c.name): c for c in result.clusters}
    assert sorted(found) == [("eu-west-1", "data"), ("eu-west-1", "shop"), ("us-east-1", "edge")]
    shop = found[("eu-west-1", "shop")]
    assert shop.provider == "aws"
    assert shop.external_id == "arn:aws:eks:eu-west-1:123456789012:cluster/shop"
    assert shop.kubernetes_version == "1.29"
    assert shop.status == "ACTIVE"
    assert shop.node_count == 3
    assert found[("us-east-1", "edge")].node_count is None  # no managed node group
    assert shop.endpoint is not None
    assert shop.endpoint.startswith("https://")
    # moto invents the CA: it is not a certificate, so it is dropped and said.
    assert all(c.ca_data is None for c in result.clusters)
    assert len(result.warnings) == 3
    assert all("CA certificate" in w for w in result.warnings)


def test_role_discovery_serves_each_clusters_endpoint_and_ca(
    fake: FakeAWS, kube: FakeKubeAPI
) -> None:
    fake.add_cluster(
        "prod", "eu-west-1", endpoint=kube.url, ca_pem=kube.ca_pem, nodegroups={"a": 2, "b": 3}
    )
    fake.add_cluster("stage", "eu-west-1", endpoint=kube.url, ca_pem=kube.ca_pem, version="1.31")
    fake.add_cluster("edge", "us-east-1", endpoint=None, ca_pem=None, status="CREATING")
    fake.add_cluster("elsewhere", "ap-south-1", endpoint=kube.url, ca_pem=kube.ca_pem)

    result = aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))

    assert [(c.region, c.name) for c in result.clusters] == [
        ("eu-west-1", "prod"),
        ("eu-west-1", "stage"),
        ("us-east-1", "edge"),
    ]
    prod, stage, edge = result.clusters
    assert prod.endpoint == kube.url
    assert prod.ca_data == kube.ca_pem
    assert prod.external_id == "arn:aws:eks:eu-west-1:111122223333:cluster/prod"
    assert (prod.node_count, stage.node_count, stage.kubernetes_version) == (5, None, "1.31")
    assert (edge.endpoint, edge.ca_data, edge.status) == (None, None, "CREATING")
    assert result.warnings == []
    [assumed] = fake.assumed
    assert (assumed.role_arn, assumed.session_name) == (ROLE_ARN, "leftover-discovery")
    assert (assumed.external_id, assumed.duration) == (EXTERNAL_ID, 900)
    # Paginated (a page of one), and EKS was called with the assumed role, never the own key.
    assert fake.count(service="eks", path="^/clusters$") == 3
    eks_keys = {r.key_id for r in fake.requests if r.service == "eks"}
    assert eks_keys == {assumed.key_id}
    sts_keys = {r.key_id for r in fake.requests if r.service == "sts"}
    assert sts_keys == {LEFTOVER_KEY}


@pytest.mark.parametrize("external_id", ["lo-someone-elses-id", "lo-7f3c9a0e2b4d4c1e9a8c"])
def test_a_wrong_external_id_is_refused_in_a_plain_sentence(
    fake: FakeAWS, external_id: str
) -> None:
    fake.add_cluster("prod", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
    config = {**ROLE_CONFIG, "external_id": external_id}

    with pytest.raises(CredentialsRefused) as caught:
        aws.discover(config, None, endpoints=endpoints(fake))

    assert f"assume {ROLE_ARN}" in caught.value.reason
    assert "trust policy" in caught.value.reason
    assert "external id" in caught.value.reason
    assert fake.count(service="eks") == 0


def test_a_role_that_does_not_trust_leftover_is_refused(fake: FakeAWS) -> None:
    config = {**ROLE_CONFIG, "role_arn": "arn:aws:iam::444455556666:role/SomethingElse"}
    with pytest.raises(CredentialsRefused, match="SomethingElse"):
        aws.discover(config, None, endpoints=endpoints(fake))


def test_without_an_identity_of_its_own_leftover_reports_an_operator_problem(
    fake: FakeAWS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ProviderError, match="operator"):
        aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))


def test_a_revoked_leftover_identity_is_not_blamed_on_the_customer(fake: FakeAWS) -> None:
    fake.revoke(LEFTOVER_KEY)
    with pytest.raises(ProviderError, match="Leftover's own identity"):
        aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))


def test_keys_discovery_uses_the_stored_keys(fake: FakeAWS) -> None:
    fake.add_cluster("prod", "us-east-1", endpoint="https://eks.example", ca_pem=None)
    result = aws.discover(KEYS_CONFIG, KEYS_SECRET, endpoints=endpoints(fake))
    assert [c.name for c in result.clusters] == ["prod"]
    assert {r.key_id for r in fake.requests} == {CUSTOMER_KEY}
    assert fake.assumed == []


@pytest.mark.parametrize("regions", [["eu-west-1"], []])
def test_revoked_keys_are_refused(fake: FakeAWS, regions: list[str]) -> None:
    fake.revoke(CUSTOMER_KEY)
    config = {**KEYS_CONFIG, "regions": regions}
    with pytest.raises(CredentialsRefused) as caught:
        aws.discover(config, KEYS_SECRET, endpoints=endpoints(fake))
    assert "deleted or deactivated" in caught.value.reason


def test_a_wrong_secret_is_refused(fake: FakeAWS) -> None:
    secret = {**KEYS_SECRET, "secret_access_key": "W" * 40}
    with pytest.raises(CredentialsRefused, match="secret access key"):
        aws.discover(KEYS_CONFIG, secret, endpoints=endpoints(fake))


def test_expired_credentials_are_refused(fake: FakeAWS) -> None:
    fake.inject(AwsFault.denied("ExpiredTokenException"), service="eks")
    with pytest.raises(CredentialsRefused, match="expired"):
        aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))


def test_a_role_without_the_permission_policy_is_told_which_actions(fake: FakeAWS) -> None:
    fake.inject(AwsFault.denied(), service="eks")
    with pytest.raises(CredentialsRefused) as caught:
        aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))
    assert f"The role {ROLE_ARN} may not list" in caught.value.reason
    assert "eks:ListClusters" in caught.value.reason


@pytest.mark.parametrize(
    "fault", [AwsFault.throttle(), AwsFault.server_error(500), AwsFault.server_error(503)]
)
def test_throttling_and_5xx_are_unavailable_after_five_retries(
    fake: FakeAWS, fault: AwsFault, no_backoff: None
) -> None:
    fake.inject(fault, service="eks", region="eu-west-1")
    config = {**ROLE_CONFIG, "regions": ["eu-west-1"]}
    with pytest.raises(ProviderUnavailable) as caught:
        aws.discover(config, None, endpoints=endpoints(fake))
    assert fault.code in caught.value.reason
    assert "eu-west-1" in caught.value.reason
    assert fake.count(service="eks", path="^/clusters$") == 6  # the first call and 5 retries


def test_a_throttle_that_passes_is_retried_transparently(fake: FakeAWS, no_backoff: None) -> None:
    fake.add_cluster("prod", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
    fake.inject(AwsFault.throttle(), service="eks", path="^/clusters/prod$", times=2)
    result = aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))
    assert [c.name for c in result.clusters] == ["prod"]


def test_one_failing_region_fails_the_run_rather_than_losing_its_clusters(
    fake: FakeAWS, no_backoff: None
) -> None:
    fake.add_cluster("prod", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
    fake.inject(AwsFault.server_error(), service="eks", region="us-east-1")
    with pytest.raises(ProviderUnavailable, match="us-east-1"):
        aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))


def test_an_unexpected_answer_is_a_provider_error(fake: FakeAWS) -> None:
    fake.inject(AwsFault(400, "InvalidParameterException", "bad parameter"), service="eks")
    with pytest.raises(ProviderError, match="InvalidParameterException"):
        aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))


def test_an_unreachable_endpoint_is_unavailable(no_backoff: None) -> None:
    dead = Endpoints(aws=f"http://127.0.0.1:{free_port()}", timeout=2.0)
    with pytest.raises(ProviderUnavailable):
        aws.discover(KEYS_CONFIG, KEYS_SECRET, endpoints=dead)


def test_a_stalled_endpoint_times_out_as_unavailable(fake: FakeAWS, no_backoff: None) -> None:
    fake.inject(AwsFault.stall(30), service="eks")
    config = {**KEYS_CONFIG, "regions": ["eu-west-1"]}
    with pytest.raises(ProviderUnavailable):
        aws.discover(config, KEYS_SECRET, endpoints=endpoints(fake, timeout=0.3))
    assert fake.count(service="eks") == 6


def test_an_opt_in_region_that_refuses_becomes_a_warning(fake: FakeAWS) -> None:
    fake.add_cluster("prod", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
    fake.refuse_region("af-south-1")
    fake.refuse_region("me-south-1", code="InvalidClientTokenId")

    result = aws.discover({**ROLE_CONFIG, "regions": []}, None, endpoints=endpoints(fake))

    assert [c.name for c in result.clusters] == ["prod"]
    assert len(result.warnings) == 2
    af, me = result.warnings
    assert af.startswith("af-south-1:")
    assert me.startswith("me-south-1:")
    assert "opt-in region" in af
    assert "UnrecognizedClientException" in af
    regions_asked = {r.region for r in fake.requests if r.service == "eks"}
    assert len(regions_asked) > 30  # every EKS region of the partition


def test_when_every_region_refuses_the_credentials_are_refused(fake: FakeAWS) -> None:
    for region in ("eu-west-1", "us-east-1"):
        fake.refuse_region(region)
    with pytest.raises(CredentialsRefused):
        aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))


def test_a_cluster_the_role_may_not_describe_is_skipped_with_a_warning(fake: FakeAWS) -> None:
    fake.add_cluster("open", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
    fake.add_cluster("locked", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
    fake.inject(AwsFault.denied(), service="eks", path="^/clusters/locked$")

    result = aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))

    assert [c.name for c in result.clusters] == ["open"]
    [warning] = result.warnings
    assert warning.startswith("eu-west-1/locked:")


def test_node_groups_the_role_may_not_read_leave_the_count_unknown(
    fake: FakeAWS, kube: FakeKubeAPI
) -> None:
    fake.add_cluster(
        "prod", "eu-west-1", endpoint=kube.url, ca_pem=kube.ca_pem, nodegroups={"a": 4}
    )
    fake.deny_nodegroups = True
    [cluster] = aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake)).clusters
    assert cluster.node_count is None
    assert cluster.ca_data == kube.ca_pem


def test_an_unreadable_ca_is_dropped_with_a_warning(fake: FakeAWS) -> None:
    fake.add_cluster("prod", "eu-west-1", endpoint="https://e.example", ca_pem=None, ca_data="!!")
    result = aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake))
    assert result.clusters[0].ca_data is None
    assert result.warnings == ["eu-west-1/prod: AWS returned no readable CA certificate for it."]


def test_eks_and_sts_endpoints_are_separate_settings(moto_url: str) -> None:
    # moto's STS assumes the role; the fake serves EKS and accepts moto's session keys.
    with FakeAWS(keys=None) as eks_only:
        eks_only.add_cluster("prod", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
        split = Endpoints(
            aws_eks=eks_only.url, aws_sts=moto_url, aws=f"http://127.0.0.1:{free_port()}"
        )

        result = aws.discover(ROLE_CONFIG, None, endpoints=split)

        assert [c.name for c in result.clusters] == ["prod"]
        assert eks_only.count(service="sts") == 0
        assert {r.key_id[:4] for r in eks_only.requests} == {"ASIA"}  # moto's session keys


def test_tls_to_aws_is_verified_with_the_configured_ca_bundle(no_backoff: None) -> None:
    with FakeAWS(keys={CUSTOMER_KEY: CUSTOMER_SECRET}, tls=True) as secure:
        secure.add_cluster("prod", "eu-west-1", endpoint="https://eks.example", ca_pem=None)
        trusted = Endpoints(aws=secure.url, ca_bundle=secure.ca_file, timeout=5.0)
        result = aws.discover(KEYS_CONFIG, KEYS_SECRET, endpoints=trusted)
        assert [c.name for c in result.clusters] == ["prod"]

        with pytest.raises(ProviderError, match="SSL"):
            aws.discover(KEYS_CONFIG, KEYS_SECRET, endpoints=Endpoints(aws=secure.url))


def test_incomplete_stored_settings_ask_for_new_credentials() -> None:
    with pytest.raises(CredentialsRefused, match="replace"):
        aws.discover({"auth": "keys", "regions": []}, None, endpoints=Endpoints())


# --- cluster access ---------------------------------------------------------------------------


def _discovered(fake: FakeAWS, kube: FakeKubeAPI, config: dict[str, Any], secret: Any) -> Any:
    fake.add_cluster("prod", "eu-west-1", endpoint=kube.url, ca_pem=kube.ca_pem)
    [cluster] = aws.discover(config, secret, endpoints=endpoints(fake)).clusters
    return cluster


@pytest.mark.parametrize(("config", "secret"), [(ROLE_CONFIG, None), (KEYS_CONFIG, KEYS_SECRET)])
def test_a_minted_token_reads_the_cluster(
    fake: FakeAWS, kube: FakeKubeAPI, config: dict[str, Any], secret: Any
) -> None:
    cluster = _discovered(fake, kube, config, secret)
    kube.accept_token = eks_token_checker("prod", sts_host=fake.host, aws=fake)
    before = len(fake.requests)

    access = aws.cluster_access(
        config, secret, cluster, endpoints=endpoints(fake), allow_private_endpoints=True
    )
    snapshot = read_cluster(access, kinds=["Namespace", "ConfigMap"])

    assert (access.server, access.ca_data, access.name) == (kube.url, kube.ca_pem, "prod")
    assert access.allow_private_endpoints is True
    assert [n.metadata.name for n in snapshot.namespaces] == ["shop"]
    assert {"Namespace", "ConfigMap"} <= snapshot.listed
    assert kube.requests
    assert all(r.status == 200 for r in kube.requests)
    # Minting is offline: the only AWS call is the role's AssumeRole.
    calls = [(r.service, r.action) for r in fake.requests[before:]]
    assert calls == ([("sts", "AssumeRole")] if config["auth"] == "role" else [])
    if config["auth"] == "role":
        assert (fake.assumed[-1].session_name, fake.assumed[-1].duration) == ("leftover-scan", 3600)


def test_the_token_is_the_eks_presigned_get_caller_identity(fake: FakeAWS) -> None:
    cluster = DiscoveredCluster("aws", "arn", "prod", "eu-west-1", "https://eks.example", None)
    access = aws.cluster_access(
        KEYS_CONFIG, KEYS_SECRET, cluster, endpoints=endpoints(fake), allow_private_endpoints=False
    )
    assert access.token_provider is not None
    token = access.token_provider()
    assert token.startswith("k8s-aws-v1.")
    assert "=" not in token
    url = token_url(token)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert parts.netloc == fake.host
    assert query["Action"] == "GetCallerIdentity"
    assert query["X-Amz-Expires"] == "60"
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Credential"].startswith(f"{CUSTOMER_KEY}/")
    assert "/eu-west-1/sts/aws4_request" in query["X-Amz-Credential"]
    assert fake.presigned_caller(url, {"x-k8s-aws-id": "prod"}) is not None
    assert fake.presigned_caller(url, {"x-k8s-aws-id": "another-cluster"}) is None
    assert access.allow_private_endpoints is False


def test_a_token_for_another_cluster_is_refused_by_the_api_server(
    fake: FakeAWS, kube: FakeKubeAPI
) -> None:
    cluster = _discovered(fake, kube, ROLE_CONFIG, None)
    kube.accept_token = eks_token_checker("another-cluster", sts_host=fake.host, aws=fake)
    access = aws.cluster_access(
        ROLE_CONFIG, None, cluster, endpoints=endpoints(fake), allow_private_endpoints=True
    )
    with pytest.raises(AuthenticationRefused):
        read_cluster(access, kinds=["Namespace"])


def test_the_checker_refuses_tokens_of_the_wrong_shape(fake: FakeAWS) -> None:
    check = eks_token_checker("prod", sts_host=fake.host)
    good_url = f"http://{fake.host}/?Action=GetCallerIdentity&Version=2011-06-15"
    signed = "&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"

    def token(url: str) -> str:
        return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")

    assert check(token(good_url + signed))
    assert not check(token(good_url + signed.replace("60", "900")))
    assert not check(token(good_url + "&X-Amz-Expires=60&X-Amz-SignedHeaders=host"))
    assert not check(token(good_url.replace(fake.host, "evil.example") + signed))
    assert not check("t0ken")


def test_access_to_a_cluster_without_an_endpoint_is_a_provider_error(fake: FakeAWS) -> None:
    cluster = DiscoveredCluster("aws", "arn", "new", "eu-west-1", None, None, status="CREATING")
    with pytest.raises(ProviderError, match="CREATING"):
        aws.cluster_access(
            KEYS_CONFIG,
            KEYS_SECRET,
            cluster,
            endpoints=endpoints(fake),
            allow_private_endpoints=True,
        )


def test_cluster_access_with_a_refused_role_fails_before_the_scan(
    fake: FakeAWS, kube: FakeKubeAPI
) -> None:
    cluster = _discovered(fake, kube, ROLE_CONFIG, None)
    config = {**ROLE_CONFIG, "external_id": "lo-not-the-right-one"}
    with pytest.raises(CredentialsRefused, match="external id"):
        aws.cluster_access(
            config, None, cluster, endpoints=endpoints(fake), allow_private_endpoints=True
        )


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_tokens_are_reused_then_reminted_and_the_role_reassumed_before_it_expires(
    fake: FakeAWS,
) -> None:
    clock = Clock()
    provider = aws.EksTokenProvider(
        ROLE_CONFIG,
        None,
        cluster_name="prod",
        region="eu-west-1",
        endpoints=endpoints(fake),
        now=clock,
    )
    first = provider()
    clock.now += timedelta(minutes=9)
    assert provider() == first  # reused
    assert len(fake.assumed) == 1

    clock.now += timedelta(minutes=2)  # 11 minutes: a new token, the session still has 49
    provider()
    assert len(fake.assumed) == 1

    clock.now += timedelta(minutes=35)  # 46 minutes: the session has 14 left, too few
    renewed = provider()
    assert len(fake.assumed) == 2
    check = eks_token_checker("prod", sts_host=fake.host, aws=fake)
    assert check(renewed)
    assert fake.assumed[-1].key_id in token_url(renewed)


# --- no secret anywhere -----------------------------------------------------------------------


def test_no_secret_reaches_an_exception_a_repr_or_a_log(
    fake: FakeAWS, kube: FakeKubeAPI, caplog: pytest.LogCaptureFixture, no_backoff: None
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.add_cluster("prod", "eu-west-1", endpoint=kube.url, ca_pem=kube.ca_pem)
    texts: list[str] = []

    def failing(call: Any) -> None:
        with pytest.raises(CloudError) as caught:
            call()
        error = caught.value
        texts.extend([str(error), repr(error), error.reason, str(error.__context__)])

    [cluster] = aws.discover(ROLE_CONFIG, None, endpoints=endpoints(fake)).clusters
    access = aws.cluster_access(
        ROLE_CONFIG, None, cluster, endpoints=endpoints(fake), allow_private_endpoints=True
    )
    assert access.token_provider is not None
    token = access.token_provider()
    keys_access = aws.cluster_access(
        KEYS_CONFIG, KEYS_SECRET, cluster, endpoints=endpoints(fake), allow_private_endpoints=True
    )
    texts.extend([repr(access), repr(keys_access), repr(access.token_provider)])
    texts.append(repr(aws.parse_form({"auth": "keys", **KEYS_SECRET})))
    failing(
        lambda: aws.discover(
            KEYS_CONFIG, {**KEYS_SECRET, "secret_access_key": "Q" * 40}, endpoints=endpoints(fake)
        )
    )
    failing(
        lambda: aws.discover(
            {**ROLE_CONFIG, "external_id": "lo-wrong"}, None, endpoints=endpoints(fake)
        )
    )
    fake.inject(AwsFault.server_error(), service="eks")
    failing(lambda: aws.discover(KEYS_CONFIG, KEYS_SECRET, endpoints=endpoints(fake)))
    fake.revoke(CUSTOMER_KEY)
    failing(lambda: aws.discover(KEYS_CONFIG, KEYS_SECRET, endpoints=endpoints(fake)))

    session_keys = [a.key_id for a in fake.assumed]
    assert len(session_keys) == 2
    secrets = [CUSTOMER_SECRET, LEFTOVER_SECRET, token, token.removeprefix("k8s-aws-v1.")]
    for key_id in session_keys:
        secrets += [fake.secret_of(key_id) or "missing", fake.session_token_of(key_id) or "missing"]
    assert caplog.records  # botocore did log: the filter kept only what is safe
    for secret in secrets:
        assert secret not in caplog.text
        for text in texts:
            assert secret not in text
