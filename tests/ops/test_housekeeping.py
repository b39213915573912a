"""accounts.purge_expired: deletes what has outlived its purpose and nothing else, repeatably."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from app.accounts import service
from app.accounts.housekeeping import purge_expired
from app.accounts.models import EmailToken, SignInAttempt, WebSession
from app.config import Settings
from app.db import session_scope, utcnow
from app.security import new_token, token_hash


def test_purge_expired_keeps_what_is_live(settings: Settings, factory: Any) -> None:
    now = utcnow()
    with session_scope(factory) as session:
        user, _ = service.create_user_with_org(
            session,
            email=f"ops-{new_token()[:8].lower()}@example.com",
            password="correct horse battery staple",
            org_name="Acme",
        )
        session_rows = {
            "live": (now + timedelta(days=1), now),
            "expired": (now - timedelta(minutes=1), now - timedelta(minutes=2)),
            "idle": (
                now + timedelta(days=1),
                now - timedelta(minutes=settings.session_idle_minutes + 1),
            ),
        }
        for name, (expires, seen) in session_rows.items():
            session.add(
                WebSession(
                    token_hash=token_hash(name + new_token()),
                    user_id=user.id,
                    expires_at=expires,
                    last_seen_at=seen,
                    toasts=[],
                )
            )
        tokens = {
            "live": (now + timedelta(hours=1), None),
            "expired": (now - timedelta(seconds=1), None),
            "used long ago": (now + timedelta(hours=1), now - timedelta(days=2)),
            "just used": (now + timedelta(hours=1), now - timedelta(minutes=5)),
        }
        for name, (expires, used) in tokens.items():
            session.add(
                EmailToken(
                    user_id=user.id,
                    purpose="reset",
                    token_hash=token_hash(name + new_token()),
                    expires_at=expires,
                    used_at=used,
                )
            )
        session.add(SignInAttempt(email=user.email, address="10.0.0.1", at=now, success=False))
        session.add(
            SignInAttempt(
                email=user.email, address="10.0.0.1", at=now - timedelta(days=2), success=False
            )
        )
        user_id = user.id

    with session_scope(factory) as session:
        purged = purge_expired(session, now=now, settings=settings)
    assert (purged.sessions, purged.email_tokens, purged.sign_in_attempts) == (2, 2, 1)

    with factory() as session:
        live_sessions = session.scalar(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id)
        )
        live_tokens = session.scalar(
            select(func.count()).select_from(EmailToken).where(EmailToken.user_id == user_id)
        )
        assert (live_sessions, live_tokens) == (1, 2)

    with session_scope(factory) as session:
        again = purge_expired(session, now=now, settings=settings)
    assert (again.sessions, again.email_tokens, again.sign_in_attempts) == (0, 0, 0)
