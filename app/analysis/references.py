"""Who references whom: one walk over the snapshot that every reference-based rule reads.

``pod_spec_refs`` is the single definition of what a pod spec references, used for Pods and
every template alike. ``References`` maps each referenced object to its *uses*. A use by a pod
spec is live or idle by itself; a use by another object (a RoleBinding naming a ServiceAccount,
an Ingress naming a TLS Secret) is live unless that object is itself reported, which the engine
resolves by judging kinds in dependency order.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field

from app.analysis.context import Context, Key
from app.analysis.model import ObjectRef
from app.kube import objects as o

_TOKEN_SPLIT = re.compile(r"[^A-Za-z0-9._-]+")

# ingress-nginx names Secrets in annotations ("[namespace/]name").
INGRESS_SECRET_ANNOTATIONS = (
    "nginx.ingress.kubernetes.io/auth-secret",
    "nginx.ingress.kubernetes.io/auth-tls-secret",
    "nginx.ingress.kubernetes.io/proxy-ssl-secret",
)


@dataclass(frozen=True, slots=True)
class Use:
    by: ObjectRef  # named in evidence and cascades
    via: str  # "volume", "envFrom", "imagePullSecrets", "roleRef", "tls" …
    live: bool = True
    state: str = "running"
    dynamic: bool = False  # live unless ``by`` is itself reported

    def describe(self) -> str:
        return f"{self.by} ({self.via})"


def pod_spec_refs(spec: o.PodSpec, pod_name: str | None = None) -> Iterator[tuple[str, str, str]]:
    """(kind, name, via) for everything a pod spec references; all namespace-local but
    PriorityClass. ``pod_name`` resolves generic ephemeral volumes' PVC names."""
    for vol in spec.volumes:
        if vol.config_map is not None and vol.config_map.name:
            yield "ConfigMap", vol.config_map.name, f"volume {vol.name}"
        if vol.secret is not None and vol.secret.secret_name:
            yield "Secret", vol.secret.secret_name, f"volume {vol.name}"
        if vol.persistent_volume_claim is not None and vol.persistent_volume_claim.claim_name:
            yield (
                "PersistentVolumeClaim",
                vol.persistent_volume_claim.claim_name,
                (f"volume {vol.name}"),
            )
        if vol.ephemeral is not None and pod_name:
            yield "PersistentVolumeClaim", f"{pod_name}-{vol.name}", f"ephemeral volume {vol.name}"
        if vol.projected is not None:
            for proj in vol.projected.sources:
                if proj.config_map is not None and proj.config_map.name:
                    yield "ConfigMap", proj.config_map.name, f"projected volume {vol.name}"
                if proj.secret is not None and proj.secret.name:
                    yield "Secret", proj.secret.name, f"projected volume {vol.name}"
        csi_secret = vol.csi.node_publish_secret_ref if vol.csi is not None else None
        if csi_secret is not None and csi_secret.name:
            yield "Secret", csi_secret.name, f"csi volume {vol.name}"
        if vol.azure_file is not None and vol.azure_file.secret_name:
            yield "Secret", vol.azure_file.secret_name, f"azureFile volume {vol.name}"
        for typ, src_ref in (
            ("cephfs", vol.cephfs),
            ("cinder", vol.cinder),
            ("flexVolume", vol.flex_volume),
            ("iscsi", vol.iscsi),
            ("rbd", vol.rbd),
            ("scaleIO", vol.scale_io),
            ("storageos", vol.storageos),
        ):
            if src_ref is not None and src_ref.secret_ref is not None and src_ref.secret_ref.name:
                yield "Secret", src_ref.secret_ref.name, f"{typ} volume {vol.name}"
    for container in (*spec.init_containers, *spec.containers, *spec.ephemeral_containers):
        for env in container.env:
            src = env.value_from
            if src is None:
                continue
            if src.config_map_key_ref is not None and src.config_map_key_ref.name:
                yield "ConfigMap", src.config_map_key_ref.name, f"env {env.name}"
            if src.secret_key_ref is not None and src.secret_key_ref.name:
                yield "Secret", src.secret_key_ref.name, f"env {env.name}"
        for env_from in container.env_from:
            if env_from.config_map_ref is not None and env_from.config_map_ref.name:
                yield "ConfigMap", env_from.config_map_ref.name, "envFrom"
            if env_from.secret_ref is not None and env_from.secret_ref.name:
                yield "Secret", env_from.secret_ref.name, "envFrom"
    for pull in spec.image_pull_secrets:
        if pull.name:
            yield "Secret", pull.name, "imagePullSecrets"
    yield (
        "ServiceAccount",
        spec.service_account_name or spec.service_account or "default",
        ("serviceAccountName"),
    )
    if spec.priority_class_name:
        yield "PriorityClass", spec.priority_class_name, "priorityClassName"


def _texts(spec: o.PodSpec) -> Iterator[str]:
    """A spec's commands, args and literal env values (``--configmap=ns/name``)."""
    for container in (*spec.init_containers, *spec.containers):
        yield from container.command
        yield from container.args
        for env in container.env:
            if env.value:
                yield env.value


