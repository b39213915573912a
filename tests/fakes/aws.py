"""A fake AWS serving EKS and STS over real HTTP(S), for tests.

moto serves EKS and STS too, but invents cluster endpoints and CAs and accepts any ExternalId.
This fake serves the clusters a test describes (endpoint and CA from a FakeKubeAPI) per region,
verifies SigV4 signatures against the keys it knows (an independent implementation, so a
signing mistake in our code fails here), enforces each role's external id, issues session
credentials that expire, and answers errors the way AWS does (EKS: ``x-amzn-ErrorType`` and a
JSON body; STS: an XML ErrorResponse).

    with FakeAWS(keys={KEY_ID: SECRET}, roles={ROLE_ARN: "the-external-id"}) as aws:
        aws.add_cluster("prod", "eu-west-1", endpoint=api.url, ca_pem=api.ca_pem)
        aws.inject(AwsFault.throttle(), service="eks")
        aws.url                   # one endpoint for both services (routed by the signing scope)
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import os
import re
import secrets
import socket
import ssl
import string
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

import trustme

ACCOUNT = "111122223333"

# The environment of a process that plays Leftover: its own AWS identity comes from the default
# chain (here, these variables) and nothing of this machine's configuration leaks in.
AWS_ENV_CLEARED = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_EKS",
    "AWS_ENDPOINT_URL_STS",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CA_BUNDLE",
)


def leftover_aws_env(access_key_id: str, secret_access_key: str) -> dict[str, str]:
    """Variables giving Leftover the identity ``access_key_id`` and no other AWS configuration."""
    return {
        "AWS_ACCESS_KEY_ID": access_key_id,
        "AWS_SECRET_ACCESS_KEY": secret_access_key,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


CALLER_ARN = f"arn:aws:iam::{ACCOUNT}:user/leftover"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
TOKEN_PREFIX = "k8s-aws-v1."
TOKEN_MAX_AGE = timedelta(minutes=15)  # what the EKS authenticator accepts
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
    r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})"
)
_ALNUM = string.ascii_uppercase + string.digits


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


# --- SigV4, written from the specification ---------------------------------------------------


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _signature(secret: str, *, scope: str, amz_date: str, canonical_request: str) -> str:
    date, region, service, _ = scope.split("/")
    key = _hmac(f"AWS4{secret}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    digest = hashlib.sha256(canonical_request.encode()).hexdigest()
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{digest}"
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def _canonical_request(
    method: str,
    path: str,
    pairs: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed: list[str],
    payload_hash: str,
) -> str:
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))
    canonical_headers = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed)
    canonical_path = quote(unquote(path) or "/", safe="/~")
    return "\n".join(
        [method, canonical_path, query, canonical_headers, ";".join(signed), payload_hash]
    )


# --- what a test configures ------------------------------------------------------------------


@dataclass
class FakeCluster:
    name: str
    region: str
    endpoint: str | None
    ca_pem: bytes | None
    version: str = "1.30"
    status: str = "ACTIVE"
    nodegroups: dict[str, int] = field(default_factory=dict)  # name -> desired size
    ca_data: str | None = None  # overrides the base64 of ca_pem (to serve garbage)

    @property
    def arn(self) -> str:
        return f"arn:aws:eks:{self.region}:{ACCOUNT}:cluster/{self.name}"

    def describe(self) -> dict[str, Any]:
        ca = self.ca_data
        if ca is None and self.ca_pem is not None:
            ca = base64.b64encode(self.ca_pem).decode()
        return {
            "name": self.name,
            "arn": self.arn,
            "createdAt": 1700000000.0,
            "version": self.version,
            "endpoint": self.endpoint,
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eks-cluster",
            "status": self.status,
            "certificateAuthority": {"data": ca} if ca is not None else {},
            "platformVersion": "eks.9",
        }


@dataclass(frozen=True)
class AwsFault:
    """An error answer (``status`` with AWS's ``code``), or a stall of ``hang`` seconds that
    ends with the connection closed unanswered."""

    status: int = 500
    code: str = "InternalFailure"
    message: str = "We encountered an internal error. Please try again."
    hang: float = 0.0

    @classmethod
    def throttle(cls) -> AwsFault:
        return cls(400, "ThrottlingException", "Rate exceeded")

    @classmethod
    def server_error(cls, status: int = 500) -> AwsFault:
        return cls(status=status)

    @classmethod
    def denied(cls, code: str = "AccessDeniedException") -> AwsFault:
        return cls(403, code, f"User: {CALLER_ARN} is not authorized to perform this action")

    @classmethod
    def stall(cls, seconds: float) -> AwsFault:
        return cls(hang=seconds)


@dataclass(frozen=True)
class AwsRequest:
    service: str  # "eks" | "sts" | "" (unsigned)
    region: str
    method: str
    path: str
    action: str  # the STS Action, or "" for EKS
    key_id: str
    status: int  # 0: stalled


@dataclass(frozen=True)
class AssumedRole:
    role_arn: str
    session_name: str
    external_id: str | None
    duration: int
    key_id: str


@dataclass
class _Identity:
    secret: str
    arn: str
    token: str | None = None
    expires: datetime | None = None


@dataclass
class _Rule:
    service: str | None
    region: str | None
    pattern: re.Pattern[str]
    fault: AwsFault
    remaining: int | None


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


_NO_TOKEN = {"eks": "UnrecognizedClientException", "sts": "InvalidClientTokenId"}
_BAD_SIGNATURE = {"eks": "InvalidSignatureException", "sts": "SignatureDoesNotMatch"}
_EXPIRED = {"eks": "ExpiredTokenException", "sts": "ExpiredToken"}
_MISSING = object()


class FakeAWS:
    """EKS and STS on 127.0.0.1. ``keys`` maps access key ids to secrets (None: accept any key
    unchecked, e.g. keys that moto's STS issued); ``roles`` maps role ARNs to the external id
    their trust policy requires (None: none)."""

    def __init__(
        self,
        *,
        keys: Mapping[str, str] | None = None,
        roles: Mapping[str, str | None] | None = None,
        page_size: int = 100,
        tls: bool = False,
    ) -> None:
        self.check_keys = keys is not None
        self.page_size = page_size
        self.roles = dict(roles or {})
        self.clusters: list[FakeCluster] = []
        self.deny_nodegroups = False
        self.assumed: list[AssumedRole] = []
        self._identities = {k: _Identity(v, CALLER_ARN) for k, v in (keys or {}).items()}
        self._refused_regions: dict[str, str] = {}
        self._rules: list[_Rule] = []
        self._log: list[AwsRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.ca: trustme.CA | None = None
        self.ca_file: str | None = None
        context: ssl.SSLContext | None = None
        if tls:
            self.ca = trustme.CA()
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            handle, self.ca_file = tempfile.mkstemp(prefix="fake-aws-ca-", suffix=".pem")
            with os.fdopen(handle, "wb") as out:
                out.write(self.ca.cert_pem.bytes())
        self._server = _Server(("127.0.0.1", 0), _Handler, self, context)
        self._thread: threading.Thread | None = None

    # --- arranging ------------------------------------------------------------------------

    def add_cluster(
        self, name: str, region: str, *, endpoint: str | None, ca_pem: bytes | None, **extra: Any
    ) -> FakeCluster:
        cluster = FakeCluster(name, region, endpoint, ca_pem, **extra)
        with self._lock:
            self.clusters.append(cluster)
        return cluster

    def refuse_region(self, region: str, code: str = "UnrecognizedClientException") -> None:
        """EKS in ``region`` refuses every caller, as an opt-in region that is not enabled."""
        with self._lock:
            self._refused_regions[region] = code

    def revoke(self, key_id: str) -> None:
        with self._lock:
            self._identities.pop(key_id, None)

    def expire_sessions(self) -> None:
        """Every session credential issued so far has expired."""
        past = datetime.now(UTC) - timedelta(seconds=1)
        with self._lock:
            for identity in self._identities.values():
                if identity.token is not None:
                    identity.expires = past

    def inject(
        self,
        fault: AwsFault,
        *,
        service: str | None = None,
        region: str | None = None,
        path: str = "",
        times: int | None = None,
    ) -> None:
        """Answer requests (of ``service``, in ``region``, whose path matches ``path``) with
        ``fault``, ``times`` times (None: forever)."""
        with self._lock:
            self._rules.append(_Rule(service, region, re.compile(path), fault, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._rules.clear()

    # --- inspecting -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        scheme = "https" if self.ca is not None else "http"
        return f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> list[AwsRequest]:
        with self._lock:
            return list(self._log)

    def count(self, *, service: str = "", path: str = "", action: str = "") -> int:
        return sum(
            1
            for r in self.requests
            if (not service or r.service == service)
            and re.search(path, r.path)
            and (not action or r.action == action)
        )

    def presigned_caller(self, url: str, headers: Mapping[str, str]) -> str | None:
        """Who signed this presigned STS URL (as STS would answer GetCallerIdentity), or None
        when the signature, the credentials or the age is wrong."""
        parts = urlsplit(url)
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = dict(pairs)
        try:
            key_id, date, region, service = query["X-Amz-Credential"].split("/")[:4]
            amz_date, signed = query["X-Amz-Date"], query["X-Amz-SignedHeaders"].split(";")
            signature = query["X-Amz-Signature"]
            signed_at = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        except (KeyError, ValueError):
            return None
        if datetime.now(UTC) - signed_at > TOKEN_MAX_AGE or service != "sts":
            return None
        with self._lock:
            identity = self._identities.get(key_id)
        if identity is None or not self._valid_session(identity, query.get("X-Amz-Security-Token")):
            return None
        all_headers = {**{k.lower(): v for k, v in headers.items()}, "host": parts.netloc}
        unsigned = [(k, v) for k, v in pairs if k != "X-Amz-Signature"]
        for payload_hash in (EMPTY_SHA256, "UNSIGNED-PAYLOAD"):
            canonical = _canonical_request(
                "GET", parts.path, unsigned, all_headers, signed, payload_hash
            )
            expected = _signature(
                identity.secret,
                scope=f"{date}/{region}/{service}/aws4_request",
                amz_date=amz_date,
                canonical_request=canonical,
            )
            if hmac.compare_digest(expected, signature):
                return identity.arn
        return None

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> FakeAWS:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self.ca_file:
            with contextlib.suppress(OSError):
                os.unlink(self.ca_file)

    def __enter__(self) -> FakeAWS:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- answering (called by the handler) ------------------------------------------------

    def _valid_session(self, identity: _Identity, token: str | None) -> bool:
        if identity.token is None:
            return token is None
        return token == identity.token

    def _authenticate(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[str, str, str, _Identity | None]:
        """(service, region, key id, identity) of a signed request; raises _Refusal."""
        match = _AUTH.fullmatch(headers.get("authorization", ""))
        if match is None:
            raise _Refusal(
                403, "MissingAuthenticationTokenException", "Missing Authentication Token"
            )
        key_id, date, region, service, signed, signature = match.groups()
        if not self.check_keys:
            return service, region, key_id, None
        with self._lock:
            identity = self._identities.get(key_id)
        message = "The security token included in the request is invalid."
        if identity is None:
            raise _Refusal(403, _NO_TOKEN.get(service, "UnrecognizedClientException"), message)
        if not self._valid_session(identity, headers.get("x-amz-security-token")):
            raise _Refusal(403, _NO_TOKEN.get(service, "UnrecognizedClientException"), message)
        if identity.expires is not None and identity.expires <= datetime.now(UTC):
            raise _Refusal(
                403,
                _EXPIRED.get(service, "ExpiredTokenException"),
                "The security token included in the request is expired",
            )
        path, _, query = target.partition("?")
        canonical = _canonical_request(
            method,
            path,
            parse_qsl(query, keep_blank_values=True),
            headers,
            signed.split(";"),
            headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest(),
        )
        expected = _signature(
            identity.secret,
            scope=f"{date}/{region}/{service}/aws4_request",
            amz_date=headers.get("x-amz-date", ""),
            canonical_request=canonical,
        )
        if not hmac.compare_digest(expected, signature):
            raise _Refusal(
                403,
                _BAD_SIGNATURE.get(service, "InvalidSignatureException"),
                "The request signature we calculated does not match the signature you provided.",
            )
        return service, region, key_id, identity

    def _take_fault(self, service: str, region: str, path: str) -> AwsFault | None:
        with self._lock:
            for rule in self._rules:
                if rule.service not in (None, service) or rule.region not in (None, region):
                    continue
                if rule.remaining == 0 or not rule.pattern.search(path):
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                return rule.fault
        return None

    def _record(self, request: AwsRequest) -> None:
        with self._lock:
            self._log.append(request)

    # EKS

    def eks(self, region: str, path: str, query: Mapping[str, str]) -> dict[str, Any]:
        if region in self._refused_regions:
            raise _Refusal(
                403,
                self._refused_regions[region],
                "The security token included in the request is invalid.",
            )
        parts = [unquote(p) for p in path.strip("/").split("/")]
        with self._lock:
            here = sorted((c for c in self.clusters if c.region == region), key=lambda c: c.name)
        if parts == ["clusters"]:
            size = min(int(query.get("maxResults") or 100), self.page_size)
            start = int(query.get("nextToken") or 0)
            page: dict[str, Any] = {"clusters": [c.name for c in here[start : start + size]]}
            if start + size < len(here):
                page["nextToken"] = str(start + size)
            return page
        found = next((c for c in here if len(parts) > 1 and c.name == parts[1]), None)
        if parts[0] != "clusters" or found is None:
            raise _Refusal(404, "ResourceNotFoundException", f"No cluster found for name: {path}.")
        if len(parts) == 2:
            return {"cluster": found.describe()}
        if self.deny_nodegroups:
            raise _Refusal(403, "AccessDeniedException", f"User: {CALLER_ARN} is not authorized")
        if len(parts) == 3 and parts[2] == "node-groups":
            return {"nodegroups": sorted(found.nodegroups)}
        if len(parts) == 4 and parts[2] == "node-groups" and parts[3] in found.nodegroups:
            size = found.nodegroups[parts[3]]
            return {
                "nodegroup": {
                    "nodegroupName": parts[3],
                    "clusterName": found.name,
                    "status": "ACTIVE",
                    "scalingConfig": {"minSize": 0, "maxSize": max(size, 1), "desiredSize": size},
                }
            }
        raise _Refusal(404, "ResourceNotFoundException", "No node group found.")

    # STS

    def sts(self, params: Mapping[str, str], caller: _Identity | None) -> str:
        action = params.get("Action", "")
        caller_arn = caller.arn if caller is not None else CALLER_ARN
        if action == "GetCallerIdentity":
            return (
                f"<GetCallerIdentityResult><Arn>{escape(caller_arn)}</Arn>"
                f"<UserId>AIDAFAKE</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
            )
        if action != "AssumeRole":
            raise _Refusal(400, "InvalidAction", f"Could not find operation {action}")
        role_arn, external_id = params.get("RoleArn", ""), params.get("ExternalId")
        wanted = self.roles.get(role_arn, _MISSING)
        if wanted is _MISSING or (wanted is not None and external_id != wanted):
            raise _Refusal(
                403,
                "AccessDenied",
                f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on "
                f"resource: {role_arn}",
            )
        duration = int(params.get("DurationSeconds") or 3600)
        expires = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=duration)
        key_id = "ASIA" + _random(_ALNUM, 16)
        session_name = params.get("RoleSessionName", "")
        role_name = role_arn.rsplit("/", 1)[-1]
        arn = f"arn:aws:sts::{role_arn.split(':')[4]}:assumed-role/{role_name}/{session_name}"
        identity = _Identity(
            _random(string.ascii_letters + string.digits, 40),
            arn,
            _random(string.ascii_letters + string.digits, 120),
            expires,
        )
        with self._lock:
            self._identities[key_id] = identity
            self.assumed.append(AssumedRole(role_arn, session_name, external_id, duration, key_id))
        return (
            "<AssumeRoleResult><Credentials>"
            f"<AccessKeyId>{key_id}</AccessKeyId>"
            f"<SecretAccessKey>{identity.secret}</SecretAccessKey>"
            f"<SessionToken>{identity.token}</SessionToken>"
            f"<Expiration>{expires.strftime('%Y-%m-%dT%H:%M:%SZ')}</Expiration>"
            "</Credentials><AssumedRoleUser>"
            f"<AssumedRoleId>AROAFAKE:{escape(session_name)}</AssumedRoleId>"
            f"<Arn>{escape(arn)}</Arn></AssumedRoleUser></AssumeRoleResult>"
        )

    def secret_of(self, key_id: str) -> str | None:
        """The secret the fake holds for a key id (to prove it never leaks)."""
        with self._lock:
            identity = self._identities.get(key_id)
        return identity.secret if identity is not None else None

    def session_token_of(self, key_id: str) -> str | None:
        with self._lock:
            identity = self._identities.get(key_id)
        return identity.token if identity is not None else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[_Handler],
        aws: FakeAWS,
        context: ssl.SSLContext | None,
    ) -> None:
        self.aws = aws
        super().__init__(address, handler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # resets and TLS refusals in fault tests
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self._answer()

    def _answer(self) -> None:
        aws = self.server.aws
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, query_string = self.path.partition("?")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        params = {**query, **dict(parse_qsl(body.decode(errors="replace")))}
        action = params.get("Action", "")
        scope = _AUTH.fullmatch(headers.get("authorization", ""))
        key_id, _, region, service = scope.groups()[:4] if scope else ("", "", "", "")

        def record(status: int) -> None:
            aws._record(AwsRequest(service, region, self.command, path, action, key_id, status))

        try:
            if "X-Amz-Signature" in query:  # a presigned GetCallerIdentity, as EKS replays it
                service, action = "sts", query.get("Action", "")
                caller = aws.presigned_caller(
                    f"http://{headers.get('host', '')}{self.path}", headers
                )
                if caller is None:
                    raise _Refusal(403, "SignatureDoesNotMatch", "The request signature is wrong.")
                result = aws.sts(params, _Identity("", caller))
                record(200)  # before answering: a client that has its answer sees it counted
                self._xml(200, result, action)
                return
            service, region, key_id, identity = aws._authenticate(
                self.command, self.path, headers, body
            )
            fault = aws._take_fault(service, region, path)
            if fault is not None and fault.hang:
                record(0)
                aws._stopping.wait(fault.hang)
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.request.shutdown(socket.SHUT_RDWR)
                return
            if fault is not None:
                raise _Refusal(fault.status, fault.code, fault.message)
            if service == "eks":
                payload = aws.eks(region, path, query)
                record(200)
                self._json(200, payload)
            else:
                result = aws.sts(params, identity)
                record(200)
                self._xml(200, result, action)
        except _Refusal as refusal:
            record(refusal.status)
            self._error(service, refusal)

    def _send(self, status: int, content_type: str, payload: bytes, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", _random(_ALNUM, 12))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _json(self, status: int, payload: Mapping[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(payload).encode())

    def _xml(self, status: int, result: str, action: str) -> None:
        xml = (
            f'<{action}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/">{result}'
            f"<ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></{action}Response>"
        )
        self._send(status, "text/xml", xml.encode())

    def _error(self, service: str, refusal: _Refusal) -> None:
        if service == "sts":
            xml = (
                '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
                f"<Type>Sender</Type><Code>{refusal.code}</Code>"
                f"<Message>{escape(refusal.message)}</Message></Error>"
                "<RequestId>fake</RequestId></ErrorResponse>"
            )
            self._send(refusal.status, "text/xml", xml.encode())
            return
        self._send(
            refusal.status,
            "application/json",
            json.dumps({"message": refusal.message}).encode(),
            **{"x-amzn-ErrorType": refusal.code},
        )


def eks_token_checker(
    cluster_name: str, *, sts_host: str, aws: FakeAWS | None = None
) -> Callable[[str], bool]:
    """A FakeKubeAPI ``accept_token`` for EKS tokens: the token must be an unpadded base64url
    presigned STS GetCallerIdentity URL on ``sts_host``, valid 60 s, signing x-k8s-aws-id.
    Given ``aws``, the signature is verified too (as STS would), which also proves the token
    names ``cluster_name`` and was signed with live credentials."""

    def check(token: str) -> bool:
        if not token.startswith(TOKEN_PREFIX):
            return False
        encoded = token.removeprefix(TOKEN_PREFIX)
        if "=" in encoded:
            return False
        try:
            url = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        parts = urlsplit(url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if parts.netloc != sts_host or parts.path not in ("", "/"):
            return False
        if query.get("Action") != "GetCallerIdentity" or query.get("Version") != "2011-06-15":
            return False
        if query.get("X-Amz-Expires") != "60":
            return False
        if "x-k8s-aws-id" not in query.get("X-Amz-SignedHeaders", "").split(";"):
            return False
        if aws is None:
            return True
        return aws.presigned_caller(url, {"x-k8s-aws-id": cluster_name}) is not None

    return check
