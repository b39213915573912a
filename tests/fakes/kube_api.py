"""A fake Kubernetes API server over HTTPS, for tests, manual CLI trials and the benchmark.

It serves classic discovery (/version, /api, /apis, /apis/<g>/<v>), cluster-wide and
namespaced LISTs with ``limit``/``continue`` paging, single GETs, PartialObjectMetadata when the
Accept header asks for it, ``fieldSelector`` on ``type``/``metadata.name``/``metadata.namespace``,
gzip, bearer-token and client-certificate authentication, and programmable faults. Every
object's JSON is serialized once at start-up; pages are built by joining bytes, so serving
100k objects stays fast.

    with FakeKubeAPI(objects, token="t0ken") as api:
        api.url, api.ca_pem
        api.inject(r"/api/v1/pods\\?.*continue=", Fault.gone())

    python -m tests.fakes.kube_api --objects objects.json --port 8443 --ca-file /tmp/ca.pem
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import gzip
import json
import re
import socket
import ssl
import sys
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qsl

import msgspec
import trustme

from app.kube.kinds import KINDS

META_MEDIA = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
META_ITEM_MEDIA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"
_VERSION_RE = re.compile(r"^v\d+((alpha|beta)\d+)?$")
_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"]


@dataclass(frozen=True)
class Fault:
    """What to do instead of answering normally.

    ``status`` answers with that code (plus a ``Retry-After`` and any other ``headers``);
    ``hang`` stalls that many seconds and then closes the connection without answering;
    ``drop`` closes it at once.
    """

    status: int | None = None
    retry_after: str | None = None
    hang: float = 0.0
    drop: bool = False
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def gone(cls) -> Fault:
        return cls(status=410)

    @classmethod
    def too_many(cls, retry_after: str = "0") -> Fault:
        return cls(status=429, retry_after=retry_after)

    @classmethod
    def error(cls, status: int = 500) -> Fault:
        return cls(status=status)

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Fault:
        return cls(status=status, headers=(("Location", location),))

    @classmethod
    def stall(cls, seconds: float) -> Fault:
        return cls(hang=seconds)

    @classmethod
    def dropped(cls) -> Fault:
        return cls(drop=True)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    status: int  # 0 when the connection was dropped or stalled
    gzipped: bool = False
    body: bytes | None = None  # the uncompressed answer, when record_bodies


@dataclass
class _Entry:
    namespace: str
    name: str
    fields: dict[str, str]
    full: bytes
    meta: bytes


@dataclass
class _Resource:
    group: str
    kind: str
    plural: str
    namespaced: bool
    versions: list[str]
    entries: list[_Entry] = field(default_factory=list)
    index: dict[tuple[str, str], _Entry] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    fault: Fault
    remaining: int | None  # None: forever


def _status(code: int, reason: str, message: str) -> bytes:
    return msgspec.json.encode(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
    )


def _group_of(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


class FakeKubeAPI:
    """An HTTPS API server on 127.0.0.1 serving the given objects (plain Kubernetes dicts)."""

    def __init__(
        self,
        objects: Iterable[Mapping[str, Any]] = (),
        *,
        token: str | None = "t0ken",  # noqa: S107 - the fake's well-known test token
        client_cert_auth: bool = False,
        # Decides bearer tokens that are minted, not fixed (EKS, GKE, AKS); wins over ``token``.
        accept_token: Callable[[str], bool] | None = None,
        git_version: str = "v1.30.2",
        hidden: Iterable[str] = (),
        forbidden: Iterable[str] = (),
        gzip_min_bytes: int = 128 * 1024,
        record_bodies: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token = token
        self.accept_token = accept_token
        self.client_cert_auth = client_cert_auth
        self.git_version = git_version
        self.gzip_min_bytes = gzip_min_bytes
        self.record_bodies = record_bodies
        self.log_file: TextIO | None = None  # set by main(): one JSON line per request
        self.forbidden = set(forbidden)
        self._hidden = self._parse_hidden(hidden)
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._log: list[RequestRecord] = []
        self._stopping = threading.Event()
        self._resources: dict[tuple[str, str], _Resource] = {}
        for spec in KINDS:
            self._resources[(spec.group, spec.plural)] = _Resource(
                spec.group, spec.kind, spec.plural, spec.namespaced, list(spec.versions)
            )
        self._load(list(objects))
        self.ca = trustme.CA()
        self._server_cert = self.ca.issue_cert("localhost", "127.0.0.1", "::1", "kube.test")
        self._server = _Server((host, port), _Handler, self)
        self._thread: threading.Thread | None = None

    # --- set-up ---------------------------------------------------------------------------

    @staticmethod
    def _parse_hidden(hidden: Iterable[str]) -> set[tuple[str, ...]]:
        parsed: set[tuple[str, ...]] = set()
        for item in hidden:
            parts = item.split("/")
            if len(parts) == 1:
                parsed.add(("", parts[0]) if _VERSION_RE.match(parts[0]) else (parts[0],))
            elif len(parts) == 2 and _VERSION_RE.match(parts[1]):
                parsed.add((parts[0], parts[1]))
            elif len(parts) == 2:
                parsed.add(("", parts[0], parts[1]))
            else:
                parsed.add((parts[0], parts[1], parts[2]))
        return parsed

    def _load(self, objects: list[Mapping[str, Any]]) -> None:
        for crd in objects:
            if crd.get("kind") == "CustomResourceDefinition":
                spec = crd.get("spec", {})
                names = spec.get("names", {})
                versions = [v["name"] for v in spec.get("versions", []) if v.get("served", True)]
                key = (spec.get("group", ""), names.get("plural", ""))
                existing = self._resources.get(key)
                if existing is not None:
                    existing.versions = versions or existing.versions
                else:
                    self._resources[key] = _Resource(
                        key[0],
                        names.get("kind", ""),
                        key[1],
                        spec.get("scope", "Namespaced") == "Namespaced",
                        versions,
                    )
        by_kind = {(r.group, r.kind): r for r in self._resources.values()}
        for number, raw in enumerate(objects):
            obj: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(raw))
            group, _version = _group_of(str(obj.get("apiVersion", "")))
            resource = by_kind.get((group, str(obj.get("kind", ""))))
            if resource is None:
                raise ValueError(
                    f"the fake serves no resource for {obj.get('apiVersion')} {obj.get('kind')}"
                )
            meta = obj.setdefault("metadata", {})
            if resource.namespaced:
                meta.setdefault("namespace", "default")
            else:
                meta.pop("namespace", None)
            ns, name = meta.get("namespace", ""), meta.get("name", "")
            meta.setdefault(
                "uid", str(uuid.uuid5(uuid.NAMESPACE_URL, f"{resource.key}/{ns}/{name}"))
            )
            meta.setdefault("creationTimestamp", "2024-01-01T00:00:00Z")
            meta.setdefault("resourceVersion", str(1000 + number))
            fields = {"metadata.name": name, "metadata.namespace": ns}
            if resource.kind == "Secret":
                fields["type"] = str(obj.setdefault("type", "Opaque"))
            partial = {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1"}
            entry = _Entry(
                ns,
                name,
                fields,
                msgspec.json.encode(obj),
                msgspec.json.encode({**partial, "metadata": meta}),
            )
            resource.entries.append(entry)
            resource.index[(ns, name)] = entry
        for resource in self._resources.values():
            resource.entries.sort(key=lambda e: (e.namespace, e.name))

    # --- control --------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()

    def client_cert(self, common_name: str = "leftover-reader") -> tuple[bytes, bytes]:
        """A client certificate (PEM) and key signed by this server's CA."""
        leaf = self.ca.issue_cert(common_name)
        return leaf.cert_chain_pems[0].bytes(), leaf.private_key_pem.bytes()

    def inject(self, pattern: str, *faults: Fault, times: int | None = 1) -> None:
        """Queue faults for requests whose target (path?query) matches ``pattern``.

        Each fault is used ``times`` times (None: forever) in the order given.
        """
        with self._lock:
            for fault in faults:
                self._rules.append(_Rule(re.compile(pattern), fault, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._log)

    def count(self, pattern: str = "") -> int:
        """How many requests had a target matching ``pattern`` (a regex)."""
        rx = re.compile(pattern)
        return sum(1 for r in self.requests if rx.search(r.target))

    def paths(self) -> Counter[str]:
        return Counter(r.path for r in self.requests)

    def start(self) -> FakeKubeAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeKubeAPI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- behaviour used by the handler ----------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._server_cert.configure_cert(ctx)
        if self.client_cert_auth:
            self.ca.configure_trust(ctx)
            ctx.verify_mode = ssl.CERT_OPTIONAL
        return ctx

    def take_fault(self, target: str) -> Fault | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining != 0 and rule.pattern.search(target):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule.fault
        return None

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self._log.append(record)
            if self.log_file is not None:
                accept = record.headers.get("accept", "")
                self.log_file.write(json.dumps([record.target, accept]) + "\n")
                self.log_file.flush()

    def served(self, group: str, version: str, plural: str | None = None) -> bool:
        if (group,) in self._hidden or (group, version) in self._hidden:
            return False
        if plural is not None:
            resource = self._resources.get((group, plural))
            return (
                resource is not None
                and version in resource.versions
                and (group, version, plural) not in self._hidden
            )
        return any(r.group == group and version in r.versions for r in self._resources.values())

    def group_versions(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for r in self._resources.values():
            for v in r.versions:
                if self.served(r.group, v) and v not in found.setdefault(r.group, []):
                    found[r.group].append(v)
        return found

    def discovery(self, path: str) -> bytes | None:
        gvs = self.group_versions()
        if path == "/version":
            major, minor = self.git_version.lstrip("v").split(".")[:2]
            doc: dict[str, Any] = {
                "major": major,
                "minor": minor,
                "gitVersion": self.git_version,
                "platform": "linux/amd64",
            }
        elif path == "/api":
            doc = {"kind": "APIVersions", "versions": gvs.get("", [])}
        elif path == "/apis":
            doc = {
                "kind": "APIGroupList",
                "apiVersion": "v1",
                "groups": [self._group_doc(g, vs) for g, vs in sorted(gvs.items()) if g],
            }
        else:
            parts = path.strip("/").split("/")
            if parts[0] == "apis" and len(parts) == 2 and parts[1] in gvs:
                return msgspec.json.encode(
                    {
                        "kind": "APIGroup",
                        "apiVersion": "v1",
                        **self._group_doc(parts[1], gvs[parts[1]]),
                    }
                )
            if parts[0] == "api" and len(parts) == 2:
                group, version = "", parts[1]
            elif parts[0] == "apis" and len(parts) == 3:
                group, version = parts[1], parts[2]
            else:
                return None
            if version not in gvs.get(group, []):
                return None
            doc = {
                "kind": "APIResourceList",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": [
                    {
                        "name": r.plural,
                        "singularName": r.kind.lower(),
                        "namespaced": r.namespaced,
                        "kind": r.kind,
                        "verbs": _VERBS,
                    }
                    for r in self._resources.values()
                    if r.group == group and self.served(group, version, r.plural)
                ],
            }
        return msgspec.json.encode(doc)

    @staticmethod
    def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}

    def resource(self, group: str, plural: str) -> _Resource | None:
        return self._resources.get((group, plural))

    def is_forbidden(self, resource: _Resource) -> bool:
        return bool({resource.kind, resource.plural, resource.key} & self.forbidden)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], api: FakeKubeAPI):
        self.api = api
        super().__init__(address, handler)
        self.socket = api.ssl_context().wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # TLS refusals, resets, timeouts: normal in fault tests
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        self.request.do_handshake()  # here, in the connection's thread, not in accept()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        api = self.server.api
        path, _, query_string = self.path.partition("?")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}

        def record(status: int, gzipped: bool = False, body: bytes | None = None) -> None:
            api.record(RequestRecord("GET", self.path, path, query, headers, status, gzipped, body))

        fault = api.take_fault(self.path)
        if fault is not None and (fault.drop or fault.hang):
            if fault.hang:
                api._stopping.wait(fault.hang)
            record(0)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_RDWR)
            return
        if not self._authenticated(headers):
            status, body, ctype = 401, _status(401, "Unauthorized", "Unauthorized"), ""
        elif fault is not None and fault.status is not None:
            reason = "Expired" if fault.status == 410 else "InternalError"
            message = "The provided continue parameter is too old" if fault.status == 410 else ""
            status, body, ctype = fault.status, _status(fault.status, reason, message), ""
        else:
            status, body, ctype = self._route(path, query, headers.get("accept", ""))
        gzipped = "gzip" in headers.get("accept-encoding", "") and len(body) >= api.gzip_min_bytes
        record(status, gzipped, body if api.record_bodies else None)
        wire = gzip.compress(body, compresslevel=1) if gzipped else body
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(wire)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        if fault is not None and fault.retry_after is not None:
            self.send_header("Retry-After", fault.retry_after)
        for name, value in fault.headers if fault is not None else ():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(wire)

    def _refuse(self, method: str) -> None:
        body = _status(405, "MethodNotAllowed", f"{method} is not supported by the fake")
        self.send_response(405)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self._refuse("POST")

    def do_PUT(self) -> None:
        self._refuse("PUT")

    def do_DELETE(self) -> None:
        self._refuse("DELETE")

    def _authenticated(self, headers: Mapping[str, str]) -> bool:
        api = self.server.api
        authorization = headers.get("authorization") or ""
        if api.accept_token is not None:
            bearer = authorization.removeprefix("Bearer ")
            if bearer != authorization and api.accept_token(bearer):
                return True
        elif api.token is None or authorization == f"Bearer {api.token}":
            return True
        return api.client_cert_auth and bool(self.request.getpeercert())

    def _route(self, path: str, query: dict[str, str], accept: str) -> tuple[int, bytes, str]:
        api = self.server.api
        if path in ("/healthz", "/livez", "/readyz"):
            return 200, b"ok", "text/plain"
        doc = api.discovery(path)
        if doc is not None:
            return 200, doc, ""
        parts = path.strip("/").split("/")
        if parts[0] == "api" and len(parts) >= 3:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return 404, _status(404, "NotFound", "the server could not find the resource"), ""
        namespace: str | None = None
        name: str | None = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if len(rest) == 2:
            name = rest[1]
        plural = rest[0]
        resource = api.resource(group, plural)
        if (
            resource is None
            or len(rest) > 2
            or not api.served(group, version, plural)
            or (namespace is not None and not resource.namespaced)
        ):
            return 404, _status(404, "NotFound", "the server could not find the resource"), ""
        if api.is_forbidden(resource):
            message = f'{resource.plural} is forbidden: cannot list resource "{resource.plural}"'
            return 403, _status(403, "Forbidden", message), ""
        metadata = _wants_metadata(accept)
        if metadata is None:
            return 406, _status(406, "NotAcceptable", "only application/json is served"), ""
        if name is not None:
            entry = resource.index.get((namespace or "", name))
            if entry is None:
                return 404, _status(404, "NotFound", f'{plural} "{name}" not found'), ""
            return 200, entry.meta if metadata else entry.full, META_ITEM_MEDIA if metadata else ""
        return self._list(resource, group, version, namespace, query, metadata)

    def _list(
        self,
        resource: _Resource,
        group: str,
        version: str,
        namespace: str | None,
        query: dict[str, str],
        metadata: bool,
    ) -> tuple[int, bytes, str]:
        if query.get("labelSelector"):
            return 400, _status(400, "BadRequest", "the fake does not support labelSelector"), ""
        selector = query.get("fieldSelector", "")
        try:
            wanted = _field_selector(selector, resource.kind)
        except ValueError as exc:
            return 400, _status(400, "BadRequest", str(exc)), ""
        entries = resource.entries
        if namespace is not None or wanted:
            entries = [
                e
                for e in entries
                if (namespace is None or e.namespace == namespace)
                and all((e.fields.get(k) == v) == eq for k, v, eq in wanted)
            ]
        scope = [resource.key, namespace or "", selector]
        offset = 0
        if query.get("continue"):
            try:
                token = json.loads(base64.urlsafe_b64decode(query["continue"]))
                if token["s"] != scope:
                    raise ValueError("scope")
                offset = int(token["o"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                return 400, _status(400, "BadRequest", "invalid continue token"), ""
        limit = int(query.get("limit") or 0)
        end = min(len(entries), offset + limit) if limit > 0 else len(entries)
        list_meta: dict[str, Any] = {"resourceVersion": "424242"}
        if end < len(entries):
            token_json = json.dumps({"s": scope, "o": end}).encode()
            list_meta["continue"] = base64.urlsafe_b64encode(token_json).decode()
            list_meta["remainingItemCount"] = len(entries) - end
        if metadata:
            head = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1"}
        else:
            api_version = f"{group}/{version}" if group else version
            head = {"kind": f"{resource.kind}List", "apiVersion": api_version}
        prefix = msgspec.json.encode({**head, "metadata": list_meta})[:-1] + b',"items":['
        chosen = entries[offset:end]
        items = b",".join(e.meta if metadata else e.full for e in chosen)
        return 200, prefix + items + b"]}", META_MEDIA if metadata else ""


def _wants_metadata(accept: str) -> bool | None:
    """True for PartialObjectMetadata, False for full objects, None when nothing fits."""
    for media_range in (accept or "*/*").split(","):
        kind, *params = (p.strip() for p in media_range.split(";"))
        values = dict(p.split("=", 1) for p in params if "=" in p)
        if kind not in ("application/json", "application/*", "*/*"):
            continue
        as_ = values.get("as")
        if as_ is None:
            return False
        if as_ in ("PartialObjectMetadataList", "PartialObjectMetadata") and (
            values.get("g") == "meta.k8s.io" and values.get("v") == "v1"
        ):
            return True
    return None


def _field_selector(selector: str, kind: str) -> list[tuple[str, str, bool]]:
    supported = {"metadata.name", "metadata.namespace"} | ({"type"} if kind == "Secret" else set())
    wanted: list[tuple[str, str, bool]] = []
    for term in filter(None, selector.split(",")):
        match = re.fullmatch(r"([^=!]+)(==|=|!=)(.*)", term)
        if match is None:
            raise ValueError(f"invalid field selector term {term!r}")
        key, op, value = match.groups()
        if key not in supported:
            raise ValueError(f'field label not supported: "{key}"')
        wanted.append((key, value, op != "!="))
    return wanted


def main(argv: list[str] | None = None) -> None:
    """Serve objects from a JSON file (a list, or a List with ``items``) until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.kube_api")
    parser.add_argument("--objects", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", default="t0ken", help="bearer token; empty: no auth")
    parser.add_argument("--ca-file", type=Path, help="write the CA certificate (PEM) here")
    parser.add_argument("--gzip-min-bytes", type=int, default=128 * 1024)
    parser.add_argument("--log", type=Path, help="append each request as a JSON line here")
    args = parser.parse_args(argv)
    data = msgspec.json.decode(args.objects.read_bytes())
    objects = data.get("items", []) if isinstance(data, dict) else data
    api = FakeKubeAPI(
        objects,
        token=args.token or None,
        host=args.host,
        port=args.port,
        gzip_min_bytes=args.gzip_min_bytes,
    )
    if args.ca_file:
        args.ca_file.write_bytes(api.ca_pem)
    if args.log:
        api.log_file = args.log.open("a", encoding="utf-8")
    print(
        json.dumps({"url": f"https://{args.host}:{api.port}", "ca_file": str(args.ca_file or "")}),
        flush=True,
    )
    try:
        api._server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        api._server.server_close()


if __name__ == "__main__":
    main()
