"""A small DSL that writes Kubernetes objects the way the API server and its controllers would.

Every workload gets what its controller creates (ReplicaSets with pod-template-hash, Pods with
ownerReferences whose uids match, StatefulSet PVCs bound to PVs, DaemonSet status), every
Service with a selector gets an EndpointSlice listing the ready pods it selects, and every
namespace gets its ``default`` ServiceAccount and ``kube-root-ca.crt`` ConfigMap.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

Obj = dict[str, Any]

NOW = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
_ALNUM = "bcdfghjklmnpqrstvwxz2456789"


def ts(t: datetime | timedelta) -> str:
    """An RFC 3339 time; a timedelta means "that long before NOW"."""
    if isinstance(t, timedelta):
        t = NOW - t
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def suffix(seed: str, n: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_ALNUM[b % len(_ALNUM)] for b in digest[:n])


def uid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def helm_labels(
    release: str, chart: str, version: str, name: str, /, **extra: str
) -> dict[str, str]:
    labels = {
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/instance": release,
        "app.kubernetes.io/name": name,
        "helm.sh/chart": f"{chart}-{version}",
        "app.kubernetes.io/version": version,
    }
    labels.update({k.replace("__", "/").replace("_", "-"): v for k, v in extra.items()})
    return labels


def c(
    name: str,
    image: str,
    *,
    args: list[str] | None = None,
    command: list[str] | None = None,
    env: list[Obj] | None = None,
    env_from: list[Obj] | None = None,
    cpu: str = "50m",
    mem: str = "64Mi",
    mounts: list[str] | None = None,
) -> Obj:
    out: Obj = {
        "name": name,
        "image": image,
        "resources": {"requests": {"cpu": cpu, "memory": mem}},
    }
    if args:
        out["args"] = args
    if command:
        out["command"] = command
    if env:
        out["env"] = env
    if env_from:
        out["envFrom"] = env_from
    if mounts:
        out["volumeMounts"] = [{"name": m, "mountPath": f"/mnt/{m}"} for m in mounts]
    return out


def env(name: str, value: str) -> Obj:
    return {"name": name, "value": value}


def env_cm(name: str, cm: str, key: str, optional: bool | None = None) -> Obj:
    ref: Obj = {"name": cm, "key": key}
    if optional is not None:
        ref["optional"] = optional
    return {"name": name, "valueFrom": {"configMapKeyRef": ref}}


def env_secret(name: str, secret: str, key: str, optional: bool | None = None) -> Obj:
    ref: Obj = {"name": secret, "key": key}
    if optional is not None:
        ref["optional"] = optional
    return {"name": name, "valueFrom": {"secretKeyRef": ref}}


def env_field(name: str, path: str) -> Obj:
    return {"name": name, "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": path}}}


def v_cm(name: str, cm: str, optional: bool | None = None) -> Obj:
    src: Obj = {"name": cm, "defaultMode": 420}
    if optional is not None:
        src["optional"] = optional
    return {"name": name, "configMap": src}


def v_secret(name: str, secret: str, optional: bool | None = None) -> Obj:
    src: Obj = {"secretName": secret, "defaultMode": 420}
    if optional is not None:
        src["optional"] = optional
    return {"name": name, "secret": src}


def v_pvc(name: str, claim: str) -> Obj:
    return {"name": name, "persistentVolumeClaim": {"claimName": claim}}


def v_empty(name: str) -> Obj:
    return {"name": name, "emptyDir": {}}


def v_host(name: str, path: str) -> Obj:
    return {"name": name, "hostPath": {"path": path, "type": ""}}


def v_token(name: str = "kube-api-access") -> Obj:
    return {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace"}]}},
            ]
        },
    }


def ps(
    *containers: Obj,
    sa: str | None = None,
    volumes: list[Obj] | None = None,
    init: list[Obj] | None = None,
    pc: str | None = None,
    node_selector: dict[str, str] | None = None,
    pull_secrets: list[str] | None = None,
    host_network: bool = False,
    tolerations: list[Obj] | None = None,
) -> Obj:
    spec: Obj = {"containers": list(containers), "restartPolicy": "Always"}
    if sa is not None:
        spec["serviceAccountName"] = sa
        spec["serviceAccount"] = sa
    if volumes:
        spec["volumes"] = list(volumes)
    if init:
        spec["initContainers"] = init
    if pc:
        spec["priorityClassName"] = pc
    if node_selector:
        spec["nodeSelector"] = node_selector
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in pull_secrets]
    if host_network:
        spec["hostNetwork"] = True
    if tolerations:
        spec["tolerations"] = tolerations
    return spec


def rule(groups: list[str], resources: list[str], verbs: list[str], names: list[str] | None = None):
    r: Obj = {"apiGroups": groups, "resources": resources, "verbs": verbs}
    if names:
        r["resourceNames"] = names
    return r


def sa_subject(ns: str, name: str) -> Obj:
    return {"kind": "ServiceAccount", "name": name, "namespace": ns}


def user(name: str) -> Obj:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}


def group(name: str) -> Obj:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}


class Cluster:
    """Objects of one cluster, plus what its controllers would have created."""

    def __init__(self, name: str, created: timedelta) -> None:
        self.name = name
        self.created = created
        self.items: list[Obj] = []
        self.nodes: list[Obj] = []
        self.namespaces: dict[str, Obj] = {}
        self.by_key: dict[tuple[str, str | None, str], Obj] = {}

    # --- plumbing ---------------------------------------------------------------------
    def add(self, obj: Obj) -> Obj:
        md = obj["metadata"]
        key = (obj["kind"], md.get("namespace"), md["name"])
        if key in self.by_key:
            raise ValueError(f"duplicate {key} in {self.name}")
        self.by_key[key] = obj
        self.items.append(obj)
        return obj

    def get(self, kind: str, ns: str | None, name: str) -> Obj:
        return self.by_key[(kind, ns, name)]

    def has(self, kind: str, ns: str | None, name: str) -> bool:
        return (kind, ns, name) in self.by_key

    def meta(
        self,
        kind: str,
        name: str,
        ns: str | None = None,
        *,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        created: timedelta | None = None,
        owner: Obj | None = None,
        owners: list[Obj] | None = None,
        helm: tuple[str, str] | None = None,
    ) -> Obj:
        md: Obj = {
            "name": name,
            "uid": uid(self.name, kind, ns or "", name),
            "resourceVersion": str(int(hashlib.md5(name.encode()).hexdigest()[:6], 16)),  # noqa: S324
            "creationTimestamp": ts(created if created is not None else self.created),
        }
        if ns is not None:
            md["namespace"] = ns
        if labels:
            md["labels"] = dict(labels)
        ann = dict(annotations or {})
        if helm:
            ann["meta.helm.sh/release-name"] = helm[0]
            ann["meta.helm.sh/release-namespace"] = helm[1]
        if ann:
            md["annotations"] = ann
        refs = list(owners or [])
        if owner is not None:
            refs.append(owner)
        if refs:
            md["ownerReferences"] = refs
        return md

    @staticmethod
    def ref(obj: Obj, controller: bool = True) -> Obj:
        return {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"],
            "controller": controller,
            "blockOwnerDeletion": True,
        }

    def ref_to(self, api_version: str, kind: str, ns: str | None, name: str) -> Obj:
        """An owner reference to an object that may not be in the dump (a custom resource)."""
        return {
            "apiVersion": api_version,
            "kind": kind,
            "name": name,
            "uid": uid(self.name, kind, ns or "", name),
            "controller": True,
            "blockOwnerDeletion": True,
        }

    def obj(self, api_version: str, kind: str, name: str, ns: str | None = None, **kw: Any) -> Obj:
        body = kw.pop("body", {})
        o: Obj = {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": self.meta(kind, name, ns, **kw),
        }
        o.update(body)
        return self.add(o)

    # --- cluster scaffolding ------------------------------------------------------------
    def namespace(
        self,
        name: str,
        *,
        labels: dict[str, str] | None = None,
        created: timedelta | None = None,
        annotations: dict[str, str] | None = None,
    ) -> Obj:
        lab = {"kubernetes.io/metadata.name": name, **(labels or {})}
        ns = self.obj(
            "v1",
            "Namespace",
            name,
            labels=lab,
            created=created,
            annotations=annotations,
            body={"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}},
        )
        self.namespaces[name] = ns
        self.obj("v1", "ServiceAccount", "default", name, created=created)
        self.obj(
            "v1",
            "ConfigMap",
            "kube-root-ca.crt",
            name,
            created=created,
            annotations={"kubernetes.io/description": "Contains a CA bundle ..."},
            body={"data": {"ca.crt": "-----BEGIN CERTIFICATE-----\n..."}},
        )
        return ns

    def node(self, name: str, labels: dict[str, str], provider_id: str, cpu: str, mem: str) -> Obj:
        base = {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux",
            "beta.kubernetes.io/arch": "amd64",
        }
        n = self.obj(
            "v1",
            "Node",
            name,
            labels={**base, **labels},
            body={
                "spec": {"providerID": provider_id},
                "status": {
                    "capacity": {"cpu": cpu, "memory": mem, "pods": "110"},
                    "allocatable": {"cpu": cpu, "memory": mem, "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True"}],
                    "nodeInfo": {
                        "kubeletVersion": "v1.31.3",
                        "osImage": "Linux",
                        "architecture": "amd64",
                    },
                },
            },
        )
        self.nodes.append(n)
        return n

    def _node_for(self, seed: str, node_selector: dict[str, str] | None = None) -> str:
        nodes = [
            n
            for n in self.nodes
            if all(n["metadata"]["labels"].get(k) == v for k, v in (node_selector or {}).items())
        ] or self.nodes
        idx = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(nodes)
        return nodes[idx]["metadata"]["name"]

    # --- config -------------------------------------------------------------------------
    def cm(self, ns: str, name: str, **kw: Any) -> Obj:
        data = kw.pop("data", {"config": "..."})
        return self.obj("v1", "ConfigMap", name, ns, body={"data": data}, **kw)

    def secret(self, ns: str, name: str, type_: str = "Opaque", **kw: Any) -> Obj:
        data = kw.pop("data", {"key": "c2VjcmV0"})
        return self.obj("v1", "Secret", name, ns, body={"type": type_, "data": data}, **kw)

    def sa(self, ns: str, name: str, **kw: Any) -> Obj:
        body = {}
        if "secrets" in kw:
            body["secrets"] = [{"name": s} for s in kw.pop("secrets")]
        if "pull_secrets" in kw:
            body["imagePullSecrets"] = [{"name": s} for s in kw.pop("pull_secrets")]
        return self.obj("v1", "ServiceAccount", name, ns, body=body, **kw)

    def helm_release(
        self, ns: str, release: str, chart: str, version: str, revisions: int = 1, **kw: Any
    ) -> None:
        for rev in range(1, revisions + 1):
            status = "deployed" if rev == revisions else "superseded"
            self.secret(
                ns,
                f"sh.helm.release.v1.{release}.v{rev}",
                "helm.sh/release.v1",
                labels={
                    "name": release,
                    "owner": "helm",
                    "status": status,
                    "version": str(rev),
                },
                data={"release": "H4sIAAAAAAAC..."},
                **kw,
            )

    # --- workloads ------------------------------------------------------------------------
    def _pod(
        self,
        ns: str,
        name: str,
        labels: dict[str, str],
        spec: Obj,
        owner: Obj | None,
        *,
        created: timedelta | None = None,
        node: str | None = None,
        phase: str = "Running",
        status: Obj | None = None,
        annotations: dict[str, str] | None = None,
    ) -> Obj:
        spec = json.loads(json.dumps(spec))
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        spec.setdefault("volumes", []).append(v_token(f"kube-api-access-{suffix(name, 5)}"))
        spec["nodeName"] = node or self._node_for(name, spec.get("nodeSelector"))
        spec.setdefault("priority", 0)
        st: Obj = {
            "phase": phase,
            "startTime": ts(created if created is not None else self.created),
            "podIP": f"10.0.{int(suffix(name, 2).encode().hex(), 16) % 250}.{len(name) % 250}",
            "conditions": [{"type": "Ready", "status": "True" if phase == "Running" else "False"}],
        }
        if phase == "Running":
            st["containerStatuses"] = [
                {
                    "name": ct["name"],
                    "ready": True,
                    "restartCount": 0,
                    "image": ct["image"],
                    "state": {"running": {"startedAt": st["startTime"]}},
                }
                for ct in spec["containers"]
            ]
        if status:
            st.update(status)
        return self.obj(
            "v1",
            "Pod",
            name,
            ns,
            labels=labels,
            annotations=annotations,
            created=created,
            owner=self.ref(owner) if owner else None,
            body={"spec": spec, "status": st},
        )

    def deploy(
        self,
        ns: str,
        name: str,
        spec: Obj,
        *,
        labels: dict[str, str] | None = None,
        selector: dict[str, str] | None = None,
        replicas: int = 1,
        created: timedelta | None = None,
        helm: tuple[str, str] | None = None,
        old_revisions: int = 1,
        pod_annotations: dict[str, str] | None = None,
    ) -> Obj:
        selector = selector or {"app.kubernetes.io/name": name}
        labels = {**selector, **(labels or {})}
        tmpl_labels = dict(labels)
        d = self.obj(
            "apps/v1",
            "Deployment",
            name,
            ns,
            labels=labels,
            created=created,
            helm=helm,
            annotations={"deployment.kubernetes.io/revision": str(old_revisions + 1)},
            body={
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": selector},
                    "template": {
                        "metadata": {"labels": tmpl_labels, "annotations": pod_annotations or {}},
                        "spec": spec,
                    },
                    "strategy": {"type": "RollingUpdate"},
                },
                "status": {
                    "replicas": replicas,
                    "readyReplicas": replicas,
                    "availableReplicas": replicas,
                    "updatedReplicas": replicas,
                    "observedGeneration": old_revisions + 1,
                },
            },
        )
        if replicas == 0:
            del d["status"]["readyReplicas"], d["status"]["availableReplicas"]
        for rev in range(1, old_revisions + 2):
            current = rev == old_revisions + 1
            h = suffix(f"{ns}/{name}/{rev}", 10)
            rs_labels = {**tmpl_labels, "pod-template-hash": h}
            n = replicas if current else 0
            rs = self.obj(
                "apps/v1",
                "ReplicaSet",
                f"{name}-{h}",
                ns,
                labels=rs_labels,
                created=created,
                owner=self.ref(d),
                annotations={"deployment.kubernetes.io/revision": str(rev)},
                body={
                    "spec": {
                        "replicas": n,
                        "selector": {"matchLabels": {**selector, "pod-template-hash": h}},
                        "template": {"metadata": {"labels": rs_labels}, "spec": spec},
                    },
                    "status": {"replicas": n, "readyReplicas": n, "availableReplicas": n}
                    if n
                    else {"replicas": 0},
                },
            )
            if current:
                for i in range(n):
                    self._pod(
                        ns,
                        f"{name}-{h}-{suffix(f'{ns}/{name}/{i}', 5)}",
                        rs_labels,
                        spec,
                        rs,
                        created=created,
                        annotations=pod_annotations,
                    )
        return d

    def sts(
        self,
        ns: str,
        name: str,
        spec: Obj,
        *,
        labels: dict[str, str] | None = None,
        selector: dict[str, str] | None = None,
        replicas: int = 1,
        vcts: list[tuple[str, str, str]] | None = None,  # (name, size, storageClass)
        service_name: str | None = None,
        created: timedelta | None = None,
        helm: tuple[str, str] | None = None,
        owner: Obj | None = None,
        keep_pvcs: int | None = None,
        csi_driver: str = "ebs.csi.aws.com",
    ) -> Obj:
        selector = selector or {"app.kubernetes.io/name": name}
        labels = {**selector, **(labels or {})}
        vct_objs = [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": vn},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": sc,
                    "resources": {"requests": {"storage": size}},
                },
            }
            for vn, size, sc in vcts or []
        ]
        s = self.obj(
            "apps/v1",
            "StatefulSet",
            name,
            ns,
            labels=labels,
            created=created,
            helm=helm,
            owner=owner,
            body={
                "spec": {
                    "replicas": replicas,
                    "selector": {"matchLabels": selector},
                    "serviceName": service_name or name,
                    "template": {"metadata": {"labels": labels}, "spec": spec},
                    "volumeClaimTemplates": vct_objs,
                },
                "status": {"replicas": replicas, "readyReplicas": replicas},
            },
        )
        rev = f"{name}-{suffix(ns + name, 10)}"
        for i in range(replicas):
            pod_spec = json.loads(json.dumps(spec))
            for vn, _size, _sc in vcts or []:
                pod_spec.setdefault("volumes", []).append(v_pvc(vn, f"{vn}-{name}-{i}"))
            self._pod(
                ns,
                f"{name}-{i}",
                {
                    **labels,
                    "controller-revision-hash": rev,
                    "apps.kubernetes.io/pod-index": str(i),
                    "statefulset.kubernetes.io/pod-name": f"{name}-{i}",
                },
                pod_spec,
                s,
                created=created,
            )
        for i in range(max(replicas, keep_pvcs or 0)):
            for vn, size, sc in vcts or []:
                self.pvc_bound(
                    ns,
                    f"{vn}-{name}-{i}",
                    size,
                    sc,
                    labels=selector,
                    created=created,
                    csi_driver=csi_driver,
                )
        return s

    def pvc_bound(
        self,
        ns: str,
        name: str,
        size: str,
        sc: str,
        *,
        labels: dict[str, str] | None = None,
        created: timedelta | None = None,
        csi_driver: str = "ebs.csi.aws.com",
        helm: tuple[str, str] | None = None,
    ) -> Obj:
        pv_name = f"pvc-{uid(self.name, 'PersistentVolumeClaim', ns, name)}"
        pvc = self.obj(
            "v1",
            "PersistentVolumeClaim",
            name,
            ns,
            labels=labels,
            created=created,
            helm=helm,
            annotations={
                "pv.kubernetes.io/bind-completed": "yes",
                "pv.kubernetes.io/bound-by-controller": "yes",
                "volume.beta.kubernetes.io/storage-provisioner": csi_driver,
                "volume.kubernetes.io/storage-provisioner": csi_driver,
            },
            body={
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": size}},
                    "storageClassName": sc,
                    "volumeMode": "Filesystem",
                    "volumeName": pv_name,
                },
                "status": {
                    "phase": "Bound",
                    "accessModes": ["ReadWriteOnce"],
                    "capacity": {"storage": size},
                },
            },
        )
        pvc["metadata"]["finalizers"] = ["kubernetes.io/pvc-protection"]
        self.pv(pv_name, size, sc, claim=(ns, name), csi_driver=csi_driver, created=created)
        return pvc

    def pv(
        self,
        name: str,
        size: str,
        sc: str,
        *,
        claim: tuple[str, str] | None,
        phase: str = "Bound",
        reclaim: str = "Delete",
        csi_driver: str = "ebs.csi.aws.com",
        created: timedelta | None = None,
        handle: str | None = None,
    ) -> Obj:
        spec: Obj = {
            "accessModes": ["ReadWriteOnce"],
            "capacity": {"storage": size},
            "persistentVolumeReclaimPolicy": reclaim,
            "storageClassName": sc,
            "volumeMode": "Filesystem",
            "csi": {
                "driver": csi_driver,
                "fsType": "ext4",
                "volumeHandle": handle or f"vol-{suffix(name, 17)}",
            },
        }
        if claim:
            spec["claimRef"] = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": claim[0],
                "name": claim[1],
                "uid": uid(self.name, "PersistentVolumeClaim", claim[0], claim[1]),
            }
        pv = self.obj(
            "v1",
            "PersistentVolume",
            name,
            created=created,
            annotations={"pv.kubernetes.io/provisioned-by": csi_driver},
            body={"spec": spec, "status": {"phase": phase}},
        )
        pv["metadata"]["finalizers"] = ["kubernetes.io/pv-protection"]
        return pv

    def ds(
        self,
        ns: str,
        name: str,
        spec: Obj,
        *,
        labels: dict[str, str] | None = None,
        selector: dict[str, str] | None = None,
        node_selector: dict[str, str] | None = None,
        created: timedelta | None = None,
        helm: tuple[str, str] | None = None,
        owner: Obj | None = None,
    ) -> Obj:
        selector = selector or {"app.kubernetes.io/name": name}
        labels = {**selector, **(labels or {})}
        if node_selector:
            spec = {**spec, "nodeSelector": node_selector}
        targets = [
            n
            for n in self.nodes
            if all(n["metadata"]["labels"].get(k) == v for k, v in (node_selector or {}).items())
        ]
        d = self.obj(
            "apps/v1",
            "DaemonSet",
            name,
            ns,
            labels=labels,
            created=created,
            helm=helm,
            owner=owner,
            body={
                "spec": {
                    "selector": {"matchLabels": selector},
                    "template": {"metadata": {"labels": labels}, "spec": spec},
                    "updateStrategy": {"type": "RollingUpdate"},
                },
                "status": {
                    "desiredNumberScheduled": len(targets),
                    "currentNumberScheduled": len(targets),
                    "numberReady": len(targets),
                    "numberAvailable": len(targets),
                    "numberMisscheduled": 0,
                    "updatedNumberScheduled": len(targets),
                },
            },
        )
        if not targets:
            d["status"].pop("numberAvailable")
        rev = suffix(ns + name, 10)
        for n in targets:
            node = n["metadata"]["name"]
            self._pod(
                ns,
                f"{name}-{suffix(name + node, 5)}",
                {**labels, "controller-revision-hash": rev, "pod-template-generation": "1"},
                spec,
                d,
                created=created,
                node=node,
            )
        return d

    def job(
        self,
        ns: str,
        name: str,
        spec: Obj,
        *,
        labels: dict[str, str] | None = None,
        finished: timedelta | None = None,
        failed: bool = False,
        ttl: int | None = None,
        created: timedelta | None = None,
        owner: Obj | None = None,
        annotations: dict[str, str] | None = None,
        helm: tuple[str, str] | None = None,
        keep_pod: bool = True,
    ) -> Obj:
        spec = {**spec, "restartPolicy": "Never" if failed else "OnFailure"}
        job_uid = uid(self.name, "Job", ns, name)
        sel = {"batch.kubernetes.io/controller-uid": job_uid}
        tlabels = {**sel, "batch.kubernetes.io/job-name": name, "job-name": name, **(labels or {})}
        jspec: Obj = {
            "backoffLimit": 6,
            "completions": 1,
            "parallelism": 1,
            "selector": {"matchLabels": sel},
            "template": {"metadata": {"labels": tlabels}, "spec": spec},
        }
        if ttl is not None:
            jspec["ttlSecondsAfterFinished"] = ttl
        status: Obj = {"startTime": ts(created if created is not None else self.created)}
        if finished is None:
            status["active"] = 1
        elif failed:
            status.update(
                failed=6,
                conditions=[
                    {
                        "type": "Failed",
                        "status": "True",
                        "reason": "BackoffLimitExceeded",
                        "lastTransitionTime": ts(finished),
                    }
                ],
            )
        else:
            status.update(
                succeeded=1,
                completionTime=ts(finished),
                conditions=[
                    {
                        "type": "SuccessCriteriaMet",
                        "status": "True",
                        "lastTransitionTime": ts(finished),
                    },
                    {"type": "Complete", "status": "True", "lastTransitionTime": ts(finished)},
                ],
            )
        j = self.obj(
            "batch/v1",
            "Job",
            name,
            ns,
            labels=tlabels,
            created=created,
            owner=owner,
            annotations=annotations,
            helm=helm,
            body={"spec": jspec, "status": status},
        )
        if keep_pod:
            phase = "Running" if finished is None else ("Failed" if failed else "Succeeded")
            extra: Obj = {}
            if finished is not None:
                extra["containerStatuses"] = [
                    {
                        "name": ct["name"],
                        "ready": False,
                        "restartCount": 0,
                        "image": ct["image"],
                        "state": {
                            "terminated": {
                                "exitCode": 1 if failed else 0,
                                "reason": "Error" if failed else "Completed",
                                "finishedAt": ts(finished),
                            }
                        },
                    }
                    for ct in spec["containers"]
                ]
            self._pod(
                ns,
                f"{name}-{suffix(name, 5)}",
                tlabels,
                spec,
                j,
                created=created,
                phase=phase,
                status=extra,
            )
        return j

    # --- networking -----------------------------------------------------------------------
    def svc(
        self,
        ns: str,
        name: str,
        selector: dict[str, str] | None,
        *,
        ports: list[tuple[str, int, int | str]] | None = None,
        type_: str = "ClusterIP",
        headless: bool = False,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        lb_hostname: str | None = None,
        lb_ip: str | None = None,
        created: timedelta | None = None,
        helm: tuple[str, str] | None = None,
        owner: Obj | None = None,
        publish_not_ready: bool = False,
    ) -> Obj:
        spec: Obj = {
            "type": type_,
            "ports": [
                {"name": pn, "port": p, "targetPort": tp, "protocol": "TCP"}
                for pn, p, tp in ports or [("http", 80, 8080)]
            ],
            "clusterIP": "None" if headless else f"172.20.{len(name)}.{len(ns) * 3 % 250}",
            "sessionAffinity": "None",
            "ipFamilies": ["IPv4"],
        }
        if selector is not None:
            spec["selector"] = selector
        if publish_not_ready:
            spec["publishNotReadyAddresses"] = True
        status: Obj = {"loadBalancer": {}}
        if type_ == "LoadBalancer":
            spec["externalTrafficPolicy"] = "Cluster"
            ingress = {"hostname": lb_hostname} if lb_hostname else {"ip": lb_ip or "203.0.113.9"}
            status["loadBalancer"] = {"ingress": [ingress]}
        return self.obj(
            "v1",
            "Service",
            name,
            ns,
            labels=labels,
            annotations=annotations,
            created=created,
            helm=helm,
            owner=owner,
            body={"spec": spec, "status": status},
        )

    def endpoint_slice(self, svc: Obj, addresses: list[tuple[str, str]], mirrored: bool = False):
        md = svc["metadata"]
        name = md["name"]
        self.obj(
            "discovery.k8s.io/v1",
            "EndpointSlice",
            f"{name}-{suffix(md['namespace'] + name, 5)}",
            md["namespace"],
            labels={
                "kubernetes.io/service-name": name,
                "endpointslice.kubernetes.io/managed-by": (
                    "endpointslicemirroring-controller.k8s.io"
                    if mirrored
                    else "endpointslice-controller.k8s.io"
                ),
            },
            owner=self.ref(svc),
            body={
                "addressType": "IPv4",
                "endpoints": [
                    {
                        "addresses": [ip],
                        "conditions": {"ready": True, "serving": True, "terminating": False},
                        "nodeName": node,
                    }
                    for ip, node in addresses
                ]
                or None,
                "ports": [
                    {"name": p["name"], "port": 8080, "protocol": "TCP"}
                    for p in svc["spec"]["ports"]
                ],
            },
        )

    def finalize(self) -> list[Obj]:
        """Create the EndpointSlices the endpointslice controller maintains."""
        pods = [o for o in self.items if o["kind"] == "Pod"]
        for s in [o for o in self.items if o["kind"] == "Service"]:
            sel = s["spec"].get("selector")
            if sel is None or s["spec"]["type"] == "ExternalName":
                continue
            ns = s["metadata"]["namespace"]
            ready = [
                (p["status"]["podIP"], p["spec"]["nodeName"])
                for p in pods
                if p["metadata"]["namespace"] == ns
                and p["status"]["phase"] == "Running"
                and all(p["metadata"].get("labels", {}).get(k) == v for k, v in sel.items())
            ]
            self.endpoint_slice(s, ready)
        return self.items

    # --- RBAC -----------------------------------------------------------------------------
    def role(self, ns: str, name: str, rules: list[Obj], **kw: Any) -> Obj:
        return self.obj(
            "rbac.authorization.k8s.io/v1", "Role", name, ns, body={"rules": rules}, **kw
        )

    def clusterrole(
        self, name: str, rules: list[Obj], aggregate: list[dict[str, str]] | None = None, **kw: Any
    ) -> Obj:
        body: Obj = {"rules": rules}
        if aggregate:
            body["aggregationRule"] = {
                "clusterRoleSelectors": [{"matchLabels": m} for m in aggregate]
            }
        return self.obj("rbac.authorization.k8s.io/v1", "ClusterRole", name, body=body, **kw)

    def rb(
        self, ns: str, name: str, role: str, subjects: list[Obj], cluster_role: bool = False, **kw
    ):
        return self.obj(
            "rbac.authorization.k8s.io/v1",
            "RoleBinding",
            name,
            ns,
            body={
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole" if cluster_role else "Role",
                    "name": role,
                },
                "subjects": subjects,
            },
            **kw,
        )

    def crb(self, name: str, role: str, subjects: list[Obj] | None, **kw: Any) -> Obj:
        body: Obj = {
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role,
            }
        }
        if subjects:
            body["subjects"] = subjects
        return self.obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", name, body=body, **kw)

    # --- extension API --------------------------------------------------------------------
    def crd(
        self,
        plural: str,
        group: str,
        kind: str,
        *,
        versions: tuple[str, ...] = ("v1",),
        scope: str = "Namespaced",
        **kw: Any,
    ) -> Obj:
        return self.obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            f"{plural}.{group}",
            body={
                "spec": {
                    "group": group,
                    "scope": scope,
                    "names": {
                        "plural": plural,
                        "singular": kind.lower(),
                        "kind": kind,
                        "listKind": f"{kind}List",
                    },
                    "versions": [
                        {"name": v, "served": True, "storage": i == len(versions) - 1}
                        for i, v in enumerate(versions)
                    ],
                },
                "status": {"conditions": [{"type": "Established", "status": "True"}]},
            },
            **kw,
        )

    def cr(self, api_version: str, kind: str, name: str, ns: str | None = None, **kw: Any) -> Obj:
        return self.obj(api_version, kind, name, ns, **kw)

    def webhook(self, kind: str, name: str, services: list[tuple[str, str]], **kw: Any) -> Obj:
        return self.obj(
            "admissionregistration.k8s.io/v1",
            kind,
            name,
            body={
                "webhooks": [
                    {
                        "name": f"{svc}.{i}.{name}.io",
                        "clientConfig": {
                            "service": {"namespace": ns, "name": svc, "port": 443},
                            "caBundle": "LS0t",
                        },
                        "admissionReviewVersions": ["v1"],
                        "sideEffects": "None",
                    }
                    for i, (ns, svc) in enumerate(services)
                ]
            },
            **kw,
        )

    def apiservice(self, group: str, version: str, svc: tuple[str, str] | None, **kw: Any) -> Obj:
        spec: Obj = {"group": group, "version": version, "groupPriorityMinimum": 100}
        if svc:
            spec["service"] = {"namespace": svc[0], "name": svc[1], "port": 443}
        return self.obj(
            "apiregistration.k8s.io/v1",
            "APIService",
            f"{version}.{group}" if group else version,
            body={"spec": spec},
            **kw,
        )

    def storageclass(
        self,
        name: str,
        provisioner: str,
        *,
        default: bool = False,
        params: dict[str, str] | None = None,
        binding: str = "WaitForFirstConsumer",
        **kw: Any,
    ) -> Obj:
        ann = dict(kw.pop("annotations", {}))
        if default:
            ann["storageclass.kubernetes.io/is-default-class"] = "true"
        return self.obj(
            "storage.k8s.io/v1",
            "StorageClass",
            name,
            annotations=ann,
            body={
                "provisioner": provisioner,
                "parameters": params or {},
                "reclaimPolicy": "Delete",
                "volumeBindingMode": binding,
                "allowVolumeExpansion": True,
            },
            **kw,
        )

    def priorityclass(self, name: str, value: int, global_default: bool = False, **kw: Any):
        body: Obj = {"value": value, "preemptionPolicy": "PreemptLowerPriority"}
        if global_default:
            body["globalDefault"] = True
        return self.obj("scheduling.k8s.io/v1", "PriorityClass", name, body=body, **kw)

    def pdb(self, ns: str, name: str, selector: dict[str, str], **kw: Any) -> Obj:
        spec: Obj = {"selector": {"matchLabels": selector}}
        if "min_available" in kw:
            spec["minAvailable"] = kw.pop("min_available")
        else:
            spec["maxUnavailable"] = kw.pop("max_unavailable", 1)
        return self.obj("policy/v1", "PodDisruptionBudget", name, ns, body={"spec": spec}, **kw)

    def netpol(self, ns: str, name: str, selector: Obj, **kw: Any) -> Obj:
        return self.obj(
            "networking.k8s.io/v1",
            "NetworkPolicy",
            name,
            ns,
            body={"spec": {"podSelector": selector, "policyTypes": ["Ingress"]}},
            **kw,
        )

    def hpa(self, ns: str, name: str, kind: str, target: str, **kw: Any) -> Obj:
        return self.obj(
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
            name,
            ns,
            body={
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": kind, "name": target},
                    "minReplicas": kw.pop("min_replicas", 2),
                    "maxReplicas": kw.pop("max_replicas", 10),
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": 70},
                            },
                        }
                    ],
                }
            },
            **kw,
        )

    def ingress(
        self,
        ns: str,
        name: str,
        host: str,
        backends: list[tuple[str, str, int]],
        *,
        cls: str | None = "nginx",
        tls_secret: str | None = None,
        **kw: Any,
    ) -> Obj:
        spec: Obj = {
            "rules": [
                {
                    "host": host,
                    "http": {
                        "paths": [
                            {
                                "path": path,
                                "pathType": "Prefix",
                                "backend": {"service": {"name": svc, "port": {"number": port}}},
                            }
                            for path, svc, port in backends
                        ]
                    },
                }
            ]
        }
        if cls:
            spec["ingressClassName"] = cls
        if tls_secret:
            spec["tls"] = [{"hosts": [host], "secretName": tls_secret}]
        return self.obj(
            "networking.k8s.io/v1",
            "Ingress",
            name,
            ns,
            body={
                "spec": spec,
                "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}},
            },
            **kw,
        )


def dump(items: list[Obj]) -> bytes:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1).encode()
