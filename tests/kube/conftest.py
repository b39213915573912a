"""Fixtures for the cluster reader: a small cluster's objects, a fake API server, access to it."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.kube.access import ClusterAccess
from app.kube.reader import RetryPolicy
from tests.fakes.kube_api import FakeKubeAPI

TOKEN = "t0ken"
SECRET_MARKER = "hunter2-do-not-leak"
CONFIG_MARKER = "config-value-never-fetched"
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01, max_retry_after=2.0)


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, **extra}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def _crd(group: str, plural: str, kind: str, versions: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": _meta(f"{plural}.{group}"),
        "spec": {
            "group": group,
            "names": {"plural": plural, "kind": kind},
            "scope": "Namespaced",
            "versions": [
                {"name": v, "served": True, "storage": i == 0} for i, v in enumerate(versions)
            ],
        },
    }


def cluster_objects() -> list[dict[str, Any]]:
    """A small but varied cluster: two namespaces, workloads, typed secrets, CRDs."""
    secret_data = {"password": base64.b64encode(SECRET_MARKER.encode()).decode()}
    objs: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns)}
        for ns in ("default", "shop")
    ]
    objs.append({"apiVersion": "v1", "kind": "Node", "metadata": _meta("node-1")})
    for i in range(5):
        ns = "default" if i < 2 else "shop"
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": _meta(
                    f"web-{i}",
                    ns,
                    labels={"app": "web"},
                    annotations={
                        "kubectl.kubernetes.io/last-applied-configuration": "{" * 100,
                        "meta.helm.sh/release-name": "web",
                    },
                ),
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
                "status": {"phase": "Running"},
            }
        )
    for i in range(3):
        objs.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": _meta(f"dep-{i}", "shop"),
                "spec": {"replicas": 1},
            }
        )
    objs += [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("plain", "default"),
            "type": "Opaque",
            "data": secret_data,
            "stringData": {"token": SECRET_MARKER},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(
                "builder-token",
                "default",
                annotations={"kubernetes.io/service-account.name": "builder"},
            ),
            "type": "kubernetes.io/service-account-token",
            "data": secret_data,
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta("sh.helm.release.v1.web.v1", "shop", labels={"owner": "helm"}),
            "type": "helm.sh/release.v1",
            "data": {"release": base64.b64encode(SECRET_MARKER.encode()).decode()},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("settings", "shop"),
            "data": {"key": CONFIG_MARKER},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta("builder", "default"),
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": _meta("dep-0", "shop"),
            "spec": {
                "scaleTargetRef": {"kind": "Deployment", "name": "dep-0", "apiVersion": "apps/v1"},
                "maxReplicas": 3,
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": _meta("nightly", "shop"),
            "spec": {"schedule": "0 3 * * *"},
        },
        {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": _meta("web-abc", "default"),
        },
        _crd("example.com", "widgets", "Widget", ["v1", "v1beta1"]),
        _crd("example.com", "gadgets", "Gadget", ["v1"]),
        _crd("example.com", "things", "Thing", ["v1"]),
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": _meta("w1", "shop")},
    ]
    return objs


@pytest.fixture
def objects() -> list[dict[str, Any]]:
    return cluster_objects()


@pytest.fixture
def api(objects: list[dict[str, Any]]) -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(objects, token=TOKEN, record_bodies=True) as server:
        yield server


AccessFactory = Callable[..., ClusterAccess]


@pytest.fixture
def access_for() -> AccessFactory:
    """ClusterAccess for a fake server; keyword arguments override the defaults."""

    def make(api: FakeKubeAPI, **overrides: Any) -> ClusterAccess:
        settings: dict[str, Any] = {
            "server": api.url,
            "ca_data": api.ca_pem,
            "token": TOKEN,
            "allow_private_endpoints": True,
            "connect_timeout": 2.0,
            "read_timeout": 5.0,
            "name": "fake",
        }
        settings.update(overrides)
        return ClusterAccess(**settings)

    return make
