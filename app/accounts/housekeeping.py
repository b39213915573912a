"""Periodic clean-up of account records that have outlived their purpose.

Deletes sessions past their absolute or idle limit, reset and verification links that were used
or expired, and sign-in attempts older than the throttle needs. Each step is one DELETE with a
time condition, so running it twice, or from two schedulers at once, changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlalchemy.orm import Session

from app.accounts import service
from app.accounts.models import EmailToken, WebSession
from app.config import Settings

# A used link is kept a little while so "this link was already used" can still be told apart
# from "this link does not exist".
USED_TOKEN_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class Purged:
    sessions: int
    email_tokens: int
    sign_in_attempts: int


def purge_expired(session: Session, *, now: datetime, settings: Settings) -> Purged:
    """Delete expired sessions, spent email links and stale sign-in attempts (no commit)."""
    idle_cutoff = now - timedelta(minutes=settings.session_idle_minutes)
    sessions = session.execute(
        delete(WebSession)
        .where(or_(WebSession.expires_at <= now, WebSession.last_seen_at <= idle_cutoff))
        .execution_options(synchronize_session=False)
    )
    tokens = session.execute(
        delete(EmailToken)
        .where(
            or_(
                EmailToken.expires_at <= now,
                EmailToken.used_at <= now - USED_TOKEN_GRACE,
            )
        )
        .execution_options(synchronize_session=False)
    )
    attempts = service.prune_sign_in_attempts(session, now=now)
    return Purged(
        sessions=_count(sessions),
        email_tokens=_count(tokens),
        sign_in_attempts=attempts,
    )


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
