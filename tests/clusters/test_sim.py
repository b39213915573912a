"""Self-checks of the cluster simulator: are the simulated clusters what real ones look like?"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from functools import cache

import pytest

from app.kube.snapshot_file import load_snapshot
from tests.clusters.apps import APPS, install_all
from tests.clusters.platforms import PLATFORMS
from tests.clusters.sim import Cluster, Obj, labels_match, parse_ts
from tests.clusters.waste import add_all_waste

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CSI = {"aws": "ebs.csi.aws.com", "gcp": "pd.csi.storage.gke.io", "azure": "disk.csi.azure.com"}


@cache
def _platform(name: str) -> Cluster:
    return PLATFORMS[name](NOW)


@cache
def _full(name: str) -> Cluster:
    c = PLATFORMS[name](NOW)
    install_all(c)
    return c


@cache
def _wasteful(name: str) -> Cluster:
    c = PLATFORMS[name](NOW)
    install_all(c)
    add_all_waste(c)
    return c


def _by_uid(c: Cluster) -> dict[str, Obj]:
    return {o["metadata"]["uid"]: o for o in c.to_objects()}


def _pods(c: Cluster, phase: str | None = "Running") -> list[Obj]:
    return [p for p in c.items("Pod") if phase is None or p["status"].get("phase") == phase]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_platform_counts_look_like_a_real_cluster(platform: str) -> None:
    c = _platform(platform)
    kinds = Counter(o["kind"] for o in c.to_objects())
    assert kinds["Node"] == 3
    assert {"default", "kube-system", "kube-public", "kube-node-lease"} <= {
        n["metadata"]["name"] for n in c.items("Namespace")
    }
    assert 75 <= kinds["ClusterRole"] <= 130
    assert 60 <= kinds["ClusterRoleBinding"] <= 110
    assert kinds["PriorityClass"] == 2
    assert 12 <= kinds["Pod"] <= 40
    defaults = [
        sc["metadata"]["name"]
        for sc in c.items("StorageClass")
        if (sc["metadata"].get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    assert len(defaults) == 1
    for ns in c.items("Namespace"):
        name = ns["metadata"]["name"]
        assert c.get("ServiceAccount", name, "default") is not None
        assert c.get("ConfigMap", name, "kube-root-ca.crt") is not None
    # No legacy token Secrets on Kubernetes ≥ 1.24
    assert not [
        s for s in c.items("Secret") if s.get("type") == "kubernetes.io/service-account-token"
    ]
    admin = c.require("ClusterRole", None, "admin")
    assert admin["aggregationRule"]["clusterRoleSelectors"] == [
        {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}
    ]
    for node in c.nodes:
        assert node["spec"]["providerID"].startswith(
            {"eks": "aws://", "gke": "gce://", "aks": "azure://"}[platform]
        )
        assert node["metadata"]["labels"]["node.kubernetes.io/instance-type"]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_snapshot_loads_every_platform(platform: str) -> None:
    c = _platform(platform)
    snap = c.snapshot()
    assert len(snap.nodes) == 3
    assert snap.crd_instances is not None
    again = load_snapshot(c.to_list_json())
    assert again.objects_scanned == snap.objects_scanned


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("build", ["full", "wasteful"])
def test_controllers_are_consistent(platform: str, build: str) -> None:
    c = _full(platform) if build == "full" else _wasteful(platform)
    by_uid = _by_uid(c)
    uids = [o["metadata"]["uid"] for o in c.to_objects()]
    assert len(uids) == len(set(uids))
    for o in c.to_objects():
        assert parse_ts(o["metadata"]["creationTimestamp"]) <= NOW
    # Pods of Deployments: RS owner exists, carries the same pod-template-hash, Deployment exists
    for pod in _pods(c):
        for ref in pod["metadata"].get("ownerReferences") or []:
            owner = by_uid.get(ref["uid"])
            if pod["metadata"]["name"].startswith("orphan-worker"):
                assert owner is None
                continue
            assert owner is not None, pod["metadata"]["name"]
            assert owner["kind"] == ref["kind"]
            assert owner["metadata"]["name"] == ref["name"]
            if owner["kind"] == "ReplicaSet":
                assert (
                    pod["metadata"]["labels"]["pod-template-hash"]
                    == owner["metadata"]["labels"]["pod-template-hash"]
                )
                deploy = by_uid[owner["metadata"]["ownerReferences"][0]["uid"]]
                assert deploy["kind"] == "Deployment"
                assert labels_match(deploy["spec"]["selector"], pod["metadata"]["labels"])
        assert pod["spec"].get("nodeName") in {n["metadata"]["name"] for n in c.nodes}
    # EndpointSlices point at the pods' IPs; ready only for ready pods
    pods_by_uid = {p["metadata"]["uid"]: p for p in c.items("Pod")}
    for eps in c.items("EndpointSlice"):
        labels = eps["metadata"]["labels"]
        svc = c.get("Service", eps["metadata"]["namespace"], labels["kubernetes.io/service-name"])
        assert svc is not None
        if (
            labels.get("endpointslice.kubernetes.io/managed-by")
            != "endpointslice-controller.k8s.io"
        ):
            continue
        assert eps["metadata"]["ownerReferences"][0]["uid"] == svc["metadata"]["uid"]
        for ep in eps.get("endpoints") or []:
            pod = pods_by_uid[ep["targetRef"]["uid"]]
            assert ep["addresses"] == [pod["status"]["podIP"]]
            assert labels_match({"matchLabels": svc["spec"]["selector"]}, pod["metadata"]["labels"])
    for svc in c.items("Service"):
        if svc["spec"].get("selector"):
            assert any(
                e["metadata"]["labels"].get("kubernetes.io/service-name") == svc["metadata"]["name"]
                for e in c.items("EndpointSlice", svc["metadata"]["namespace"])
            ), svc["metadata"]["name"]
        if svc["spec"]["type"] == "LoadBalancer":
            assert svc["status"]["loadBalancer"]["ingress"]
    # StatefulSet claims are bound to PVs of the provider's CSI driver, attached where mounted
    attached = {va["spec"]["source"]["persistentVolumeName"] for va in c.items("VolumeAttachment")}
    for pvc in c.items("PersistentVolumeClaim"):
        if pvc["status"]["phase"] != "Bound":
            continue
        pv = c.require("PersistentVolume", None, pvc["spec"]["volumeName"])
        assert pv["spec"]["claimRef"]["uid"] == pvc["metadata"]["uid"]
        assert pv["status"]["phase"] == "Bound"
        assert pv["spec"]["csi"]["driver"] == CSI[c.provider or ""]
        if c._claim_consumer(pvc["metadata"]["namespace"], pvc["metadata"]["name"]):
            assert pv["metadata"]["name"] in attached
    # DaemonSets: one pod per eligible node
    for ds in c.items("DaemonSet"):
        eligible = c._eligible_nodes(ds["spec"]["template"]["spec"])
        assert ds["status"]["desiredNumberScheduled"] == len(eligible)
        assert len([p for p in c.owned_by(ds) if p["kind"] == "Pod"]) == len(eligible)
    # Jobs with a TTL are gone (with their pods)
    assert c.get("Job", "ingress-nginx", "ingress-nginx-admission-create") is None
    assert not [p for p in c.items("Pod", "ingress-nginx") if "admission" in p["metadata"]["name"]]


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_healthy_pods_reference_only_existing_objects(platform: str) -> None:
    """A healthy cluster's running pods can start: every required reference exists."""
    c = _full(platform)
    missing = []
    for pod in _pods(c):
        ns, spec = pod["metadata"]["namespace"], pod["spec"]
        if (
            spec.get("serviceAccountName")
            and c.get("ServiceAccount", ns, spec["serviceAccountName"]) is None
        ):
            missing.append(
                f"{ns}/{pod['metadata']['name']}: ServiceAccount {spec['serviceAccountName']}"
            )
        for v in spec.get("volumes") or []:
            for kind, ref in (("ConfigMap", v.get("configMap")), ("Secret", v.get("secret"))):
                if ref and not ref.get("optional"):
                    name = ref.get("name") or ref.get("secretName")
                    if c.get(kind, ns, name) is None:
                        missing.append(f"{ns}/{pod['metadata']['name']}: {kind} {name}")
            for src in (v.get("projected") or {}).get("sources") or []:
                for kind, ref in (
                    ("ConfigMap", src.get("configMap")),
                    ("Secret", src.get("secret")),
                ):
                    if ref and not ref.get("optional") and c.get(kind, ns, ref["name"]) is None:
                        missing.append(f"{ns}/{pod['metadata']['name']}: {kind} {ref['name']}")
        for ctr in spec.get("containers", []) + spec.get("initContainers", []):
            for env in ctr.get("env") or []:
                for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                    ref = (env.get("valueFrom") or {}).get(key)
                    if ref and not ref.get("optional") and c.get(kind, ns, ref["name"]) is None:
                        missing.append(f"{ns}/{pod['metadata']['name']}: {kind} {ref['name']}")
        if (
            spec.get("priorityClassName")
            and c.get("PriorityClass", None, spec["priorityClassName"]) is None
        ):
            missing.append(
                f"{ns}/{pod['metadata']['name']}: PriorityClass {spec['priorityClassName']}"
            )
    assert not missing, "\n".join(missing)
    # Every PDB and NetworkPolicy of the healthy apps selects a running pod
    for kind, path in (
        ("PodDisruptionBudget", ("spec", "selector")),
        ("NetworkPolicy", ("spec", "podSelector")),
    ):
        for obj in c.items(kind):
            sel = obj[path[0]][path[1]]
            ns = obj["metadata"]["namespace"]
            assert any(
                labels_match(sel, p["metadata"].get("labels") or {})
                for p in _pods(c)
                if p["metadata"]["namespace"] == ns
            ), obj["metadata"]["name"]


