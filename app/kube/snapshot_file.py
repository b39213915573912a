"""Build a Snapshot from ``kubectl get … -o json|yaml`` output.

Accepts what kubectl writes: a ``List`` (or ``<Kind>List``) document, single objects, several
JSON documents concatenated, or a multi-document YAML stream. Objects of kinds Leftover reads
are decoded into the same structs the live reader uses; custom resources only count towards
their CRD's "has instances"; anything else is skipped.

A file is a dump, not a live read, so "which kinds were read" is inferred: when the file holds
Pods it is taken as a whole-cluster dump and every kind it lacks is treated as empty (with one
warning naming them); without Pods only the kinds present count as read, and the rules that
need the rest say "not evaluated".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import yaml

from app.kube import objects as o
from app.kube.kinds import BY_KIND, KINDS
from app.kube.snapshot import ClusterInfo, Snapshot


class SnapshotFileError(ValueError):
    """The input is not a readable Kubernetes object dump; the message names the problem."""


class _Peek(msgspec.Struct, rename="camel"):
    kind: str | None = None
    api_version: str | None = None


class _Envelope(msgspec.Struct, rename="camel"):
    kind: str | None = None
    api_version: str | None = None
    items: list[msgspec.Raw] | None = None


_peek_decoder = msgspec.json.Decoder(_Peek)
_envelope_decoder = msgspec.json.Decoder(_Envelope)
_decoders: dict[str, msgspec.json.Decoder[Any]] = {}


def _decoder(kind: str) -> msgspec.json.Decoder[Any]:
    dec = _decoders.get(kind)
    if dec is None:
        dec = _decoders[kind] = msgspec.json.Decoder(BY_KIND[kind].struct)
    return dec


def load_snapshot(data: bytes, *, source: str = "snapshot") -> Snapshot:
    """Decode a kubectl JSON/YAML dump into a Snapshot; raises SnapshotFileError on bad input."""
    text_start = data.lstrip()[:1]
    if not text_start:
        raise SnapshotFileError(f"{source}: the file is empty")
    if text_start in (b"{", b"["):
        try:
            builder = _Builder(source)
            for doc in _json_documents(data, source):
                builder.add_json_document(doc)
            return builder.finish()
        except SnapshotFileError as json_error:
            # YAML flow style also starts with "{": try it before giving the JSON error.
            try:
                return _load_yaml(data, source)
            except SnapshotFileError:
                raise json_error from None
    return _load_yaml(data, source)


def _load_yaml(data: bytes, source: str) -> Snapshot:
    builder = _Builder(source)
    for ydoc in _yaml_documents(data, source):
        builder.add_python_document(ydoc)
    return builder.finish()


def snapshot_from_objects(items: Iterable[dict[str, Any]], *, source: str = "objects") -> Snapshot:
    """A Snapshot from plain Kubernetes objects (dicts), as a dump of them would load."""
    builder = _Builder(source)
    builder.add_python_document({"kind": "List", "apiVersion": "v1", "items": list(items)})
    return builder.finish()


def _json_documents(data: bytes, source: str) -> Iterator[bytes]:
    """Split concatenated JSON documents without decoding them twice in the common case."""
    try:
        _peek_decoder.decode(data)
    except msgspec.DecodeError as exc:
        if "trailing characters" not in str(exc):
            raise SnapshotFileError(f"{source}: not valid JSON ({exc})") from None
    else:
        yield data
        return
    text = data.decode("utf-8", errors="strict")
    scanner = json.JSONDecoder()
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return
        try:
            _, stop = scanner.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise SnapshotFileError(f"{source}: not valid JSON ({exc})") from None
        yield text[pos:stop].encode()
        pos = stop


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """The safe loader, minus timestamp resolution: Kubernetes times stay RFC 3339 strings."""


# Kubernetes reads YAML as JSON does: times stay strings, and a bare "=" (YAML 1.1's "value"
# tag, found in CRD enums) is just the string "=".
_NOT_KUBERNETES = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
_Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] not in _NOT_KUBERNETES]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _yaml_documents(data: bytes, source: str) -> Iterator[Any]:
    try:
        for doc in yaml.load_all(data, Loader=_Loader):
            if doc is not None:
                yield doc
    except yaml.YAMLError as exc:
        raise SnapshotFileError(f"{source}: not valid JSON or YAML ({_one_line(exc)})") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())


def _group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.snapshot = Snapshot(cluster=ClusterInfo(name=None))
        self.present: set[str] = set()
        self.custom_kinds: set[tuple[str, str]] = set()  # (group, kind) of custom resources seen
        self.count = 0

    # JSON path: decode each item straight into its struct, no intermediate dicts.
    def add_json_document(self, doc: bytes) -> None:
        try:
            env = _envelope_decoder.decode(doc)
        except msgspec.DecodeError as exc:
            raise SnapshotFileError(f"{self.source}: {exc}") from None
        if env.items is not None:
            for raw in env.items:
                self._add_json_item(raw)
        elif env.kind:
            self._add_json_item(msgspec.Raw(doc))
        else:
            raise SnapshotFileError(
                f"{self.source}: a document has neither 'kind' nor 'items'; "
                "expected kubectl get -o json output"
            )

    def _add_json_item(self, raw: msgspec.Raw) -> None:
        try:
            peek = _peek_decoder.decode(raw)
        except msgspec.DecodeError as exc:
            raise SnapshotFileError(f"{self.source}: an item is not an object ({exc})") from None
        kind, api_version = self._classify(peek.kind, peek.api_version)
        if kind is None:
            return
        try:
            obj = _decoder(kind).decode(raw)
        except msgspec.ValidationError as exc:
            raise SnapshotFileError(f"{self.source}: a {kind} is malformed: {exc}") from None
        self._store(kind, api_version, obj)

    # YAML (and dict) path.
    def add_python_document(self, doc: Any) -> None:
        if not isinstance(doc, dict):
            raise SnapshotFileError(
                f"{self.source}: expected Kubernetes objects, found a {type(doc).__name__}"
            )
        items = doc.get("items")
        if isinstance(items, list):
            for item in items:
                self._add_python_item(item)
        elif "kind" in doc:
            self._add_python_item(doc)
        else:
            raise SnapshotFileError(
                f"{self.source}: a document has neither 'kind' nor 'items'; "
                "expected kubectl get -o json|yaml output"
            )

    def _add_python_item(self, item: Any) -> None:
        if not isinstance(item, dict):
            raise SnapshotFileError(
                f"{self.source}: an item is a {type(item).__name__}, not an object"
            )
        kind, api_version = self._classify(item.get("kind"), item.get("apiVersion"))
        if kind is None:
            return
        try:
            obj = msgspec.convert(item, BY_KIND[kind].struct, strict=False)
        except msgspec.ValidationError as exc:
            name = (item.get("metadata") or {}).get("name", "?")
            raise SnapshotFileError(f"{self.source}: {kind} {name!r} is malformed: {exc}") from None
        self._store(kind, api_version, obj)

    def _classify(self, kind: Any, api_version: Any) -> tuple[str | None, str]:
        if not isinstance(kind, str) or not kind:
            raise SnapshotFileError(f"{self.source}: an item has no 'kind'")
        version = api_version if isinstance(api_version, str) else ""
        spec = BY_KIND.get(kind)
        if spec is not None and _group_of(version) == spec.group:
            return kind, version or spec.default_api_version
        if "/" in version and "." in _group_of(version):
            self.custom_kinds.add((_group_of(version), kind))
        return None, version

    def _store(self, kind: str, api_version: str, obj: Any) -> None:
        o.keep_annotations(obj.metadata)
        self.snapshot.add(kind, api_version, [obj])
        self.present.add(kind)

    def finish(self) -> Snapshot:
        snap = self.snapshot
        if not self.present:
            raise SnapshotFileError(
                f"{self.source}: no Kubernetes objects of a kind Leftover reads were found"
            )
        if "Pod" in self.present:
            snap.listed = {k.kind for k in KINDS}
            missing = sorted(
                k.kind
                for k in KINDS
                if k.kind not in self.present and k.kind not in ("ScaledObject", "Gateway")
            )
            if missing:
                snap.warnings.append(
                    "the snapshot has no objects of these kinds, treated as none: "
                    + ", ".join(missing)
                )
        else:
            snap.listed = set(self.present)
        if "CustomResourceDefinition" in snap.listed:
            snap.crd_instances = {
                crd.metadata.name: (crd.spec.group, crd.spec.names.kind) in self.custom_kinds
                for crd in snap.crds
            }
        return snap
