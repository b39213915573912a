"""The periodic tidy-up of expired ignore rules (the body of the ``findings.expire_ignores`` task).

Rules stop applying at their expiry by themselves: every figure compares a finding's
``ignored_until`` with the clock. This releases the findings of expired rules (another rule
that still applies takes them over), then rewrites the roll-ups of the clusters concerned and
of their organisations' day, all in one transaction. Idempotent: a second run finds nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope, utcnow
from app.findings.ignores import expire_rules
from app.history.rollups import refresh_clusters


def expire_ignore_rules(
    factory: sessionmaker[Session], *, now: datetime | None = None
) -> dict[str, int]:
    """Release expired rules' findings and refresh the roll-ups they changed; the counts."""
    when = now or utcnow()
    with session_scope(factory) as session:
        touched = expire_rules(session, now=when)
        for org_id in sorted(touched):
            refresh_clusters(session, org_id, touched[org_id], now=when)
    return {
        "organisations": len(touched),
        "clusters": sum(len(set(clusters)) for clusters in touched.values()),
    }
