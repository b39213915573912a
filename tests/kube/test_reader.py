"""The cluster reader against the fake API server, over real HTTPS."""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

import msgspec
import pytest
import trustme

from app.kube.access import ClusterAccess
from app.kube.kinds import KINDS
from app.kube.reader import (
    AuthenticationRefused,
    ClusterReader,
    ClusterUnreachable,
    ReadProgress,
    ResponseTooLarge,
    RetryPolicy,
    read_cluster,
)
from app.kube.snapshot import Snapshot
from app.kube.ssrf import EndpointRefused, check_endpoint
from tests.fakes.kube_api import FakeKubeAPI, Fault
from tests.kube.conftest import (
    CONFIG_MARKER,
    FAST_RETRY,
    SECRET_MARKER,
    TOKEN,
    AccessFactory,
    cluster_objects,
)

META_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"


def _read(
    api: FakeKubeAPI, access_for: AccessFactory, **options: Any
) -> tuple[ClusterReader, Snapshot]:
    overrides = options.pop("access", {})
    reader = ClusterReader(
        access_for(api, **overrides),
        retry=options.pop("retry", FAST_RETRY),
        page_size=options.pop("page_size", 2),
        progress=options.pop("progress", None),
    )
    return reader, reader.read(**options)


def _list_requests(api: FakeKubeAPI, plural: str) -> list[str]:
    return [r.target for r in api.requests if r.path.endswith(f"/{plural}") and r.status]


# --- the normal read ------------------------------------------------------------------------