def test_prometheus_operator_outputs() -> None:
    c = _full("eks")
    sts = c.require("StatefulSet", "monitoring", "prometheus-k8s")
    assert sts["metadata"]["ownerReferences"][0]["kind"] == "Prometheus"
    vols = json.dumps(sts["spec"]["template"]["spec"]["volumes"])
    for name in (
        "prometheus-k8s",
        "prometheus-k8s-tls-assets-0",
        "prometheus-k8s-web-config",
        "prometheus-k8s-rulefiles-0",
    ):
        assert f'"{name}"' in vols
        assert c.get("Secret", "monitoring", name) or c.get("ConfigMap", "monitoring", name)
    assert c.require("StatefulSet", "monitoring", "alertmanager-main")["spec"]["replicas"] == 3
    assert len([p for p in _pods(c) if p["metadata"]["name"].startswith("alertmanager-main-")]) == 3
    kubelet = c.require("Service", "kube-system", "kubelet")
    assert "selector" not in kubelet["spec"]
    slices = [
        e
        for e in c.items("EndpointSlice", "kube-system")
        if e["metadata"]["labels"]["kubernetes.io/service-name"] == "kubelet"
    ]
    assert len(slices) == 1
    assert len(slices[0]["endpoints"]) == 3


def test_builds_are_deterministic() -> None:
    assert PLATFORMS["gke"](NOW).to_list_json() == PLATFORMS["gke"](NOW).to_list_json()


@pytest.mark.parametrize("app", sorted(APPS))
def test_each_app_installs_on_a_bare_cluster(app: str) -> None:
    c = Cluster(NOW, None, name="kind")
    c.add_nodes(2)
    c.apply(
        [
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
            for n in ("default", "kube-system")
        ]
    )
    c.apply(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": "standard",
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    APPS[app](c)
    snap = c.snapshot()
    assert snap.pods
    assert all(p.status.phase == "Running" for p in snap.pods)
