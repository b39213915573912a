"""Shared fixtures for the ``leftover`` command: a small cluster, files, and a runner."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.kube_api import FakeKubeAPI

REPO = Path(__file__).resolve().parents[2]
TOKEN = "s3cr3t-t0ken-d0-n0t-print"
OLD = "2024-01-01T00:00:00Z"


def _meta(name: str, namespace: str | None = None, **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{namespace or 'cluster'}-{name}",
        "creationTimestamp": OLD,
    }
    if namespace is not None:
        meta["namespace"] = namespace
    meta.update(extra)
    return meta


def cluster_objects() -> list[dict[str, Any]]:
    """A small AWS cluster with a few leftovers of different kinds and confidences."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("default")},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("shop")},
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta("monitoring")},
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": _meta(
                "ip-10-0-0-1",
                labels={
                    "topology.kubernetes.io/region": "eu-west-1",
                    "node.kubernetes.io/instance-type": "m5.large",
                },
            ),
            "spec": {"providerID": "aws:///eu-west-1a/i-0123456789abcdef0"},
            "status": {"capacity": {"cpu": "2", "memory": "8Gi"}},
        },
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": _meta("cart-0", "shop", labels={"app": "cart"}),
            "spec": {
                "serviceAccountName": "cart",
                "containers": [
                    {
                        "name": "cart",
                        "image": "cart:1",
                        "envFrom": [{"configMapRef": {"name": "cart-config"}}],
                    }
                ],
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": "cart-data"}},
                    {"name": "creds", "secret": {"secretName": "cart-creds"}},
                ],
            },
            "status": {"phase": "Running"},
        },
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta("cart", "shop")},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("cart-config", "shop")},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("old-banner", "shop")},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta("node-dashboard", "monitoring", labels={"grafana_dashboard": "1"}),
        },
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": _meta("kube-root-ca.crt", "shop")},
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": _meta("cart-creds", "shop"),
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": _meta("legacy-api-key", "shop"),
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta("cart-data", "shop"),
            "spec": {
                "volumeName": "pv-cart",
                "storageClassName": "gp3",
                "resources": {"requests": {"storage": "10Gi"}},
            },
            "status": {"phase": "Bound", "capacity": {"storage": "10Gi"}},
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta("old-data", "shop"),
            "spec": {
                "volumeName": "pv-old",
                "storageClassName": "gp3",
                "resources": {"requests": {"storage": "100Gi"}},
            },
            "status": {"phase": "Bound", "capacity": {"storage": "100Gi"}},
        },
        _pv("pv-cart", "10Gi", "Bound", claim=("shop", "cart-data")),
        _pv("pv-old", "100Gi", "Bound", claim=("shop", "old-data")),
        _pv("pv-released", "50Gi", "Released", claim=("gone", "was-here")),
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": _meta(
                "gp3", annotations={"storageclass.kubernetes.io/is-default-class": "true"}
            ),
            "provisioner": "ebs.csi.aws.com",
            "parameters": {"type": "gp3"},
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta("ghost", "shop"),
            "spec": {"type": "ClusterIP", "selector": {"app": "ghost"}},
        },
    ]


def _pv(name: str, size: str, phase: str, *, claim: tuple[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": _meta(name),
        "spec": {
            "capacity": {"storage": size},
            "storageClassName": "gp3",
            "claimRef": {"kind": "PersistentVolumeClaim", "namespace": claim[0], "name": claim[1]},
            "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": f"vol-{name}"},
        },
        "status": {"phase": phase},
    }


@pytest.fixture
def objects() -> list[dict[str, Any]]:
    return cluster_objects()


@pytest.fixture
def snapshot_file(tmp_path: Path, objects: list[dict[str, Any]]) -> Path:
    """The cluster as ``kubectl get … -A -o json`` writes it: one List."""
    path = tmp_path / "cluster.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
    return path


@pytest.fixture
def api(objects: list[dict[str, Any]]) -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(objects, token=TOKEN) as server:
        yield server


def write_kubeconfig(
    path: Path,
    *,
    server: str,
    user: dict[str, Any],
    ca_pem: bytes | None = None,
    cluster_extra: dict[str, Any] | None = None,
    context: str = "fake",
) -> Path:
    """A kubeconfig with one cluster, one user and one context, which is current."""
    import base64

    cluster: dict[str, Any] = {"server": server, **(cluster_extra or {})}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake-cluster", "cluster": cluster}],
        "users": [{"name": "fake-user", "user": user}],
        "contexts": [
            {"name": context, "context": {"cluster": "fake-cluster", "user": "fake-user"}}
        ],
        "current-context": context,
    }
    path.write_text(json.dumps(doc))
    return path


@pytest.fixture
def kubeconfig(tmp_path: Path, api: FakeKubeAPI) -> Path:
    """A kubeconfig for the fake API with its CA inline and a bearer token."""
    return write_kubeconfig(
        tmp_path / "kubeconfig", server=api.url, ca_pem=api.ca_pem, user={"token": TOKEN}
    )


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli() -> Run:
    """Run the real command in a child process: ``run_cli("scan", …, stdin=…)``."""

    def run(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
        child_env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "NO_COLOR")}
        child_env.update({"COLUMNS": "160", **(env or {})})
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=REPO,
            env=child_env,
            timeout=120,
            check=False,
        )

    return run
