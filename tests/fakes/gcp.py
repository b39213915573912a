"""A fake Google Cloud for tests: the GKE REST API's cluster list and Google's OAuth token endpoint.

One stdlib HTTP server on 127.0.0.1 (plain HTTP, or HTTPS with a trustme CA when ``tls=True``):

- ``GET /v1/projects/{p}/locations/-/clusters`` answers ``{"clusters": [...], "missingZones":
  [...]}`` for a known project, errors as ``{"error": {"code", "message", "status", "details"}}``.
  Callers authenticate like Google's clients do: a self-signed JWT of a registered service
  account, or an access token this fake issued.
- ``POST /token`` takes a ``jwt-bearer`` grant, verifies the assertion's RS256 signature with the
  service account's public key (and its issuer, audience, scope and lifetime), and issues a
  random access token it remembers. ``token_checker()`` lets ``FakeKubeAPI`` accept those tokens.

    fake = FakeGCP().start()
    key = fake.new_service_account("shop-prod")        # a throwaway key, registered
    fake.add_cluster("shop-prod", FakeCluster.serving("web", kube_api))
    fake.fail("shop-dev", ApiError.permission_denied("shop-dev"))
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import trustme
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.clouds.base import Endpoints

GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_CLUSTERS_PATH = re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/clusters$")


def make_service_account_key(
    project_id: str = "leftover-test", *, name: str = "leftover-reader"
) -> dict[str, str]:
    """A throwaway service-account key, shaped like the JSON file Google hands out."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    email = f"{name}@{project_id}.iam.gserviceaccount.com"
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": GOOGLE_TOKEN_URI,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/{email}",
        "universe_domain": "googleapis.com",
    }


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class FakeCluster:
    """One GKE cluster as the list call returns it."""

    name: str
    location: str = "europe-west1"
    endpoint: str = ""  # host:port of the API server; empty while provisioning
    ca_pem: bytes | None = None
    version: str = "1.30.5-gke.1014001"
    node_count: int = 3
    node_pools: list[dict[str, Any]] = field(default_factory=list)
    status: str = "RUNNING"
    overrides: dict[str, Any] = field(default_factory=dict)  # raw fields, to send odd answers

    @classmethod
    def serving(cls, name: str, api: Any, **values: Any) -> FakeCluster:
        """A cluster whose endpoint and CA are those of a running ``FakeKubeAPI``."""
        return cls(name=name, endpoint=f"127.0.0.1:{api.port}", ca_pem=api.ca_pem, **values)

    def resource(self, project: str) -> dict[str, Any]:
        ca = base64.b64encode(self.ca_pem).decode() if self.ca_pem else ""
        path = f"projects/{project}/locations/{self.location}/clusters/{self.name}"
        return {
            "name": self.name,
            "location": self.location,
            "zone": self.location,
            "endpoint": self.endpoint,
            "masterAuth": {"clusterCaCertificate": ca},
            "currentMasterVersion": self.version,
            "currentNodeVersion": self.version,
            "currentNodeCount": self.node_count,
            "nodePools": self.node_pools,
            "status": self.status,
            "selfLink": f"https://container.googleapis.com/v1/{path}",
            **self.overrides,
        }


@dataclass(frozen=True)
class ApiError:
    """An error answer in Google's JSON shape (or, with ``hang``, no answer in time)."""

    code: int
    status: str
    message: str
    reason: str | None = None  # an ErrorInfo reason, such as SERVICE_DISABLED
    hang: float = 0.0

    @classmethod
    def permission_denied(cls, project: str) -> ApiError:
        return cls(
            403,
            "PERMISSION_DENIED",
            f'Required "container.clusters.list" permission(s) for "projects/{project}".',
        )

    @classmethod
    def service_disabled(cls, project: str) -> ApiError:
        return cls(
            403,
            "PERMISSION_DENIED",
            f"Kubernetes Engine API has not been used in project {project} before or it is "
            "disabled.",
            reason="SERVICE_DISABLED",
        )

    @classmethod
    def not_found(cls, project: str) -> ApiError:
        return cls(404, "NOT_FOUND", f"Project {project} not found.")

    @classmethod
    def unavailable(cls) -> ApiError:
        return cls(503, "UNAVAILABLE", "The service is currently unavailable.")

    @classmethod
    def stall(cls, seconds: float) -> ApiError:
        return cls(504, "DEADLINE_EXCEEDED", "stalled", hang=seconds)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.reason:
            error["details"] = [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.reason,
                    "domain": "googleapis.com",
                }
            ]
        return {"error": error}