@dataclass(slots=True)
class References:
    uses: dict[Key, list[Use]] = field(default_factory=lambda: defaultdict(list))
    live_specs: list[o.PodSpec] = field(default_factory=list)
    _mentioned: set[str] | None = None

    def of(self, kind: str, namespace: str | None, name: str) -> list[Use]:
        return self.uses.get((kind, namespace, name), [])

    @property
    def mentioned(self) -> set[str]:
        """Every word a live container's command, args or env values mention (computed on
        first use: most scans never need it)."""
        if self._mentioned is None:
            words: set[str] = set()
            seen: set[tuple[str, ...]] = set()
            for spec in self.live_specs:
                texts = tuple(_texts(spec))
                if texts and texts not in seen:
                    seen.add(texts)
                    for text in texts:
                        words.update(_TOKEN_SPLIT.split(text))
            self._mentioned = words
        return self._mentioned

    def add(self, key: Key, use: Use) -> None:
        self.uses[key].append(use)


def build_references(ctx: Context) -> References:
    """Walk every referencing object once."""
    refs = References()
    for user in ctx.spec_users:
        pod_name = user.source.name if user.source.kind == "Pod" else None
        for kind, name, via in pod_spec_refs(user.spec, pod_name):
            ns = None if kind == "PriorityClass" else user.namespace
            refs.add((kind, ns, name), Use(user.ref, via, live=user.live, state=user.state))
        if user.live:
            refs.live_specs.append(user.spec)
    snap = ctx.snap
    for sa in snap.service_accounts:
        ns, by = (
            sa.metadata.namespace,
            ObjectRef("ServiceAccount", sa.metadata.namespace, sa.metadata.name),
        )
        for s in sa.secrets:
            if s.name:
                refs.add(("Secret", ns, s.name), Use(by, "secrets", dynamic=True))
        for s in sa.image_pull_secrets:
            if s.name:
                refs.add(("Secret", ns, s.name), Use(by, "imagePullSecrets", dynamic=True))
    for ing in snap.ingresses:
        ns = ing.metadata.namespace
        by = ObjectRef("Ingress", ns, ing.metadata.name)
        for tls in ing.spec.tls:
            if tls.secret_name:
                refs.add(("Secret", ns, tls.secret_name), Use(by, "tls", dynamic=True))
        for key in INGRESS_SECRET_ANNOTATIONS:
            value = ing.metadata.annotations.get(key)
            if value:
                secret_ns, _, name = value.strip().rpartition("/")
                refs.add(
                    ("Secret", secret_ns or ns, name),
                    Use(by, f"annotation {key}", dynamic=True),
                )
    for gw in snap.gateways:
        by = ObjectRef("Gateway", gw.metadata.namespace, gw.metadata.name)
        for listener in gw.spec.listeners:
            for cert in listener.tls.certificate_refs if listener.tls else ():
                if (cert.kind or "Secret") == "Secret" and cert.name:
                    refs.add(
                        ("Secret", cert.namespace or gw.metadata.namespace, cert.name),
                        Use(by, f"listener {listener.name} certificateRefs"),
                    )
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for b in snap.bindings(kind):
            ns = b.metadata.namespace if kind == "RoleBinding" else None
            by = ObjectRef(kind, ns, b.metadata.name)
            role_ns = ns if b.role_ref.kind == "Role" else None
            refs.add((b.role_ref.kind, role_ns, b.role_ref.name), Use(by, "roleRef", dynamic=True))
            for subj in b.subjects:
                if subj.kind == "ServiceAccount":
                    subj_ns = subj.namespace or ns
                    refs.add(
                        ("ServiceAccount", subj_ns, subj.name), Use(by, "subject", dynamic=True)
                    )
    for pvc in snap.pvcs:
        if pvc.spec.storage_class_name:
            by = ObjectRef("PersistentVolumeClaim", pvc.metadata.namespace, pvc.metadata.name)
            refs.add(
                ("StorageClass", None, pvc.spec.storage_class_name), Use(by, "storageClassName")
            )
    for pv in snap.pvs:
        if pv.spec.storage_class_name:
            by = ObjectRef("PersistentVolume", None, pv.metadata.name)
            refs.add(
                ("StorageClass", None, pv.spec.storage_class_name), Use(by, "storageClassName")
            )
    for sts in snap.workloads("StatefulSet"):
        by = ObjectRef("StatefulSet", sts.metadata.namespace, sts.metadata.name)
        for vct in sts.spec.volume_claim_templates:
            if vct.spec.storage_class_name:
                refs.add(
                    ("StorageClass", None, vct.spec.storage_class_name),
                    Use(by, "volumeClaimTemplates"),
                )
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for wh_cfg in snap.webhooks(kind):
            by = ObjectRef(kind, None, wh_cfg.metadata.name)
            for wh in wh_cfg.webhooks:
                svc = wh.client_config.service
                if svc is not None and svc.name:
                    refs.add(("Service", svc.namespace, svc.name), Use(by, f"webhook {wh.name}"))
    for api in snap.api_services:
        svc = api.spec.service
        if svc is not None and svc.name:
            by = ObjectRef("APIService", None, api.metadata.name)
            refs.add(("Service", svc.namespace, svc.name), Use(by, "APIService backend"))
    return refs
