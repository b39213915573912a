"""Deterministic building blocks for demo clusters: names, uids, times and object shapes.

Everything a demo cluster holds is a plain Kubernetes object (a dict, as ``kubectl get -o
json`` shows it) built through a ``Gen``: its random stream, uids and timestamps all derive
from the cluster's seed and ``now``, so the same inputs give byte-identical objects.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.demo.cloud import Cloud

Obj = dict[str, Any]

_UID_NAMESPACE = uuid.UUID("3b7e4f0a-5c2d-4e8b-9a61-d0c4f2e8b7a5")
_UID_PREFIX = _UID_NAMESPACE.bytes
# k8s.io/apimachinery's rand.SafeEncodeString alphabet: what pod-template hashes look like.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
RBAC_GROUP = "rbac.authorization.k8s.io"


def ts(moment: datetime) -> str:
    """RFC 3339 in UTC, as the API server writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Owner:
    """Who an application belongs to, as its objects' labels and annotations say."""

    labels: Mapping[str, str]
    annotations: Mapping[str, str]

    @staticmethod
    def helm(release: str, chart: str, version: str, namespace: str, team: str) -> Owner:
        return Owner(
            {
                "app.kubernetes.io/managed-by": "Helm",
                "app.kubernetes.io/instance": release,
                "helm.sh/chart": f"{chart}-{version}",
                "team": team,
            },
            {"meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace},
        )

    @staticmethod
    def argocd(application: str, team: str) -> Owner:
        return Owner({"argocd.argoproj.io/instance": application, "team": team}, {})

    @staticmethod
    def team(team: str) -> Owner:
        return Owner({"team": team}, {})


@dataclass(slots=True)
class Gen:
    """One cluster's generator state: its random stream, clock and the objects made so far."""

    cloud: Cloud
    seed: str
    now: datetime
    cluster: str = field(init=False)
    rng: random.Random = field(init=False)
    objects: list[Obj] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    _names: set[tuple[str, str, str]] = field(default_factory=set)
    _pod_ips: int = 0

    def __post_init__(self) -> None:
        self.cluster = self.cloud.name
        self.rng = random.Random(self.seed)  # noqa: S311 - demo data, not a secret

    # --- identity -------------------------------------------------------------------------

    def uid(self, kind: str, namespace: str | None, name: str) -> str:
        """A UUIDv5 of the object's identity (``uuid.uuid5``'s value, formatted directly)."""
        key = f"{self.cluster}/{kind}/{namespace or ''}/{name}".encode()
        h = hashlib.sha1(_UID_PREFIX + key, usedforsecurity=False).hexdigest()
        variant = "89ab"[int(h[16], 16) & 3]
        return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"

    def hexid(self, length: int, *parts: object) -> str:
        text = "\x00".join(str(p) for p in (self.cluster, *parts))
        return hashlib.sha256(text.encode()).hexdigest()[:length]

    def suffix(self, length: int, *parts: object) -> str:
        """A pod-template-hash-like suffix (``7f9c4b6d8``)."""
        digest = hashlib.sha256("\x00".join(str(p) for p in (self.cluster, *parts)).encode())
        return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in digest.digest()[:length])

    def unique(self, kind: str, namespace: str | None, base: str) -> str:
        """``base``, or ``base-2``, ``base-3`` … when an object of that kind already has it."""
        name, n = base, 1
        while (kind, namespace or "", name) in self._names:
            n += 1
            name = f"{base}-{n}"
        return name

    # --- time ---------------------------------------------------------------------------

    def ago(self, days: float) -> str:
        return ts(self.now - timedelta(days=days))

    def created(self, low_days: float, high_days: float) -> str:
        """A creation time between ``high_days`` and ``low_days`` before now."""
        return self.ago(self.rng.uniform(low_days, high_days))

    def since(self, created: str, low_days: float = 0.0) -> str:
        """A time after ``created`` and at least ``low_days`` before now (``created`` if none
        is)."""
        age = self.now - datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        days = age.total_seconds() / 86400
        return created if days <= low_days else self.ago(self.rng.uniform(low_days, days))

    # --- randomness ---------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, options: list[Any] | tuple[Any, ...]) -> Any:
        return options[self.rng.randrange(len(options))]

    def count(self, mean: float) -> int:
        """A small non-negative count around ``mean`` (its floor, plus one by the remainder)."""
        whole = int(mean)
        return whole + (1 if self.rng.random() < mean - whole else 0)

    def pod_ip(self) -> str:
        self._pod_ips += 1
        n = self._pod_ips
        return f"10.{20 + (n >> 16) % 200}.{(n >> 8) & 255}.{n & 255}"

    # --- objects ------------------------------------------------------------------------

    def meta(
        self,
        kind: str,
        name: str,
        namespace: str | None = None,
        *,
        created: str,
        owner: Owner | None = None,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        owners: list[Obj] | None = None,
        uid: str | None = None,
    ) -> Obj:
        meta: Obj = {
            "name": name,
            "uid": uid or self.uid(kind, namespace, name),
            "resourceVersion": str(48_213_000 + 17 * len(self.objects)),
            "creationTimestamp": created,
        }
        if namespace is not None:
            meta["namespace"] = namespace
        merged = {**(owner.labels if owner else {}), **(labels or {})}
        if merged:
            meta["labels"] = merged
        notes = {**(owner.annotations if owner else {}), **(annotations or {})}
        if notes:
            meta["annotations"] = notes
        if owners:
            meta["ownerReferences"] = owners
        return meta

    def add(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        key = (obj["kind"], meta.get("namespace", ""), meta["name"])
        if key in self._names:
            raise ValueError(f"demo generator made {key} twice")
        self._names.add(key)
        self.objects.append(obj)
        return obj

    def obj(self, api_version: str, kind: str, meta: Obj, **body: Any) -> Obj:
        return self.add({"apiVersion": api_version, "kind": kind, "metadata": meta, **body})


def owner_ref(obj: Obj, *, controller: bool = True) -> Obj:
    """An ownerReference to ``obj`` (controller by default)."""
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def stale_ref(gen: Gen, api_version: str, kind: str, namespace: str | None, name: str) -> Obj:
    """An ownerReference to an object that no longer exists (or exists under another uid)."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "name": name,
        "uid": gen.uid(kind, namespace, f"{name}#deleted"),
        "controller": True,
        "blockOwnerDeletion": True,
    }


def rbac_rule(groups: list[str], resources: list[str], verbs: list[str]) -> Obj:
    return {"apiGroups": groups, "resources": resources, "verbs": verbs}


def role_ref(kind: str, name: str) -> Obj:
    return {"apiGroup": RBAC_GROUP, "kind": kind, "name": name}


def sa_subject(name: str, namespace: str) -> Obj:
    return {"kind": "ServiceAccount", "name": name, "namespace": namespace}
