"""How to reach one cluster: endpoint, trust, credentials and limits, with nothing secret shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MiB = 1024 * 1024


@dataclass(frozen=True, repr=False)
class ClusterAccess:
    """Everything the reader needs to talk to one API server.

    Built by the kubeconfig parser or a cloud adapter; never from a file path or a program, so
    the reader cannot be steered into reading local files or running commands.
    """

    server: str
    ca_data: bytes | None = None
    token: str | None = None
    # Called before every request (refreshing cloud tokens); wins over ``token``.
    token_provider: Callable[[], str] | None = None
    client_cert_data: bytes | None = None
    client_key_data: bytes | None = None
    # Only the CLI sets this, on the user's own kubeconfig; uploads refuse it.
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    allow_private_endpoints: bool = True
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    max_page_bytes: int = 256 * MiB
    name: str | None = None

    def __post_init__(self) -> None:
        parts = urlsplit(self.server)
        if parts.scheme != "https":
            raise ValueError("the cluster server must be an https:// URL")
        if not parts.hostname:
            raise ValueError("the cluster server URL has no host name")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the cluster server URL must not contain credentials")
        if parts.query or parts.fragment:
            raise ValueError("the cluster server URL must not have a query or fragment")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError("the cluster server URL has an invalid port") from exc
        if (self.client_cert_data is None) != (self.client_key_data is None):
            raise ValueError("a client certificate needs both the certificate and the key")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_page_bytes <= 0:
            raise ValueError("max_page_bytes must be positive")

    @property
    def host(self) -> str:
        """The server's host name or IP literal (IPv6 without brackets)."""
        return urlsplit(self.server).hostname or ""

    @property
    def port(self) -> int:
        return urlsplit(self.server).port or 443

    @property
    def base_path(self) -> str:
        """A path prefix some proxies (Rancher, Teleport) put in front of the API."""
        return urlsplit(self.server).path.rstrip("/")

    @property
    def host_header(self) -> str:
        """The Host header value for requests sent to a vetted IP address."""
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return host if self.port == 443 else f"{host}:{self.port}"

    def __repr__(self) -> str:
        auth = [
            label
            for label, present in (
                ("token", self.token is not None),
                ("token_provider", self.token_provider is not None),
                ("client_cert", self.client_cert_data is not None),
            )
            if present
        ]
        return (
            f"ClusterAccess(server={self.server!r}, name={self.name!r}, "
            f"auth={'+'.join(auth) or 'none'}, ca={'yes' if self.ca_data else 'system'}, "
            f"insecure_skip_tls_verify={self.insecure_skip_tls_verify}, "
            f"allow_private_endpoints={self.allow_private_endpoints})"
        )
