"""HTTPS GETs to one API server: vetted addresses, verified TLS, timeouts, retries, size caps.

The host is resolved and vetted once (``app.kube.ssrf``); connections then go to those IP
addresses while TLS verifies the certificate against the server's name (SNI and hostname check
use the name, the socket uses the vetted IP, the Host header carries the name). Redirects are
never followed. Retries cover connection failures, timeouts, 429 and 5xx; 401 is final.
"""

from __future__ import annotations

import email.utils
import errno
import os
import random
import ssl
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from types import TracebackType
from typing import Literal
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    NewConnectionError,
    ReadTimeoutError,
    SSLError,
)

from app.kube.access import ClusterAccess, MiB
from app.kube.ssrf import EndpointRefused, IPAddress, check_endpoint

USER_AGENT = "leftover/0.1"
MAX_CONCURRENCY = 8  # connections per read; the reader lists at most this many kinds at once
_ERROR_BODY_LIMIT = 64 * 1024
_CHUNK = 1024 * 1024


class ReadError(Exception):
    """Reading a cluster failed; ``reason`` is a plain sentence fit to show a user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ClusterUnreachable(ReadError):
    """The API server could not be reached, was refused by policy, or failed TLS verification."""


class AuthenticationRefused(ReadError):
    """The API server refused the credentials; retrying cannot help."""


class ResponseTooLarge(ReadError):
    """One response exceeded ``ClusterAccess.max_page_bytes``."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to retry transient failures (connection errors, timeouts, 429, 5xx)."""

    attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_retry_after: float = 30.0
    max_total_delay: float = 60.0  # per request, summed over its waits


@dataclass(slots=True)
class ReadStats:
    requests: int = 0  # HTTP attempts, retries included
    bytes_received: int = 0  # on the wire, before gzip decoding
    retries: int = 0


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes | bytearray
    content_type: str
    retry_after: str | None = None

    @property
    def status_text(self) -> str:
        """``"403 Forbidden"``: the status as shown in messages."""
        try:
            return f"{self.status} {HTTPStatus(self.status).phrase}"
        except ValueError:
            return str(self.status)


class _Transient(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _ssl_context(access: ClusterAccess) -> ssl.SSLContext:
    if access.insecure_skip_tls_verify:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        try:
            cadata = access.ca_data.decode("ascii") if access.ca_data else None
            ctx = ssl.create_default_context(cadata=cadata)
        except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
            raise ClusterUnreachable("the cluster CA certificate could not be loaded") from exc
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if access.client_cert_data is not None and access.client_key_data is not None:
        # ssl only loads key pairs from files: a private 0700 directory, deleted at once.
        with tempfile.TemporaryDirectory(prefix="leftover-tls-") as tmp:
            cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            cert.write_bytes(access.client_cert_data)
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(access.client_key_data)
            try:
                ctx.load_cert_chain(cert, key)
            except ssl.SSLError as exc:
                raise ClusterUnreachable(
                    "the client certificate or key could not be loaded"
                ) from exc
    return ctx


def _retry_after(value: str | None, policy: RetryPolicy) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), policy.max_retry_after)