def test_pages_each_kind_with_one_cluster_wide_list(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    reader, snap = _read(api, access_for, page_size=2)
    snap = snap

    assert snap.cluster.version == "v1.30.2"
    assert snap.cluster.name == "fake"
    assert snap.cluster.server == api.url
    assert snap.warnings == []
    assert snap.listed == {spec.kind for spec in KINDS}
    assert sorted(p.metadata.name for p in snap.pods) == [f"web-{i}" for i in range(5)]
    assert len(snap.workloads("Deployment")) == 3
    assert snap.api_versions["Deployment"] == "apps/v1"
    # 5 pods at 2 per page: three requests, the first without a continue token.
    pods = _list_requests(api, "pods")
    assert len(pods) == 3
    assert [("continue=" in t) for t in pods] == [False, True, True]
    # Exactly one list sequence per kind (Secret adds two filtered type lists).
    starts = Counter(
        r.path for r in api.requests if "limit=" in r.target and "continue=" not in r.target
    )
    for spec in KINDS:
        expected = 3 if spec.kind == "Secret" else 1
        path_tail = f"/{spec.plural}"
        assert sum(n for p, n in starts.items() if p.endswith(path_tail)) == expected, spec.kind
    assert not [r.path for r in api.requests if re.search(r"/namespaces/[^/]+/", r.path)]
    lists = [r for r in api.requests if "limit=" in r.target and "example.com" not in r.path]
    assert {r.query["limit"] for r in lists} == {"2"}
    # Annotations no rule reads are dropped as each page is decoded.
    assert snap.pods[0].metadata.annotations == {"meta.helm.sh/release-name": "web"}
    assert reader.stats.requests == len(api.requests)
    assert reader.stats.retries == 0
    assert reader.stats.bytes_received > 0


def test_read_cluster_is_the_same_reader(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    snap = read_cluster(access_for(api), kinds=["pods", "Deployment"], retry=FAST_RETRY)
    assert snap.listed == {"Pod", "Deployment"}
    assert {r.path for r in api.requests if "limit=" in r.target} == {
        "/api/v1/pods",
        "/apis/apps/v1/deployments",
    }
    with pytest.raises(ValueError, match="unknown kind: Gizmo"):
        read_cluster(access_for(api), kinds=["Gizmo"])


def test_progress_is_reported_after_each_page(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    # Kinds are listed concurrently, so pages of different kinds may interleave; within a kind
    # the pages arrive in order, and the running totals only ever grow.
    seen: list[ReadProgress] = []
    _read(api, access_for, page_size=2, kinds=["Pod", "Deployment"], progress=seen.append)
    per_kind: dict[str, list[int]] = {}
    for p in seen:
        per_kind.setdefault(p.kind, []).append(p.objects_so_far_for_kind)
    assert per_kind == {"Pod": [2, 4, 5], "Deployment": [2, 3]}
    totals = [p.total_objects for p in seen]
    assert totals == sorted(totals)
    assert totals[-1] == 8
    steps = [b - a for a, b in zip([0, *totals], totals, strict=False)]
    assert sorted(steps) == [1, 1, 2, 2, 2], "each report adds exactly one page"
    done = [p.done_kinds for p in seen]
    assert done == sorted(done)
    assert max(done) <= 1, "a report is made before its own kind counts as done"
    assert {p.total_kinds for p in seen} == {2}
    assert [p.requests for p in seen] == sorted(p.requests for p in seen)


# --- retries and restarts -------------------------------------------------------------------


def test_expired_continue_token_restarts_the_list_without_duplicates(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    api.inject(r"^/api/v1/pods\?.*continue=", Fault.gone())
    _, snap = _read(api, access_for, kinds=["Pod"])
    uids = [p.metadata.uid for p in snap.pods]
    assert len(uids) == 5
    assert len(set(uids)) == 5
    assert "Pod" in snap.listed
    assert [r.status for r in api.requests if r.path == "/api/v1/pods"] == [200, 410, 200, 200, 200]


def test_list_that_keeps_expiring_is_skipped(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    api.inject(r"^/api/v1/pods\?.*continue=", Fault.gone(), times=None)
    _, snap = _read(api, access_for, kinds=["Pod"])
    assert "Pod" not in snap.listed
    assert snap.pods == []
    assert snap.warnings == ["Pod: the list kept expiring while paging"]


def test_too_many_requests_honours_retry_after(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    api.inject(r"^/apis/apps/v1/deployments\?", Fault.too_many("1"))
    started = time.monotonic()
    reader, snap = _read(api, access_for, kinds=["Deployment"])
    assert time.monotonic() - started >= 0.95
    assert "Deployment" in snap.listed
    assert reader.stats.retries == 1


def test_retry_after_is_capped(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    api.inject(r"^/apis/apps/v1/deployments\?", Fault.too_many("3600"))
    started = time.monotonic()
    retry = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01, max_retry_after=0.05)
    _reader, snap = _read(api, access_for, kinds=["Deployment"], retry=retry)
    assert time.monotonic() - started < 2
    assert "Deployment" in snap.listed


def test_server_error_then_success(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    api.inject(r"^/api/v1/pods\?", Fault.error(500), Fault.error(503))
    reader, snap = _read(api, access_for, kinds=["Pod"])
    assert len(snap.pods) == 5
    assert reader.stats.retries == 2


def test_dropped_connection_then_success(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    api.inject(r"^/api/v1/pods\?.*continue=", Fault.dropped())
    reader, snap = _read(api, access_for, kinds=["Pod"])
    assert len(snap.pods) == 5
    assert reader.stats.retries == 1


def test_hang_beyond_read_timeout_is_retried(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    api.inject(r"^/api/v1/pods\?", Fault.stall(3.0))
    started = time.monotonic()
    reader, snap = _read(api, access_for, kinds=["Pod"], access={"read_timeout": 0.3})
    assert len(snap.pods) == 5
    assert time.monotonic() - started < 2.5
    assert reader.stats.retries == 1


def test_kind_failing_persistently_becomes_a_warning(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    api.inject(r"^/apis/apps/v1/deployments\?", Fault.error(500), times=None)
    _, snap = _read(api, access_for, kinds=["Pod", "Deployment"])
    assert snap.listed == {"Pod"}
    assert snap.warnings == ["Deployment: the API server kept answering 500 Internal Server Error"]
    assert snap.transient_failures == {"Deployment": snap.warnings[0]}, "a retry may help"
    assert api.count(r"^/apis/apps/v1/deployments\?") == FAST_RETRY.attempts


def test_persistent_connection_failure_is_unreachable(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    api.inject(r"^/api$", Fault.dropped(), times=None)
    with pytest.raises(ClusterUnreachable) as caught:
        _read(api, access_for)
    assert caught.value.reason.endswith(f"(after {FAST_RETRY.attempts} attempts)")
    assert "closed without an answer" in caught.value.reason
    assert api.count(r"^/api$") == FAST_RETRY.attempts


def test_refused_connection_is_unreachable(access_for: AccessFactory) -> None:
    server = FakeKubeAPI([])
    server.start()
    server.stop()
    with pytest.raises(ClusterUnreachable) as caught:
        read_cluster(access_for(server), retry=FAST_RETRY)
    assert caught.value.reason == (
        f"connection refused by 127.0.0.1:{server.port} (after {FAST_RETRY.attempts} attempts)"
    )


def test_wrong_token_is_refused_without_retries(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    with pytest.raises(AuthenticationRefused) as caught:
        _read(api, access_for, access={"token": "stale"})
    assert caught.value.reason == "the API server refused the credentials (401 Unauthorized)"
    assert [r.status for r in api.requests] == [401]


def test_token_provider_is_called_before_every_request(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    calls: list[int] = []

    def provider() -> str:
        calls.append(1)
        return TOKEN

    api.inject(r"^/api/v1/pods\?", Fault.error(500))
    reader, _snap = _read(
        api, access_for, kinds=["Pod"], access={"token": None, "token_provider": provider}
    )
    assert len(calls) == len(api.requests) == reader.stats.requests
    assert {r.headers["authorization"] for r in api.requests} == {f"Bearer {TOKEN}"}


def test_token_provider_failure_is_an_authentication_error(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    def provider() -> str:
        raise RuntimeError("plugin exploded")

    with pytest.raises(AuthenticationRefused, match="could not obtain a token") as caught:
        _read(api, access_for, access={"token": None, "token_provider": provider})
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert api.requests == []


def test_client_certificate_authentication(
    objects: list[dict[str, Any]], access_for: AccessFactory
) -> None:
    with FakeKubeAPI(objects, token="someone-else", client_cert_auth=True) as server:
        cert, key = server.client_cert()
        access = {"token": None, "client_cert_data": cert, "client_key_data": key}
        _reader, snap = _read(server, access_for, kinds=["Pod"], access=access)
        assert len(snap.pods) == 5
        assert all("authorization" not in r.headers for r in server.requests)


# --- what the cluster serves and allows -----------------------------------------------------


def test_forbidden_secrets_are_a_warning_and_not_listed(
    objects: list[dict[str, Any]], access_for: AccessFactory
) -> None:
    with FakeKubeAPI(objects, forbidden={"Secret"}) as server:
        _, snap = _read(server, access_for)
    assert snap.warnings == ["Secret: forbidden by RBAC (list secrets at cluster scope)"]
    assert snap.transient_failures == {}, "retrying cannot lift RBAC"
    assert "Secret" not in snap.listed
    assert "Secret" not in snap.objects
    assert "Pod" in snap.listed


def test_forbidden_group_resource_names_the_group(
    objects: list[dict[str, Any]], access_for: AccessFactory
) -> None:
    with FakeKubeAPI(objects, forbidden={"Deployment"}) as server:
        _, snap = _read(server, access_for, kinds=["Deployment"])
    assert snap.warnings == [
        "Deployment: forbidden by RBAC (list deployments.apps at cluster scope)"
    ]


def test_unserved_autoscaling_v2_falls_back_to_v1(
    objects: list[dict[str, Any]], access_for: AccessFactory
) -> None:
    with FakeKubeAPI(objects, hidden={"autoscaling/v2"}) as server:
        _, snap = _read(server, access_for)
        hpa_lists = _list_requests(server, "horizontalpodautoscalers")
    assert snap.api_versions["HorizontalPodAutoscaler"] == "autoscaling/v1"
    assert [h.spec.max_replicas for h in snap.hpas] == [3]
    assert hpa_lists == ["/apis/autoscaling/v1/horizontalpodautoscalers?limit=2"]
    assert snap.warnings == []


def test_resource_missing_from_a_served_version_falls_back(
    objects: list[dict[str, Any]], access_for: AccessFactory
) -> None:
    # A 1.20 cluster: batch/v1 is served (Jobs) but CronJob is only in batch/v1beta1.
    with FakeKubeAPI(objects, hidden={"batch/v1/cronjobs"}) as server:
        _, snap = _read(server, access_for, kinds=["CronJob", "Job"])
    assert snap.api_versions == {"CronJob": "batch/v1beta1", "Job": "batch/v1"}
    assert snap.listed == {"CronJob", "Job"}


def test_unserved_groups_are_skipped_with_a_warning_except_optional_addons(
    objects: list[dict[str, Any]], access_for: AccessFactory
) -> None:
    hidden = {"autoscaling", "discovery.k8s.io", "keda.sh"}
    with FakeKubeAPI(objects, hidden=hidden) as server:
        _, snap = _read(server, access_for)
        requested = {r.path for r in server.requests}
    assert snap.warnings == [
        "HorizontalPodAutoscaler: not served by this cluster (autoscaling/v2, autoscaling/v1)",
        "EndpointSlice: not served by this cluster (discovery.k8s.io/v1)",
    ]
    assert not {"HorizontalPodAutoscaler", "EndpointSlice", "ScaledObject"} & snap.listed
    assert not any(p.startswith(("/apis/keda.sh", "/apis/discovery.k8s.io")) for p in requested)


def test_crd_instances_are_probed_per_served_version(
    objects: list[dict[str, Any]], access_for: AccessFactory
) -> None:
    with FakeKubeAPI(objects, forbidden={"things"}) as server:
        _, snap = _read(server, access_for)
        probes = [r for r in server.requests if r.path.startswith("/apis/example.com/")]
    assert snap.crd_instances == {"widgets.example.com": True, "gadgets.example.com": False}
    assert snap.warnings == [
        "CustomResourceDefinition: could not check 1 CRDs for instances "
        "(forbidden, not served or failing): things.example.com"
    ]
    assert all(r.query["limit"] == "1" for r in probes)
    assert all(r.headers["accept"].startswith(META_ACCEPT) for r in probes)
    # widgets has an instance in v1, so v1beta1 is never probed.
    assert "/apis/example.com/v1beta1/widgets" not in {r.path for r in probes}


def test_crd_check_can_be_turned_off(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    _, snap = _read(api, access_for, check_crd_instances=False)
    assert snap.crd_instances is None
    assert not any(r.path.startswith("/apis/example.com/") for r in api.requests)


# --- secrets, sizes, encoding ---------------------------------------------------------------


def test_secret_values_never_cross_the_wire(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    _, snap = _read(api, access_for)
    secret_requests = [r for r in api.requests if "/secrets" in r.path]
    assert len(secret_requests) == 4  # two pages, then the two typed lists
    for record in secret_requests:
        assert record.headers["accept"] == META_ACCEPT
        assert record.body is not None
        assert b'"kind":"PartialObjectMetadataList"' in record.body
    for record in api.requests:
        assert record.body is not None
        assert SECRET_MARKER.encode() not in record.body
        assert b"aHVudGVyMi" not in record.body  # base64 of the marker
        assert CONFIG_MARKER.encode() not in record.body
    assert [r.headers["accept"] for r in api.requests if "/configmaps" in r.path] == [
        f"{META_ACCEPT}, application/json"
    ]
    everything = msgspec.json.encode([msgspec.to_builtins(s) for s in snap.secrets])
    assert SECRET_MARKER.encode() not in everything
    assert {s.metadata.name: s.type for s in snap.secrets} == {
        "plain": None,
        "builder-token": "kubernetes.io/service-account-token",
        "sh.helm.release.v1.web.v1": "helm.sh/release.v1",
    }
    assert "Secret" in snap.listed


def test_gzip_is_negotiated(objects: list[dict[str, Any]], access_for: AccessFactory) -> None:
    with FakeKubeAPI(objects, gzip_min_bytes=0, record_bodies=True) as server:
        reader, snap = _read(server, access_for, kinds=["Pod"], page_size=500)
        assert len(snap.pods) == 5
        records = server.requests
    assert all(r.headers["accept-encoding"] == "gzip" for r in records)
    assert all(r.gzipped for r in records)
    plain = sum(len(r.body or b"") for r in records)
    assert 0 < reader.stats.bytes_received < plain


def test_oversized_page_aborts(objects: list[dict[str, Any]], access_for: AccessFactory) -> None:
    many = [
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"p{i:03}", "namespace": "x"}}
        for i in range(100)
    ]
    with FakeKubeAPI([*objects, *many]) as server, pytest.raises(ResponseTooLarge) as caught:
        _read(server, access_for, kinds=["Pod"], page_size=500, access={"max_page_bytes": 8000})
    assert caught.value.reason.startswith("Pod: the API server sent more than 8000 bytes")


# --- TLS and the endpoint guard -------------------------------------------------------------


def test_wrong_ca_is_unreachable_with_a_tls_message(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    other_ca = trustme.CA().cert_pem.bytes()
    with pytest.raises(ClusterUnreachable) as caught:
        _read(api, access_for, access={"ca_data": other_ca})
    assert caught.value.reason.startswith("TLS verification of 127.0.0.1 failed")
    assert "certificate" in caught.value.reason
    assert api.requests == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_insecure_skip_tls_verify_accepts_any_certificate(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    other_ca = trustme.CA().cert_pem.bytes()
    access = {"ca_data": other_ca, "insecure_skip_tls_verify": True}
    _, snap = _read(api, access_for, kinds=["Pod"], access=access)
    assert len(snap.pods) == 5


def test_tls_checks_the_server_name_not_the_dialled_address(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    _, snap = _read(api, access_for, kinds=["Pod"], access={"tls_server_name": "kube.test"})
    assert len(snap.pods) == 5
    with pytest.raises(ClusterUnreachable, match=r"TLS verification of 127\.0\.0\.1 failed"):
        _read(api, access_for, access={"tls_server_name": "evil.example"})


def test_hostname_is_resolved_once_and_verified(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    server = f"https://localhost:{api.port}"
    _reader, snap = _read(api, access_for, kinds=["Pod"], access={"server": server})
    assert len(snap.pods) == 5
    assert {r.headers["host"] for r in api.requests} == {f"localhost:{api.port}"}


def test_private_endpoint_refused_before_any_connection(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    with pytest.raises(ClusterUnreachable) as caught:
        _read(api, access_for, access={"allow_private_endpoints": False})
    assert caught.value.reason == (
        "refused to connect: 127.0.0.1 is a loopback address and private endpoints are not allowed"
    )
    assert api.requests == []


def test_redirects_are_not_followed(api: FakeKubeAPI, access_for: AccessFactory) -> None:
    api.inject(r"^/apis/apps/v1/deployments\?", Fault.redirect("https://169.254.169.254/"))
    _, snap = _read(api, access_for, kinds=["Deployment", "Pod"])
    assert snap.listed == {"Pod"}
    assert snap.warnings == [
        "Deployment: the API server answered with a redirect (302); not followed"
    ]
    assert api.count(r"^/apis/apps/v1/deployments\?") == 1
    api.inject(r"^/api$", Fault.redirect("https://169.254.169.254/"))
    with pytest.raises(ClusterUnreachable, match=r"/api answered 302 Found"):
        _read(api, access_for)


REFUSED_UNLESS_PRIVATE = [
    ("127.0.0.1", "loopback"),
    ("10.0.0.1", "private"),
    ("192.168.1.10", "private"),
    ("172.16.0.1", "private"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("169.254.10.1", "link-local"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to refuse, not to bind
    ("224.0.0.1", "multicast"),
    ("240.0.0.1", "reserved"),
    ("::ffff:127.0.0.1", "loopback"),
    ("::ffff:10.1.2.3", "private"),
    ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
    ("fd12:3456::1", "private"),
    ("localhost", "loopback"),
]


@pytest.mark.parametrize(("host", "kind"), REFUSED_UNLESS_PRIVATE)
def test_private_addresses_need_permission(host: str, kind: str) -> None:
    with pytest.raises(EndpointRefused, match=kind) as caught:
        check_endpoint(host, 443, allow_private=False)
    assert "private endpoints are not allowed" in caught.value.reason
    assert check_endpoint(host, 443, allow_private=True)


@pytest.mark.parametrize(
    "host", ["169.254.169.254", "::ffff:169.254.169.254", "fd00:ec2::254", "100.100.100.200"]
)
def test_metadata_addresses_are_always_refused(host: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(EndpointRefused, match="cloud metadata address"):
            check_endpoint(host, 443, allow_private=allow_private)


def test_public_addresses_pass_and_are_returned_for_pinning() -> None:
    assert [str(ip) for ip in check_endpoint("8.8.8.8", 443, allow_private=False)] == ["8.8.8.8"]
    assert [str(ip) for ip in check_endpoint("[2606:4700::1111]", 443, allow_private=False)] == [
        "2606:4700::1111"
    ]
    with pytest.raises(EndpointRefused, match="does not resolve"):
        check_endpoint("no-such-host.invalid", 443, allow_private=True)


def test_cluster_access_repr_hides_secrets() -> None:
    access = ClusterAccess(
        server="https://kube.example:6443",
        token="sekrit-token",
        client_cert_data=b"CERT",
        client_key_data=b"-----BEGIN PRIVATE KEY----- sekrit-key",
    )
    shown = repr(access) + str(access)
    assert "sekrit" not in shown
    assert "auth=token+client_cert" in shown


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ("http://kube.example", "https://"),
        ("https://", "no host"),
        ("https://user:pw@kube.example", "credentials"),
        ("https://kube.example/?x=1", "query"),
    ],
)
def test_cluster_access_refuses_bad_servers(server: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ClusterAccess(server=server)


def test_fake_serves_namespaced_lists_and_single_objects(
    api: FakeKubeAPI, access_for: AccessFactory
) -> None:
    # The reader never asks for these; other tools (and kubectl trials) may.
    import urllib3

    pool = urllib3.HTTPSConnectionPool(
        "127.0.0.1", api.port, ca_cert_data=api.ca_pem.decode(), retries=False
    )
    auth = {"Authorization": f"Bearer {TOKEN}"}
    listed = pool.request("GET", "/api/v1/namespaces/shop/pods", headers=auth).json()
    assert [i["metadata"]["name"] for i in listed["items"]] == ["web-2", "web-3", "web-4"]
    one = pool.request("GET", "/api/v1/namespaces/shop/configmaps/settings", headers=auth)
    assert one.json()["data"] == {"key": CONFIG_MARKER}
    typed = pool.request(
        "GET",
        "/api/v1/secrets?fieldSelector=type%3Dhelm.sh%2Frelease.v1",
        headers={**auth, "Accept": META_ACCEPT},
    ).json()
    assert [i["metadata"]["name"] for i in typed["items"]] == ["sh.helm.release.v1.web.v1"]
    assert pool.request("GET", "/api/v1/secrets", headers={**auth, "Accept": "x/y"}).status == 406
    assert pool.request("GET", "/api/v1/pods").status == 401
    pool.close()


def test_fake_rejects_unknown_objects() -> None:
    with pytest.raises(ValueError, match=r"no resource for example\.org/v1 Mystery"):
        FakeKubeAPI([*cluster_objects(), {"apiVersion": "example.org/v1", "kind": "Mystery"}])