@dataclass
class _Issued:
    email: str
    expires: float  # time.monotonic()


class FakeGCP:
    """The fake's state (accounts, projects, issued tokens) and its server's controls."""

    def __init__(self, *, tls: bool = False, expires_in: int = 3600) -> None:
        self.expires_in = expires_in  # lifetime of issued access tokens, in seconds
        self.projects: dict[str, list[FakeCluster]] = {}
        self.missing_zones: dict[str, list[str]] = {}
        self.viewers: dict[str, set[str]] = {}  # project -> emails allowed; absent: everyone
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self._keys: dict[str, rsa.RSAPublicKey] = {}
        self._errors: dict[str, list[ApiError]] = {}
        self._issued: dict[str, _Issued] = {}
        self._lock = threading.Lock()
        self.ca = trustme.CA() if tls else None
        self._server = _Server(("127.0.0.1", 0), _Handler, self)
        self._thread: threading.Thread | None = None

    # --- set-up -------------------------------------------------------------------------------

    def register(self, key: dict[str, str]) -> dict[str, str]:
        """Trust this service-account key (as Google knows its public half)."""
        private = serialization.load_pem_private_key(key["private_key"].encode(), None)
        assert isinstance(private, rsa.RSAPrivateKey)
        with self._lock:
            self._keys[key["client_email"]] = private.public_key()
        return key

    def new_service_account(
        self, project_id: str = "leftover-test", *, name: str = "leftover-reader"
    ) -> dict[str, str]:
        """A new throwaway key, registered with this fake."""
        return self.register(make_service_account_key(project_id, name=name))

    def revoke(self, email: str) -> None:
        """Delete the account's keys and invalidate the tokens issued to it."""
        with self._lock:
            self._keys.pop(email, None)
            self._issued = {t: i for t, i in self._issued.items() if i.email != email}

    def add_project(self, project: str, *, viewers: Iterable[str] | None = None) -> None:
        with self._lock:
            self.projects.setdefault(project, [])
            if viewers is not None:
                self.viewers[project] = set(viewers)

    def add_cluster(self, project: str, cluster: FakeCluster) -> FakeCluster:
        with self._lock:
            self.projects.setdefault(project, []).append(cluster)
        return cluster

    def fail(self, project: str, *errors: ApiError) -> None:
        """Answer the next list calls for ``project`` with these errors, in order."""
        with self._lock:
            self._errors.setdefault(project, []).extend(errors)

    # --- what tests read ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.ca else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    @property
    def ca_pem(self) -> bytes:
        assert self.ca is not None, "start the fake with tls=True"
        return self.ca.cert_pem.bytes()

    def endpoints(self, **values: Any) -> Endpoints:
        """Endpoints pointing every Google call at this fake."""
        values.setdefault("timeout", 5.0)
        return Endpoints(gcp_container=self.url, gcp_token_uri=self.token_uri, **values)

    @property
    def issued(self) -> list[str]:
        """Every access token issued so far and still valid."""
        with self._lock:
            return list(self._issued)

    def token_checker(self) -> Callable[[str], bool]:
        """For ``FakeKubeAPI(accept_token=...)``: is this a live token this fake issued?"""

        def check(token: str) -> bool:
            with self._lock:
                issued = self._issued.get(token)
                return issued is not None and issued.expires > time.monotonic()

        return check

    def count(self, method: str, pattern: str = "") -> int:
        rx = re.compile(pattern)
        return sum(1 for m, path, _ in list(self.requests) if m == method and rx.search(path))

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> FakeGCP:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeGCP:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- behaviour used by the handler --------------------------------------------------------

    def verify_jwt(self, token: str, *, audience: str | None = None) -> dict[str, Any] | None:
        """The claims of an RS256 JWT signed by a registered key, or None."""
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(payload_b64))
            signature = _b64url_decode(signature_b64)
        except (ValueError, binascii.Error):
            return None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return None
        with self._lock:
            public = self._keys.get(str(claims.get("iss")))
        if header.get("alg") != "RS256" or public is None:
            return None
        try:
            public.verify(
                signature,
                f"{header_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return None
        now = time.time()
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int):
            return None
        if not (iat - 300 <= now < exp + 300 and exp - iat <= 3600):
            return None
        if audience is not None and claims.get("aud") != audience:
            return None
        return claims

    def caller(self, authorization: str) -> str | None:
        """The service account behind an Authorization header, or None when not authenticated."""
        token = authorization.removeprefix("Bearer ")
        if token == authorization:
            return None
        with self._lock:
            issued = self._issued.get(token)
        if issued is not None:
            return issued.email if issued.expires > time.monotonic() else None
        claims = self.verify_jwt(token)
        if claims is None or SCOPE not in str(claims.get("scope", "")).split():
            return None
        return str(claims["iss"])

    def list_clusters(self, project: str, email: str) -> tuple[int, dict[str, Any], float]:
        with self._lock:
            queued = self._errors.get(project)
            if queued:
                error = queued.pop(0)
                return error.code, error.body(), error.hang
            if project not in self.projects:
                return 404, ApiError.not_found(project).body(), 0.0
            viewers = self.viewers.get(project)
            if viewers is not None and email not in viewers:
                return 403, ApiError.permission_denied(project).body(), 0.0
            clusters = [c.resource(project) for c in self.projects[project]]
            missing = list(self.missing_zones.get(project, []))
        return 200, {"clusters": clusters, "missingZones": missing}, 0.0

    def grant(self, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        """Google's token endpoint for the JWT bearer grant."""
        if form.get("grant_type") != [JWT_BEARER] or len(form.get("assertion", [])) != 1:
            return 400, {"error": "unsupported_grant_type", "error_description": "Bad grant."}
        claims = self.verify_jwt(form["assertion"][0], audience=GOOGLE_TOKEN_URI)
        if claims is None:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        if SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "Bad scope."}
        token = "ya29.fake-" + secrets.token_urlsafe(32)
        with self._lock:
            self._issued[token] = _Issued(str(claims["iss"]), time.monotonic() + self.expires_in)
        body = {"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"}
        return 200, body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeGCP):
        self.fake = fake
        super().__init__(address, handler)
        if fake.ca is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            fake.ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
            self.socket = ctx.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # resets and refused TLS handshakes are normal in fault tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        fake = self.server.fake
        path = urlsplit(self.path).path
        match = _CLUSTERS_PATH.match(path)
        if match is None or match.group(2) != "-":
            self._answer(
                404, {"error": {"code": 404, "message": "No such path.", "status": "NOT_FOUND"}}
            )
            return
        email = fake.caller(self.headers.get("Authorization", ""))
        if email is None:
            body = {
                "error": {
                    "code": 401,
                    "message": "Request had invalid authentication credentials.",
                    "status": "UNAUTHENTICATED",
                }
            }
            self._answer(401, body)
            return
        status, body, hang = fake.list_clusters(match.group(1), email)
        if hang:
            time.sleep(hang)
            self.close_connection = True
            self._record(0)
            return
        self._answer(status, body)

    def do_POST(self) -> None:
        fake = self.server.fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if 0 < length <= 64 * 1024 else b""
        if urlsplit(self.path).path != "/token":
            self._answer(404, {"error": "not_found"})
            return
        status, body = fake.grant(parse_qs(raw.decode(errors="replace")))
        self._answer(status, body)

    def _record(self, status: int) -> None:
        fake = self.server.fake
        with fake._lock:
            fake.requests.append((self.command, urlsplit(self.path).path, status))

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self._record(status)  # before answering: a test may look as soon as the answer arrives
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