class Transport:
    """One keep-alive connection pool per read, pinned to the vetted addresses."""

    def __init__(self, access: ClusterAccess, *, retry: RetryPolicy, stats: ReadStats) -> None:
        self.access = access
        self.retry = retry
        self.stats = stats
        self._rng = random.SystemRandom()
        try:
            self.addresses: list[IPAddress] = check_endpoint(
                access.host, access.port, allow_private=access.allow_private_endpoints
            )
        except EndpointRefused as exc:
            raise ClusterUnreachable(f"refused to connect: {exc.reason}") from exc
        ctx = _ssl_context(access)
        insecure = access.insecure_skip_tls_verify
        assert_hostname: Literal[False] | None = False if insecure else None
        self._pools = [
            urllib3.HTTPSConnectionPool(
                host=str(ip),
                port=access.port,
                maxsize=MAX_CONCURRENCY,
                block=True,
                retries=False,
                timeout=urllib3.Timeout(connect=access.connect_timeout, read=access.read_timeout),
                ssl_context=ctx,
                cert_reqs="CERT_NONE" if insecure else "CERT_REQUIRED",
                server_hostname=access.tls_server_name or access.host,
                assert_hostname=assert_hostname,
            )
            for ip in self.addresses
        ]
        self._current = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Transport:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for pool in self._pools:
            pool.close()

    def get(
        self, path: str, params: Mapping[str, str | int] | None = None, *, accept: str
    ) -> Response:
        """GET ``path``; transient failures are retried, then the last answer is returned.

        Raises AuthenticationRefused on 401 and ClusterUnreachable when no answer came at all.
        """
        url = self.access.base_path + path
        if params:
            url += "?" + urlencode(params)
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            last: Response | None = None
            delay: float | None = None
            try:
                response = self._send(url, accept)
            except _Transient as exc:
                failure = exc.reason
            else:
                if response.status == 401:
                    raise AuthenticationRefused(
                        f"the API server refused the credentials ({response.status_text})"
                    )
                if response.status != 429 and response.status < 500:
                    return response
                failure, last = f"the API server answered {response.status_text}", response
                delay = _retry_after(response.retry_after, self.retry)
            if delay is None:
                delay = self._backoff(attempt)
            if attempt >= self.retry.attempts or waited + delay > self.retry.max_total_delay:
                if last is not None:
                    return last
                raise ClusterUnreachable(f"{failure} (after {attempt} attempts)")
            waited += delay
            with self._lock:
                self.stats.retries += 1
            time.sleep(delay)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.retry.max_delay, self.retry.base_delay * 2.0 ** (attempt - 1))
        return ceiling * self._rng.uniform(0.5, 1.0)

    def _headers(self, accept: str) -> dict[str, str]:
        headers = {
            "Host": self.access.host_header,
            "Accept": accept,
            "Accept-Encoding": "gzip",
            "User-Agent": USER_AGENT,
        }
        token = self.access.token
        if self.access.token_provider is not None:
            try:
                token = self.access.token_provider()
            except Exception as exc:
                raise AuthenticationRefused(
                    f"could not obtain a token for the cluster ({type(exc).__name__})"
                ) from exc
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _send(self, url: str, accept: str) -> Response:
        headers = self._headers(accept)
        pool = self._pools[self._current]
        host = pool.host.strip("[]")
        where = f"[{host}]:{self.access.port}" if ":" in host else f"{host}:{self.access.port}"
        with self._lock:
            self.stats.requests += 1
        try:
            raw = pool.urlopen(
                "GET",
                url,
                headers=headers,
                retries=False,
                redirect=False,
                preload_content=False,
                decode_content=True,
                assert_same_host=False,
            )
        except SSLError as exc:
            inner = exc.args[0] if exc.args else exc
            if isinstance(inner, ssl.SSLCertVerificationError | ssl.CertificateError):
                detail = getattr(inner, "verify_message", None) or str(inner)
                raise ClusterUnreachable(
                    f"TLS verification of {self.access.host} failed: {detail}"
                ) from exc
            raise _Transient(f"the TLS handshake with {where} failed") from exc
        except NewConnectionError as exc:
            self._rotate()
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
                raise _Transient(f"connection refused by {where}") from exc
            if isinstance(cause, OSError) and cause.strerror:
                raise _Transient(f"could not connect to {where}: {cause.strerror.lower()}") from exc
            raise _Transient(f"could not connect to {where}") from exc
        except ConnectTimeoutError as exc:
            self._rotate()
            raise _Transient(
                f"timed out connecting to {where} after {self.access.connect_timeout:g} s"
            ) from exc
        except ReadTimeoutError as exc:
            raise _Transient(self._no_answer()) from exc
        except HTTPError as exc:
            raise _Transient(f"the connection to {where} was closed without an answer") from exc
        try:
            ok = raw.status == 200
            body = self._read_body(raw, limit=self.access.max_page_bytes if ok else None)
        except ReadTimeoutError as exc:
            raw.close()
            raise _Transient(self._no_answer()) from exc
        except HTTPError as exc:
            raw.close()
            raise _Transient(f"the connection to {where} broke during an answer") from exc
        except ResponseTooLarge:
            raw.close()
            raise
        finally:
            with self._lock:
                self.stats.bytes_received += raw.tell()
        return Response(
            status=raw.status,
            body=body,
            content_type=raw.headers.get("Content-Type", ""),
            retry_after=raw.headers.get("Retry-After"),
        )

    def _no_answer(self) -> str:
        return f"{self.access.host} did not answer within {self.access.read_timeout:g} s"

    def _rotate(self) -> None:
        self._current = (self._current + 1) % len(self._pools)

    def _read_body(self, raw: urllib3.BaseHTTPResponse, *, limit: int | None) -> bytearray:
        """The decoded body, refusing more than ``limit`` bytes; error bodies are truncated."""
        cap = limit if limit is not None else _ERROR_BODY_LIMIT
        length = raw.headers.get("Content-Length")
        if limit is not None and length and length.isdigit() and int(length) > limit:
            raise ResponseTooLarge(self._too_large(limit))
        body = bytearray()
        for chunk in raw.stream(_CHUNK, decode_content=True):
            if len(body) + len(chunk) > cap:
                if limit is not None:
                    raise ResponseTooLarge(self._too_large(limit))
                body += chunk[: cap - len(body)]
                raw.close()
                return body
            body += chunk
        raw.release_conn()
        return body

    @staticmethod
    def _too_large(limit: int) -> str:
        size = f"{limit / MiB:g} MiB" if limit >= MiB else f"{limit} bytes"
        return (
            f"the API server sent more than {size} in one answer; "
            "lower the page size or raise the page limit"
        )
