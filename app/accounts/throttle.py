"""Sign-in throttling that slows guessing without ever locking the real user out.

Scheme (all counts over the last 15 minutes, from ``sign_in_attempts``):

- **Per account and address.** Failures for one email from one address, counted since that
  pair's last success. From ``settings.signin_attempts_per_account`` failures on, that address
  must wait before trying that account again: 30 s, doubling with each further failure, capped
  at 15 minutes. Other addresses are unaffected, so an attacker hammering an account from their
  machine never blocks its owner signing in from theirs.
- **Per address.** Failures from one address across all emails (credential stuffing), from
  ``settings.signin_attempts_per_address`` on: the same growing wait for that address only.
- **No account-wide lock.** Failures spread over many addresses never block an account; they
  are bounded by each address's own budget and Argon2id's cost. Every wait expires by itself
  within 15 minutes, and password reset is never throttled by sign-in failures.

While an address waits, its password is not checked and nothing is recorded, so waiting does
not lengthen the wait.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.accounts.models import SignInAttempt
from app.config import Settings

WINDOW = timedelta(minutes=15)
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=15)
KEEP = timedelta(days=1)


def _delay(failures: int, limit: int) -> timedelta:
    if failures < limit:
        return timedelta(0)
    delay: timedelta = FIRST_DELAY * (2 ** min(failures - limit, 16))
    return min(delay, MAX_DELAY)


def _failures(
    session: Session, *, since: datetime, email: str | None, address: str
) -> tuple[int, datetime | None]:
    where = [SignInAttempt.address == address, SignInAttempt.at > since]
    if email is not None:
        where.append(SignInAttempt.email == email)
        last_success = session.scalar(
            select(func.max(SignInAttempt.at)).where(*where, SignInAttempt.success.is_(True))
        )
        if last_success is not None:
            where.append(SignInAttempt.at > last_success)
    count, last = session.execute(
        select(func.count(), func.max(SignInAttempt.at)).where(
            *where, SignInAttempt.success.is_(False)
        )
    ).one()
    return int(count), last


def retry_after(
    session: Session, *, email: str, address: str, settings: Settings, now: datetime
) -> int:
    """Seconds ``address`` must wait before trying ``email`` again (0: go ahead)."""
    since = now - WINDOW
    wait = timedelta(0)
    for key, limit in (
        (email, settings.signin_attempts_per_account),
        (None, settings.signin_attempts_per_address),
    ):
        count, last = _failures(session, since=since, email=key, address=address)
        if last is not None and count >= limit:
            wait = max(wait, last + _delay(count, limit) - now)
    return max(0, int(wait.total_seconds() + 0.999))


def record(session: Session, *, email: str, address: str, success: bool, now: datetime) -> None:
    session.add(SignInAttempt(email=email, address=address[:64], success=success, at=now))


def prune(session: Session, *, now: datetime) -> int:
    """Delete attempts older than a day (they no longer count); for a periodic job."""
    result = session.execute(delete(SignInAttempt).where(SignInAttempt.at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
