"""Settings: one class, read from ``LEFTOVER_*`` environment variables (and a ``.env`` file).

Two modes. ``local`` (the default, what ``make run`` uses) keeps everything on the laptop: a
SQLite file, a broker that needs no server, mail written to an outbox folder, cookies without
the Secure flag, private cluster endpoints allowed. ``production`` refuses to start with a
placeholder secret key or without HTTPS base URL, and sends mail through SMTP.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.clouds.base import Endpoints
from app.crypto import LocalKeyRing, local_key_file, parse_keys

PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "secret", "dev", "development"})


class SettingsError(ValueError):
    """The configuration cannot run safely; the message says which setting to fix."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LEFTOVER_", env_file=".env", extra="ignore", frozen=True
    )

    mode: Literal["local", "production"] = "local"
    base_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path(".")
    database_url: str = ""  # default: sqlite in data_dir
    redis_url: str | None = None  # broker and result backend; None: the embedded broker
    secret_key: SecretStr = SecretStr("")

    # Sessions
    session_idle_minutes: int = 12 * 60
    session_absolute_hours: int = 7 * 24
    signin_attempts_per_account: int = 5  # per 15 minutes, then a delay grows; never a lockout
    signin_attempts_per_address: int = 30

    # Mail
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    mail_from: str = "Leftover <leftover@localhost>"

    # Sign-in with identity providers (each enabled when its client id is set)
    google_client_id: str | None = None
    google_client_secret: SecretStr | None = None
    google_metadata_url: str = "https://accounts.google.com/.well-known/openid-configuration"
    github_client_id: str | None = None
    github_client_secret: SecretStr | None = None
    github_base_url: str = "https://github.com"
    github_api_url: str = "https://api.github.com"
    microsoft_client_id: str | None = None
    microsoft_client_secret: SecretStr | None = None
    microsoft_tenant: str = "common"
    microsoft_metadata_url: str = (
        "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
    )

    # Outbound cluster connections
    allow_private_endpoints: bool | None = None  # default: allowed in local mode only

    # Credentials at rest: comma-separated base64 AES-256 keys, newest first (rotation).
    # Local mode without keys makes one and keeps it in data_dir.
    encryption_keys: SecretStr = SecretStr("")

    # Cloud APIs. Empty endpoints mean the providers' public ones; operators of private clouds
    # and the tests point them elsewhere. Leftover's own AWS identity (the principal customers'
    # roles trust) comes from the standard AWS chain: environment, profile or instance role.
    aws_principal_arn: str = ""  # shown in the trust policy customers paste
    aws_endpoint_url: str | None = None
    aws_eks_endpoint_url: str | None = None
    aws_sts_endpoint_url: str | None = None
    gcp_container_endpoint: str | None = None
    gcp_token_uri: str | None = None
    azure_management_endpoint: str | None = None
    azure_authority: str | None = None
    cloud_ca_bundle: str | None = None  # PEM file verifying TLS to the endpoints above
    cloud_timeout_seconds: float = 20.0

    # Scans
    discovery_interval_hours: int = 6
    max_upload_bytes: int = 256 * 1024

    # Price refresh from the providers' public price APIs (off: the embedded price book only).
    # The GCP catalogue needs an API key (skipped without one); AWS EBS and instance prices use
    # the signed Price List Query API with Leftover's own AWS identity (pricing:GetProducts).
    price_refresh: bool = False
    price_azure_url: str = "https://prices.azure.com"
    price_gcp_url: str = "https://cloudbilling.googleapis.com"
    price_gcp_api_key: SecretStr | None = None
    price_aws_url: str = "https://pricing.us-east-1.amazonaws.com"  # bulk offer files
    price_aws_query_url: str | None = None  # Query API; None: boto3's endpoint in us-east-1
    price_timeout_seconds: float = 30.0

    @model_validator(mode="after")
    def _check(self) -> Settings:
        keys = self.encryption_keys.get_secret_value()
        if keys.strip():
            try:
                parse_keys(keys)
            except ValueError as exc:
                raise SettingsError(str(exc)) from None
        if self.mode == "production":
            if (
                self.secret_key.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
                or len(self.secret_key.get_secret_value()) < 32
            ):
                raise SettingsError(
                    "LEFTOVER_SECRET_KEY must be set to a random value of 32+ characters in "
                    "production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
                )
            if not self.base_url.startswith("https://"):
                raise SettingsError("LEFTOVER_BASE_URL must be an https:// URL in production")
            if not self.database_url:
                raise SettingsError("LEFTOVER_DATABASE_URL must be set in production")
            if not self.redis_url:
                raise SettingsError(
                    "LEFTOVER_REDIS_URL must be set in production: the embedded broker is a "
                    "local file, which workers on other hosts cannot share"
                )
            if not self.encryption_keys.get_secret_value().strip():
                raise SettingsError(
                    "LEFTOVER_ENCRYPTION_KEYS must be set in production (`leftover new-key` "
                    "prints one); it encrypts the cloud credentials customers connect"
                )

        return self

    @property
    def local(self) -> bool:
        return self.mode == "local"

    @property
    def database(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'leftover.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def private_endpoints_allowed(self) -> bool:
        if self.allow_private_endpoints is None:
            return self.local
        return self.allow_private_endpoints

    @property
    def secure_cookies(self) -> bool:
        return not self.local

    def key_ring(self) -> LocalKeyRing:
        """The keys that encrypt stored credentials (made once in data_dir in local mode)."""
        configured = self.encryption_keys.get_secret_value()
        keys = parse_keys(configured) if configured.strip() else local_key_file(self.data_dir)
        return LocalKeyRing(keys)

    def cloud_endpoints(self) -> Endpoints:
        """Where the cloud adapters send their calls."""
        return Endpoints(
            aws=self.aws_endpoint_url,
            aws_eks=self.aws_eks_endpoint_url,
            aws_sts=self.aws_sts_endpoint_url,
            gcp_container=self.gcp_container_endpoint,
            gcp_token_uri=self.gcp_token_uri,
            azure_management=self.azure_management_endpoint,
            azure_authority=self.azure_authority,
            ca_bundle=self.cloud_ca_bundle,
            timeout=self.cloud_timeout_seconds,
        )

    def signing_key(self) -> bytes:
        """The key for sessions and CSRF. In local mode, made once and kept in data_dir."""
        value = self.secret_key.get_secret_value()
        if value:
            return value.encode()
        path = self.data_dir / ".leftover-secret-key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()


@lru_cache
def get_settings() -> Settings:
    """The process's settings (tests build their own and pass them to create_app)."""
    return Settings()
