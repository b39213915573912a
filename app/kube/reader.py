"""Read a live cluster into a Snapshot: discovery, then one paginated cluster-wide LIST per kind.

Discovery decides which version of each kind to list (the first of the kind table's versions
that the cluster serves). Each kind is listed across all namespaces page by page; a page's raw
bytes are decoded by msgspec straight into the reduced structs and dropped before the next page.
A kind that cannot be read (not served, forbidden, failing) becomes a warning and stays out of
``snapshot.listed``, so rules can tell "none exist" from "could not look". Secrets and
ConfigMaps are listed as PartialObjectMetadata: their values never cross the wire.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import msgspec

from app.kube import objects as o
from app.kube.access import ClusterAccess
from app.kube.kinds import BY_KIND, KINDS, KindSpec, resolve_kind
from app.kube.snapshot import ClusterInfo, Snapshot
from app.kube.transport import (
    MAX_CONCURRENCY,
    AuthenticationRefused,
    ClusterUnreachable,
    ReadError,
    ReadStats,
    Response,
    ResponseTooLarge,
    RetryPolicy,
    Transport,
)

__all__ = [
    "AuthenticationRefused",
    "ClusterReader",
    "ClusterUnreachable",
    "ReadError",
    "ReadProgress",
    "ReadStats",
    "ResponseTooLarge",
    "RetryPolicy",
    "read_cluster",
]

ACCEPT_JSON = "application/json"
ACCEPT_METADATA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
# ConfigMaps may fall back to full objects on a server without PartialObjectMetadata (the
# decoder drops their data); Secrets never: such a server answers 406 and they are skipped.
ACCEPT_METADATA_OR_JSON = f"{ACCEPT_METADATA}, {ACCEPT_JSON}"

# Secret types two rules depend on, which PartialObjectMetadata does not carry.
TYPED_SECRETS: tuple[str, ...] = ("kubernetes.io/service-account-token", "helm.sh/release.v1")

# Optional add-ons: their absence is normal and not worth a warning.
QUIET_WHEN_ABSENT: frozenset[str] = frozenset({"ScaledObject", "Gateway"})

MAX_LIST_RESTARTS = 3


class _Named(msgspec.Struct):
    name: str = ""
    verbs: list[str] | None = None


class _ResourceList(msgspec.Struct):
    resources: list[_Named] = msgspec.field(default_factory=list)


class _GroupVersion(msgspec.Struct, rename="camel"):
    version: str = ""


class _Group(msgspec.Struct):
    name: str = ""
    versions: list[_GroupVersion] = msgspec.field(default_factory=list)


class _GroupList(msgspec.Struct):
    groups: list[_Group] = msgspec.field(default_factory=list)


class _CoreVersions(msgspec.Struct):
    versions: list[str] = msgspec.field(default_factory=list)


class _Version(msgspec.Struct, rename="camel"):
    git_version: str | None = None


class _Anything(msgspec.Struct):
    """Decodes any object to nothing: only the count of a probe's items matters."""


class _ProbePage(msgspec.Struct):
    items: list[_Anything] | None = None


@dataclass(frozen=True, slots=True)
class ReadProgress:
    kind: str
    objects_so_far_for_kind: int
    total_objects: int
    requests: int
    done_kinds: int
    total_kinds: int


@dataclass(frozen=True, slots=True)
class _Target:
    spec: KindSpec
    version: str

    @property
    def api_version(self) -> str:
        return self.spec.api_version(self.version)

    @property
    def path(self) -> str:
        return f"{_gv_path(self.spec.group, self.version)}/{self.spec.plural}"


