"""Ignore rules: findings an organisation decided to live with, and why.

A rule has one of three scopes:

- ``finding``: one finding, by its identity in one cluster;
- ``name_pattern``: objects whose name matches a glob (``*`` and ``?``) in one namespace,
  optionally of one kind;
- ``kind``: every object of one kind in one namespace.

``cluster_id`` None means "in every cluster" (name_pattern and kind scopes). ``namespace``
None means cluster-scoped objects (PersistentVolumes, StorageClasses, …). A rule with an
``expires_at`` stops applying at that moment by itself: queries compare it with the clock.
Matching findings carry the rule in ``Finding.ignore_rule_id`` and its expiry in
``Finding.ignored_until`` (see ``app.findings.ignores``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, IdMixin, TimestampMixin
from app.tenancy import OrgScoped


class IgnoreScope(StrEnum):
    finding = "finding"
    name_pattern = "name_pattern"
    kind = "kind"


class IgnoreRule(IdMixin, TimestampMixin, OrgScoped, Base):
    __tablename__ = "ignore_rules"
    __table_args__ = (
        CheckConstraint("scope IN ('finding', 'name_pattern', 'kind')", name="scope"),
        CheckConstraint(
            "(scope = 'finding' AND finding_identity IS NOT NULL AND cluster_id IS NOT NULL)"
            " OR (scope = 'name_pattern' AND name_pattern IS NOT NULL)"
            " OR (scope = 'kind' AND kind IS NOT NULL)",
            name="scope_fields",
        ),
    )

    scope: Mapped[str] = mapped_column(String(16))
    cluster_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clusters.id", ondelete="CASCADE"), index=True
    )
    namespace: Mapped[str | None] = mapped_column(String(253))
    kind: Mapped[str | None] = mapped_column(String(100))
    name_pattern: Mapped[str | None] = mapped_column(String(253))
    finding_identity: Mapped[str | None] = mapped_column(String(64))
    # What the finding was when ignored (a finding rule outlives its finding's row).
    label: Mapped[str] = mapped_column(String(600), default="")
    reason: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_by_email: Mapped[str] = mapped_column(String(320), default="")
