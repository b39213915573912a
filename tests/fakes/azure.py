"""A fake Microsoft Entra ID authority and Azure Resource Manager on one HTTPS server, for tests.

The Azure SDK refuses bearer tokens over plain http, so the server speaks TLS with a trustme CA
(``fake.ca_file`` is the PEM to pass as ``connection_verify`` / ``Endpoints.ca_bundle``).

Entra ID (what MSAL's client-credentials flow calls, with instance discovery disabled):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: OIDC metadata (400 AADSTS90002 for an
  unknown tenant);
- ``POST /{tenant}/oauth2/v2.0/token``: checks the client id (400 AADSTS700016) and the secret
  (401 AADSTS7000215), then issues an opaque token for the requested ``<audience>/.default``
  scope and remembers it.

Azure Resource Manager (every request needs a token issued for the audience ``fake.url``):

- ``GET /subscriptions/{s}/providers/Microsoft.ContainerService/managedClusters``: the
  subscription's clusters, ``page_size`` per page, ``nextLink`` to the rest; 404
  SubscriptionNotFound for an unknown subscription, 403 AuthorizationFailed for a forbidden one;
- ``POST /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ContainerService/
  managedClusters/{name}/listClusterUserCredential``: ``kubeconfigs[0].value`` is a base64
  kubeconfig for the cluster's API server. Entra ID clusters get an ``exec`` kubelogin user (or
  an ``auth-provider: azure`` one for ``format=azure``), as real AKS does; local-account
  clusters a token and/or client certificate.

``fake.inject(pattern, status)`` answers matching requests (``"METHOD /path?query"``) with an
error (ARM or OAuth shaped by path), or stalls them (``hang=``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import shutil
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, parse_qsl, quote, urlsplit

import trustme
import yaml

from app.clouds.base import Endpoints

AKS_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
KUBELOGIN_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a"
TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "0b1c2d3e-4f50-4617-8a9b-0c1d2e3f4a5b"
CLIENT_SECRET = "Xq48Q~fake.secret-never-logged_2Zc"  # the fake's well-known test secret
_PROVIDER = "Microsoft.ContainerService/managedClusters"


@dataclass
class FakeAKS:
    """One managed cluster as ARM describes it, and the kubeconfig it hands out."""

    name: str
    resource_group: str
    server: str | None = None  # the API server URL (a FakeKubeAPI's .url); None: provisioning
    ca_pem: bytes | None = None
    location: str = "westeurope"
    aad: bool = False
    local_accounts_disabled: bool = False
    token: str | None = None  # the local account's bearer token
    client_cert: tuple[bytes, bytes] | None = None  # (certificate PEM, key PEM)
    exec_command: str = "kubelogin"  # what an Entra ID cluster's kubeconfig would run
    private_only: bool = False  # only privateFQDN is set (a private cluster)
    kubernetes_version: str = "1.30"
    current_kubernetes_version: str | None = "1.30.2"
    node_counts: tuple[int, ...] = (3,)
    provisioning_state: str = "Succeeded"
    power_state: str = "Running"

    @property
    def fqdn(self) -> str | None:
        return urlsplit(self.server).netloc if self.server else None

    def arm_id(self, subscription: str) -> str:
        return (
            f"/subscriptions/{subscription}/resourcegroups/{self.resource_group}"
            f"/providers/{_PROVIDER}/{self.name}"
        )

    def arm(self, subscription: str, tenant_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "provisioningState": self.provisioning_state,
            "powerState": {"code": self.power_state},
            "kubernetesVersion": self.kubernetes_version,
            "dnsPrefix": f"{self.name}-dns",
            "agentPoolProfiles": [
                {"name": f"pool{i}", "count": count, "vmSize": "Standard_D4s_v5", "mode": "User"}
                for i, count in enumerate(self.node_counts)
            ],
            "enableRBAC": True,
            "disableLocalAccounts": self.local_accounts_disabled,
        }
        if self.current_kubernetes_version:
            properties["currentKubernetesVersion"] = self.current_kubernetes_version
        if self.fqdn and self.private_only:
            properties["privateFQDN"] = self.fqdn
        elif self.fqdn:
            properties["fqdn"] = self.fqdn
        if self.aad:
            properties["aadProfile"] = {
                "managed": True,
                "enableAzureRBAC": False,
                "tenantID": tenant_id,
            }
        return {
            "id": self.arm_id(subscription),
            "location": self.location,
            "name": self.name,
            "type": "Microsoft.ContainerService/ManagedClusters",
            "properties": properties,
        }

    def kubeconfig(self, tenant_id: str, fmt: str | None) -> bytes:
        user_name = f"clusterUser_{self.resource_group}_{self.name}"
        user: dict[str, Any] = {}
        if self.aad and fmt == "azure":
            user["auth-provider"] = {
                "name": "azure",
                "config": {
                    "apiserver-id": AKS_SERVER_APP_ID,
                    "client-id": KUBELOGIN_CLIENT_ID,
                    "config-mode": "1",
                    "environment": "AzurePublicCloud",
                    "tenant-id": tenant_id,
                },
            }
        elif self.aad:
            user["exec"] = {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": self.exec_command,
                "args": [
                    "get-token",
                    "--environment",
                    "AzurePublicCloud",
                    "--server-id",
                    AKS_SERVER_APP_ID,
                    "--client-id",
                    KUBELOGIN_CLIENT_ID,
                    "--tenant-id",
                    tenant_id,
                    "--login",
                    "devicecode",
                ],
                "env": None,
                "installHint": "kubelogin is not installed ...",
                "provideClusterInfo": False,
                "interactiveMode": "IfAvailable",
            }
        else:
            if self.client_cert is not None:
                user["client-certificate-data"] = base64.b64encode(self.client_cert[0]).decode()
                user["client-key-data"] = base64.b64encode(self.client_cert[1]).decode()
            if self.token is not None:
                user["token"] = self.token
        cluster: dict[str, Any] = {"server": self.server}
        if self.ca_pem is not None:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": self.name, "cluster": cluster}],
            "contexts": [{"name": self.name, "context": {"cluster": self.name, "user": user_name}}],
            "current-context": self.name,
            "preferences": {},
            "users": [{"name": user_name, "user": user}],
        }
        return yaml.safe_dump(doc, sort_keys=False).encode()


@dataclass(frozen=True)
class Issued:
    """A token the fake authority handed out (``audience`` = the scope without ``/.default``)."""

    token: str
    audience: str
    client_id: str
    expires_at: float


@dataclass(frozen=True)
class Record:
    method: str
    path: str
    query: dict[str, str]
    status: int  # 0: stalled and dropped


@dataclass
class _Rule:
    pattern: re.Pattern[str]
    status: int
    code: str | None
    hang: float
    retry_after: str | None
    remaining: int | None


@dataclass
class FakeAzure:
    """Entra ID + ARM for one tenant and one service principal, on https://127.0.0.1:<port>."""

    subscriptions: Mapping[str, Sequence[FakeAKS]] = field(default_factory=dict)
    forbidden_subscriptions: Iterable[str] = ()
    tenant_id: str = TENANT_ID
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    page_size: int = 2
    token_lifetime: int = 3600

    def __post_init__(self) -> None:
        self.forbidden = set(self.forbidden_subscriptions)
        self.ca = trustme.CA()
        self._cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._dir = Path(tempfile.mkdtemp(prefix="fake-azure-"))
        self.ca_file = self._dir / "ca.pem"
        self.ca_file.write_bytes(self.ca.cert_pem.bytes())
        self._lock = threading.Lock()
        self._issued: dict[str, Issued] = {}
        self._log: list[Record] = []
        self._rules: list[_Rule] = []
        self._stopping = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread: threading.Thread | None = None

    # --- control --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self._server.server_address[1]}"

    def endpoints(self, *, timeout: float = 5.0) -> Endpoints:
        """Endpoints pointing ARM and the Entra authority at this fake, trusting its CA."""
        return Endpoints(
            azure_management=self.url,
            azure_authority=self.url,
            ca_bundle=str(self.ca_file),
            timeout=timeout,
        )

    def inject(
        self,
        pattern: str,
        status: int = 500,
        *,
        code: str | None = None,
        hang: float = 0.0,
        retry_after: str | None = "0",
        times: int | None = 1,
    ) -> None:
        """Answer requests matching ``pattern`` ("METHOD /path?query") with an error ``times``
        times (None: forever); ``hang`` stalls that long and drops the connection instead."""
        rule = _Rule(re.compile(pattern), status, code, hang, retry_after, times)
        with self._lock:
            self._rules.append(rule)

    def token_checker(self, audience: str) -> Callable[[str], bool]:
        """A FakeKubeAPI ``accept_token``: true for unexpired tokens issued for ``audience``."""

        def check(token: str) -> bool:
            issued = self.issued_token(token)
            return (
                issued is not None
                and issued.audience == audience
                and issued.expires_at > time.time()
            )

        return check

    def issued_token(self, token: str) -> Issued | None:
        with self._lock:
            return self._issued.get(token)

    def issued(self, audience: str | None = None) -> list[Issued]:
        with self._lock:
            return [i for i in self._issued.values() if audience in (None, i.audience)]

    @property
    def requests(self) -> list[Record]:
        with self._lock:
            return list(self._log)

    def count(self, pattern: str) -> int:
        rx = re.compile(pattern)
        return sum(1 for r in self.requests if rx.search(f"{r.method} {r.path}"))

    def start(self) -> FakeAzure:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> FakeAzure:
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
        self._cert.configure_cert(ctx)
        return ctx

    def take_rule(self, target: str) -> _Rule | None:
        with self._lock:
            for rule in self._rules:
                if rule.remaining != 0 and rule.pattern.search(target):
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule
        return None

    def record(self, record: Record) -> None:
        with self._lock:
            self._log.append(record)

    def issue(self, client_id: str, scope: str) -> tuple[str, int]:
        token = "fake-entra-" + secrets.token_urlsafe(24)
        audience = scope.removesuffix("/.default").rstrip("/")
        issued = Issued(token, audience, client_id, time.time() + self.token_lifetime)
        with self._lock:
            self._issued[token] = issued
        return token, self.token_lifetime

    def cluster(self, subscription: str, resource_group: str, name: str) -> FakeAKS | None:
        for aks in self.subscriptions.get(subscription, ()):
            if aks.resource_group.lower() == resource_group.lower() and aks.name == name:
                return aks
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeAzure):
        self.fake = fake
        super().__init__(address, handler)
        self.socket = fake.ssl_context().wrap_socket(
            self.socket, server_side=True, do_handshake_on_connect=False
        )

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # TLS refusals, resets and stalls are normal in fault tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    # --- plumbing -------------------------------------------------------------------------

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        path, _, query_string = self.path.partition("?")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        rule = fake.take_rule(f"{method} {self.path}")
        if rule is not None and rule.hang:
            fake._stopping.wait(rule.hang)
            fake.record(Record(method, path, query, 0))
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_RDWR)
            return
        headers: dict[str, str] = {}
        if rule is not None:
            status, doc = self._injected(rule, path)
            if rule.retry_after is not None and status in (429, 503):
                headers["Retry-After"] = rule.retry_after
        elif path.startswith("/subscriptions/"):
            status, doc = self._arm(method, path, query)
        else:
            status, doc = self._entra(method, path, body)
        fake.record(Record(method, path, query, status))
        self._send(status, doc, headers)

    def _send(self, status: int, doc: Mapping[str, Any], headers: Mapping[str, str]) -> None:
        wire = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(wire)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(wire)

    @staticmethod
    def _injected(rule: _Rule, path: str) -> tuple[int, dict[str, Any]]:
        if path.startswith("/subscriptions/"):
            code = rule.code or {429: "TooManyRequests", 403: "AuthorizationFailed"}.get(
                rule.status, "InternalServerError"
            )
            return rule.status, _arm_error(code, f"Injected failure ({rule.status}).")
        code = rule.code or ("temporarily_unavailable" if rule.status >= 429 else "invalid_request")
        return rule.status, {"error": code, "error_description": f"AADSTS50000: {code}."}

    # --- Entra ID -------------------------------------------------------------------------

    def _entra(self, method: str, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        fake = self.server.fake
        parts = path.strip("/").split("/")
        tenant, rest = parts[0], "/".join(parts[1:])
        if tenant != fake.tenant_id:
            return 400, {
                "error": "invalid_tenant",
                "error_description": f"AADSTS90002: Tenant '{tenant}' not found.",
            }
        base = f"{fake.url}/{tenant}"
        if method == "GET" and rest == "v2.0/.well-known/openid-configuration":
            return 200, {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{fake.url}/{tenant}/discovery/v2.0/keys",
                "response_types_supported": ["code", "id_token", "token"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "tenant_region_scope": "EU",
            }
        if method == "POST" and rest == "oauth2/v2.0/token":
            return self._token(parse_qs(body.decode()))
        return 404, {"error": "not_found", "error_description": "AADSTS90000: no such endpoint."}

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        fake = self.server.fake
        client_id = (form.get("client_id") or [""])[0]
        secret = (form.get("client_secret") or [""])[0]
        scopes = " ".join(form.get("scope") or []).split()
        if (form.get("grant_type") or [""])[0] != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003."}
        if client_id != fake.client_id:
            return 400, {
                "error": "unauthorized_client",
                "error_description": (
                    f"AADSTS700016: Application with identifier '{client_id}' was not found in "
                    f"the directory '{fake.tenant_id}'."
                ),
            }
        if not secrets.compare_digest(secret.encode(), fake.client_secret.encode()):
            return 401, {
                "error": "invalid_client",
                "error_description": (
                    "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent "
                    f"in the request is the client secret value, not the client secret ID, for a "
                    f"secret added to app '{client_id}'."
                ),
            }
        defaults = [s for s in scopes if s.endswith("/.default")]
        if len(defaults) != 1:
            return 400, {"error": "invalid_scope", "error_description": "AADSTS1002012."}
        token, lifetime = fake.issue(client_id, defaults[0])
        return 200, {
            "token_type": "Bearer",
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": token,
        }

    # --- Azure Resource Manager -----------------------------------------------------------

    def _arm(self, method: str, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        fake = self.server.fake
        bearer = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        issued = fake.issued_token(bearer)
        if issued is None or issued.audience != fake.url or issued.expires_at <= time.time():
            return 401, _arm_error("InvalidAuthenticationToken", "The access token is invalid.")
        if not query.get("api-version"):
            return 400, _arm_error("MissingApiVersionParameter", "api-version is required.")
        parts = path.strip("/").split("/")
        subscription = parts[1] if len(parts) > 1 else ""
        if subscription not in fake.subscriptions and subscription not in fake.forbidden:
            message = f"The subscription '{subscription}' could not be found."
            return 404, _arm_error("SubscriptionNotFound", message)
        if subscription in fake.forbidden:
            return 403, _arm_error(
                "AuthorizationFailed",
                f"The client '{issued.client_id}' does not have authorization to perform action "
                f"'Microsoft.ContainerService/managedClusters/read' over scope "
                f"'/subscriptions/{subscription}' or the scope is invalid.",
            )
        rest = "/".join(parts[2:])
        if method == "GET" and rest.lower() == f"providers/{_PROVIDER}".lower():
            return 200, self._list(subscription, query)
        if (
            method == "POST"
            and len(parts) == 9
            and parts[2].lower() == "resourcegroups"
            and "/".join(parts[4:7]).lower() == f"providers/{_PROVIDER}".lower()
            and parts[8] == "listClusterUserCredential"
        ):
            aks = fake.cluster(subscription, parts[3], parts[7])
            if aks is None:
                message = f"The Resource '{_PROVIDER}/{parts[7]}' was not found."
                return 404, _arm_error("ResourceNotFound", message)
            value = aks.kubeconfig(fake.tenant_id, query.get("format"))
            return 200, {
                "kubeconfigs": [{"name": "clusterUser", "value": base64.b64encode(value).decode()}]
            }
        return 404, _arm_error("InvalidResourceType", "No such resource type or action.")

    def _list(self, subscription: str, query: dict[str, str]) -> dict[str, Any]:
        fake = self.server.fake
        clusters = list(fake.subscriptions.get(subscription, ()))
        start = int(query.get("$skipToken") or 0)
        end = start + fake.page_size
        doc: dict[str, Any] = {
            "value": [c.arm(subscription, fake.tenant_id) for c in clusters[start:end]]
        }
        if end < len(clusters):
            doc["nextLink"] = (
                f"{fake.url}/subscriptions/{subscription}/providers/{_PROVIDER}"
                f"?api-version={quote(query['api-version'])}&%24skipToken={end}"
            )
        return doc


def _arm_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