class _KindFailed(Exception):
    """A kind could not be listed; ``transient`` when a later read may well succeed."""

    def __init__(self, reason: str, *, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def _gv_path(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


_DECODERS: dict[type[msgspec.Struct], msgspec.json.Decoder[Any]] = {}


def page_decoder(struct: type[msgspec.Struct]) -> msgspec.json.Decoder[Any]:
    """A cached decoder for one List page ``{metadata, items: [struct]}`` of a kind."""
    decoder = _DECODERS.get(struct)
    if decoder is None:
        items_type = types.GenericAlias(list, (struct,)) | None
        page = msgspec.defstruct(
            f"{struct.__name__}Page",
            [
                ("metadata", o.ListMeta, msgspec.field(default_factory=o.ListMeta)),
                ("items", items_type, None),
            ],
        )
        decoder = _DECODERS[struct] = msgspec.json.Decoder(page)
    return decoder


def _select(kinds: Collection[str] | None) -> list[KindSpec]:
    if kinds is None:
        return list(KINDS)
    wanted: set[str] = set()
    for name in kinds:
        spec = BY_KIND.get(name) or resolve_kind(name)
        if spec is None:
            raise ValueError(f"unknown kind: {name}")
        wanted.add(spec.kind)
    return [spec for spec in KINDS if spec.kind in wanted]


def _failure(target: _Target, response: Response) -> str:
    spec, status = target.spec, response.status
    if status == 403:
        resource = f"{spec.plural}.{spec.group}" if spec.group else spec.plural
        return f"{spec.kind}: forbidden by RBAC (list {resource} at cluster scope)"
    if status == 404:
        return f"{spec.kind}: not served by this cluster ({target.api_version})"
    if status == 406:
        return f"{spec.kind}: the API server cannot list metadata only (406 Not Acceptable)"
    if 300 <= status < 400:
        return f"{spec.kind}: the API server answered with a redirect ({status}); not followed"
    if status == 429 or status >= 500:
        return f"{spec.kind}: the API server kept answering {response.status_text}"
    return f"{spec.kind}: the API server answered {response.status_text}"


class ClusterReader:
    """Reads one cluster; ``stats`` counts requests, bytes and retries for the bench and logs."""

    def __init__(
        self,
        access: ClusterAccess,
        *,
        retry: RetryPolicy | None = None,
        page_size: int = 500,
        progress: Callable[[ReadProgress], None] | None = None,
        concurrency: int = 4,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValueError(f"concurrency must be between 1 and {MAX_CONCURRENCY}")
        self.concurrency = concurrency
        self._lock = threading.Lock()
        self.access = access
        self.retry = retry or RetryPolicy()
        self.page_size = page_size
        self.progress = progress
        self.stats = ReadStats()
        self._done = 0
        self._total = 0
        self._objects = 0  # objects of the kinds already listed
        self._partial: dict[str, int] = {}  # objects so far of the kinds being listed

    def read(
        self, *, kinds: Collection[str] | None = None, check_crd_instances: bool = True
    ) -> Snapshot:
        """List every selected kind the cluster serves into a fresh Snapshot."""
        specs = _select(kinds)
        with Transport(self.access, retry=self.retry, stats=self.stats) as transport:
            snap = Snapshot(cluster=ClusterInfo(name=self.access.name, server=self.access.server))
            snap.cluster.version = self._version(transport)
            targets = self._plan(transport, specs, snap.warnings)
            self._done, self._total, self._objects = 0, len(targets), 0
            self._partial.clear()
            # Several kinds are listed at once (pages of one kind stay in order): decoding one
            # page overlaps with the API server preparing the next, as client-go's informers
            # do. Results are applied in plan order, so the snapshot does not depend on timing.
            with ThreadPoolExecutor(self.concurrency, thread_name_prefix="leftover-list") as pool:
                futures = [pool.submit(self._fetch_kind, transport, t) for t in targets]
                try:
                    for target, future in zip(targets, futures, strict=True):
                        self._apply(target, future.result(), snap)
                finally:
                    for future in futures:
                        future.cancel()
            if check_crd_instances and "CustomResourceDefinition" in snap.listed:
                self._check_crd_instances(transport, snap)
        return snap

    # --- discovery ------------------------------------------------------------------------

    def _discovery(self, transport: Transport, path: str, struct: type[Any]) -> Any:
        response = transport.get(path, accept=ACCEPT_JSON)
        if response.status == 403:
            raise AuthenticationRefused(
                f"the API server denied these credentials API discovery ({response.status_text})"
            )
        if response.status != 200:
            raise ClusterUnreachable(
                f"API discovery failed: {path} answered {response.status_text}"
            )
        try:
            return msgspec.json.decode(response.body, type=struct)
        except msgspec.MsgspecError as exc:
            raise ClusterUnreachable(
                f"API discovery failed: {path} is not a Kubernetes discovery document"
            ) from exc

    def _version(self, transport: Transport) -> str | None:
        response = transport.get("/version", accept=ACCEPT_JSON)
        if response.status != 200:
            return None
        try:
            return msgspec.json.decode(response.body, type=_Version).git_version
        except msgspec.MsgspecError:
            return None

    def _plan(
        self, transport: Transport, specs: list[KindSpec], warnings: list[str]
    ) -> list[_Target]:
        served: dict[str, set[str]] = {
            "": set(self._discovery(transport, "/api", _CoreVersions).versions)
        }
        for group in self._discovery(transport, "/apis", _GroupList).groups:
            served[group.name] = {v.version for v in group.versions}
        resources: dict[tuple[str, str], set[str] | None] = {}
        targets: list[_Target] = []
        for spec in specs:
            for version in spec.versions:
                if version not in served.get(spec.group, set()):
                    continue
                key = (spec.group, version)
                if key not in resources:
                    resources[key] = self._listable(transport, *key)
                plurals = resources[key]
                if plurals is None or spec.plural in plurals:
                    targets.append(_Target(spec, version))
                    break
            else:
                if spec.kind not in QUIET_WHEN_ABSENT:
                    tried = ", ".join(spec.api_version(v) for v in spec.versions)
                    warnings.append(f"{spec.kind}: not served by this cluster ({tried})")
        return targets

    def _listable(self, transport: Transport, group: str, version: str) -> set[str] | None:
        """Plurals the group version serves with ``list``; None when the server won't say."""
        response = transport.get(_gv_path(group, version), accept=ACCEPT_JSON)
        if response.status == 404:
            return set()
        if response.status != 200:
            return None
        try:
            found = msgspec.json.decode(response.body, type=_ResourceList)
        except msgspec.MsgspecError:
            return None
        return {r.name for r in found.resources if r.verbs is None or "list" in r.verbs}

    # --- lists ----------------------------------------------------------------------------

    def _fetch_kind(self, transport: Transport, target: _Target) -> list[Any] | _KindFailed:
        """Every object of one kind, or why the kind was skipped."""
        try:
            items = self._list(transport, target)
            if target.spec.kind == "Secret":
                self._type_secrets(transport, target, items)
        except _KindFailed as exc:
            return exc
        except ResponseTooLarge as exc:
            raise ResponseTooLarge(f"{target.spec.kind}: {exc.reason}") from exc
        finally:
            with self._lock:
                self._partial.pop(target.spec.kind, None)
        with self._lock:
            self._objects += len(items)
            self._done += 1
        return items

    @staticmethod
    def _apply(target: _Target, result: list[Any] | _KindFailed, snap: Snapshot) -> None:
        if isinstance(result, _KindFailed):
            snap.warnings.append(result.reason)
            if result.transient:
                snap.transient_failures[target.spec.kind] = result.reason
            return
        snap.add(target.spec.kind, target.api_version, result)
        snap.listed.add(target.spec.kind)

    def _list(
        self, transport: Transport, target: _Target, *, field_selector: str | None = None
    ) -> list[Any]:
        """Every object of one kind, cluster-wide, following ``continue``; restarts on 410."""
        spec = target.spec
        decoder = page_decoder(spec.struct)
        accept = ACCEPT_JSON
        if spec.metadata_only:
            accept = ACCEPT_METADATA if spec.kind == "Secret" else ACCEPT_METADATA_OR_JSON
        restarts = 0
        items: list[Any] = []
        token: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": self.page_size}
            if token:
                params["continue"] = token
            if field_selector:
                params["fieldSelector"] = field_selector
            response = transport.get(target.path, params, accept=accept)
            if response.status == 410 and token is not None:
                restarts += 1
                if restarts > MAX_LIST_RESTARTS:
                    raise _KindFailed(
                        f"{spec.kind}: the list kept expiring while paging", transient=True
                    )
                items, token = [], None
                continue
            if response.status != 200:
                transient = response.status == 429 or response.status >= 500
                raise _KindFailed(_failure(target, response), transient=transient)
            if spec.kind == "Secret" and "as=PartialObjectMetadataList" not in (
                response.content_type.replace(" ", "")
            ):
                raise _KindFailed("Secret: the API server ignored the metadata-only request")
            try:
                page = decoder.decode(response.body)
            except msgspec.MsgspecError as exc:
                raise _KindFailed(f"{spec.kind}: the API server sent an undecodable list") from exc
            del response
            for item in page.items or ():
                o.keep_annotations(item.metadata)
            items.extend(page.items or ())
            if field_selector is None:
                self._report(spec.kind, len(items))
            token = page.metadata.continue_
            if not token:
                return items

    def _type_secrets(self, transport: Transport, target: _Target, items: list[Any]) -> None:
        """Restore ``type`` for the secret types rules need, via metadata-only filtered lists."""
        by_uid = {s.metadata.uid: s for s in items}
        for secret_type in TYPED_SECRETS:
            try:
                typed = self._list(transport, target, field_selector=f"type={secret_type}")
            except _KindFailed as exc:
                why = exc.reason.removeprefix("Secret: ")
                raise _KindFailed(
                    f"Secret: could not tell secret types apart ({why})", transient=exc.transient
                ) from exc
            for secret in typed:
                match = by_uid.get(secret.metadata.uid)
                if match is not None:
                    match.type = secret_type

    def _report(self, kind: str, so_far: int) -> None:
        if self.progress is None:
            return
        with self._lock:
            # Kinds are listed concurrently: the total counts every kind's pages so far.
            self._partial[kind] = so_far
            self.progress(
                ReadProgress(
                    kind=kind,
                    objects_so_far_for_kind=so_far,
                    total_objects=self._objects + sum(self._partial.values()),
                    requests=self.stats.requests,
                    done_kinds=self._done,
                    total_kinds=self._total,
                )
            )

    # --- CRD instances --------------------------------------------------------------------

    def _check_crd_instances(self, transport: Transport, snap: Snapshot) -> None:
        """Whether each CRD has any instance, probing each served version with ``limit=1``."""
        found: dict[str, bool] = {}
        unknown: list[str] = []
        for crd in snap.crds:
            name, spec = crd.metadata.name, crd.spec
            any_items, complete = False, True
            for version in (v.name for v in spec.versions if v.served):
                path = f"{_gv_path(spec.group, version)}/{spec.names.plural}"
                response = transport.get(path, {"limit": 1}, accept=ACCEPT_METADATA_OR_JSON)
                try:
                    if response.status != 200:
                        raise _KindFailed(response.status_text)
                    page = msgspec.json.decode(response.body, type=_ProbePage)
                except (_KindFailed, msgspec.MsgspecError):
                    complete = False
                    continue
                if page.items:
                    any_items = True
                    break
            if any_items or complete:
                found[name] = any_items
            else:
                unknown.append(name)
        snap.crd_instances = found
        if unknown:
            shown = ", ".join(sorted(unknown)[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            snap.warnings.append(
                f"CustomResourceDefinition: could not check {len(unknown)} CRDs for instances "
                f"(forbidden, not served or failing): {shown}{more}"
            )


def read_cluster(
    access: ClusterAccess,
    *,
    kinds: Collection[str] | None = None,
    check_crd_instances: bool = True,
    page_size: int = 500,
    progress: Callable[[ReadProgress], None] | None = None,
    retry: RetryPolicy | None = None,
    concurrency: int = 4,
) -> Snapshot:
    """Read one cluster into a Snapshot (see ClusterReader for counters)."""
    reader = ClusterReader(
        access, retry=retry, page_size=page_size, progress=progress, concurrency=concurrency
    )
    return reader.read(kinds=kinds, check_crd_instances=check_crd_instances)
