"""Server-side web sessions: the cookie holds a random token, the row only its SHA-256.

A session ends at the first of: sign-out, ``session_absolute_hours`` after sign-in, or
``session_idle_minutes`` without a request. Signing in always makes a new token (the previous
one, if any, is deleted), so a planted or leaked pre-login cookie is worthless.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.accounts.models import User, WebSession
from app.config import Settings
from app.db import utcnow
from app.security import new_token, token_hash

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
TOAST_KINDS = frozenset({"success", "error", "info"})


def start_session(
    session: Session,
    user: User,
    *,
    settings: Settings,
    org_id: uuid.UUID | None = None,
    previous_token: str | None = None,
    now: datetime | None = None,
) -> tuple[WebSession, str]:
    """A new session for ``user`` (deleting ``previous_token``'s); returns the row and token."""
    now = now or utcnow()
    if previous_token:
        end_session(session, previous_token)
    token = new_token()
    row = WebSession(
        token_hash=token_hash(token),
        user_id=user.id,
        current_org_id=org_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        toasts=[],
    )
    session.add(row)
    session.flush()
    return row, token


def load_session(
    session: Session, token: str | None, *, settings: Settings, now: datetime | None = None
) -> WebSession | None:
    """The live session for ``token``; an idle or expired one is deleted and None returned."""
    if not token or len(token) > 200:
        return None
    now = now or utcnow()
    row = session.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
    if row is None:
        return None
    idle_limit = timedelta(minutes=settings.session_idle_minutes)
    if now >= row.expires_at or now - row.last_seen_at >= idle_limit:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end_session(session: Session, token: str) -> None:
    """Delete the session for ``token`` (sign-out); unknown tokens are ignored."""
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash(token)))


def revoke_sessions(session: Session, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
    """Delete every session of ``user_id`` except ``keep`` (after a password change or reset)."""
    stmt = delete(WebSession).where(WebSession.user_id == user_id)
    if keep is not None:
        stmt = stmt.where(WebSession.id != keep)
    session.execute(stmt)


def add_toast(web_session: WebSession, kind: str, text: str) -> None:
    """Queue a one-shot message shown on the next page this session renders."""
    kind = kind if kind in TOAST_KINDS else "info"
    web_session.toasts = [*(web_session.toasts or []), {"kind": kind, "text": text}][-5:]


def take_toasts(web_session: WebSession) -> list[dict[str, Any]]:
    """The queued messages, removed from the session (shown once)."""
    toasts = list(web_session.toasts or [])
    if toasts:
        web_session.toasts = []
    return toasts
