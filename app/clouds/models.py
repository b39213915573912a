"""Cloud accounts and the clusters discovered in them.

Every cluster belongs to an account: an AWS, GCP or Azure account whose API lists its managed
clusters, or a "kubeconfig" account that stands for one cluster uploaded by kubeconfig. The
account's configuration (role ARN, regions, project and subscription ids …) is plain data; its
secret (access keys, a service-account key, a client secret, a cluster token) is one encrypted
value, bound to the row, never rendered back.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.accounts import models as _accounts  # noqa: F401 - the tables these rows reference
from app.db import Base, IdMixin, TimestampMixin
from app.tenancy import OrgScoped


class Provider(StrEnum):
    aws = "aws"
    gcp = "gcp"
    azure = "azure"
    kubeconfig = "kubeconfig"


class AccountStatus(StrEnum):
    pending = "pending"  # saved, first discovery not finished
    connected = "connected"
    needs_attention = "needs_attention"  # the provider refused the credentials: user must act
    error = "error"  # the last discovery failed for another reason (shown, retried on schedule)


class ClusterState(StrEnum):
    active = "active"
    gone = "gone"  # no longer listed by its account; history kept


_PROVIDERS = "provider IN ('aws', 'gcp', 'azure', 'kubeconfig')"
_STATUSES = "status IN ('pending', 'connected', 'needs_attention', 'error')"


class CloudAccount(IdMixin, TimestampMixin, OrgScoped, Base):
    __tablename__ = "cloud_accounts"
    __table_args__ = (
        CheckConstraint(_PROVIDERS, name="provider"),
        CheckConstraint(_STATUSES, name="status"),
    )

    provider: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    # Non-secret configuration: role ARN, external id, regions, projects, subscriptions …
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secret_ciphertext: Mapped[str | None] = mapped_column(Text)
    secret_changed_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(24), default=AccountStatus.pending.value)
    status_message: Mapped[str | None] = mapped_column(Text)
    last_discovery_at: Mapped[datetime | None]
    discovery_warnings: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    @property
    def needs_attention(self) -> bool:
        return self.status == AccountStatus.needs_attention.value


class Cluster(IdMixin, TimestampMixin, OrgScoped, Base):
    __tablename__ = "clusters"
    __table_args__ = (
        UniqueConstraint("account_id", "external_id"),
        CheckConstraint(_PROVIDERS, name="provider"),
        CheckConstraint("state IN ('active', 'gone')", name="state"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("cloud_accounts.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(512))
    name: Mapped[str] = mapped_column(String(255))
    region: Mapped[str] = mapped_column(String(64), default="")
    kubernetes_version: Mapped[str | None] = mapped_column(String(64))
    endpoint: Mapped[str | None] = mapped_column(String(512))
    ca_data: Mapped[str | None] = mapped_column(Text)  # PEM, public
    node_count: Mapped[int | None]
    cloud_status: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=ClusterState.active.value)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    gone_at: Mapped[datetime | None]

    @property
    def gone(self) -> bool:
        return self.state == ClusterState.gone.value
