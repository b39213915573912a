"""Accounts business logic: sign-up and sign-in, passwords, verification, organisations,
members, roles and invitations. Routes and the CLI call these; nothing here knows HTTP.

Errors: ``FormError`` (a field-level problem the form shows), ``PermissionDenied`` (the actor's
role does not allow it), ``NotFound`` (no such row for this actor — shown as 404).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.accounts import throttle
from app.accounts.models import (
    ROLE_RANK,
    EmailToken,
    Invitation,
    Membership,
    Organisation,
    Role,
    User,
    WebSession,
)
from app.accounts.models import (
    TokenPurpose as TokenPurpose,
)
from app.accounts.schemas import clean_email, clean_name, new_password
from app.accounts.sessions import add_toast as add_toast
from app.accounts.sessions import end_session as end_session
from app.accounts.sessions import load_session as load_session
from app.accounts.sessions import revoke_sessions as revoke_sessions
from app.accounts.sessions import start_session as start_session
from app.accounts.sessions import take_toasts as take_toasts
from app.config import Settings
from app.db import utcnow
from app.mail import queue_mail
from app.security import hash_password, needs_rehash, new_token, token_hash, verify_password

RESET_TTL = timedelta(hours=1)
VERIFY_TTL = timedelta(hours=48)
INVITATION_TTL = timedelta(days=7)
LAST_OWNER = "An organisation needs an owner: make someone else an owner first."


class FormError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class PermissionDenied(Exception):
    """The actor's role does not allow this; the message says what would."""


class NotFound(Exception):
    """No such row for this actor (another tenant's, expired, used or revoked)."""


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    retry_after: int = 0  # seconds this address must wait; the password was not checked


def _link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


# Users ------------------------------------------------------------------------------------


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def has_users(session: Session) -> bool:
    """Whether anyone has signed up (an empty instance sends its first visitor to sign-up)."""
    return session.scalar(select(User.id).limit(1)) is not None


def _new_user(
    session: Session, *, email: str, password: str | None, display_name: str = ""
) -> User:
    if get_user_by_email(session, email) is not None:
        raise FormError(
            "email", "An account with this email already exists. Sign in or reset the password."
        )
    user = User(
        email=email,
        password_hash=hash_password(password) if password is not None else None,
        display_name=display_name,
    )
    session.add(user)
    session.flush()
    return user


def _new_org(session: Session, user: User, *, name: str) -> Organisation:
    org = Organisation(name=name)
    session.add(org)
    session.flush()
    session.add(Membership(user_id=user.id, org_id=org.id, role=Role.owner.value))
    session.flush()
    return org


def sign_up(
    session: Session,
    *,
    email: str,
    password: str,
    org_name: str,
    display_name: str = "",
    base_url: str,
) -> tuple[User, Organisation]:
    """A new user owning a new organisation; sends the verification email."""
    user = _new_user(session, email=email, password=password, display_name=display_name)
    org = _new_org(session, user, name=org_name)
    send_verification(session, user, base_url=base_url)
    return user, org


def create_user_with_org(
    session: Session, *, email: str, password: str, org_name: str
) -> tuple[User, Organisation]:
    """For ``leftover create-user``: a verified user owning a new organisation (ValueError if
    the email, password or name is unacceptable or the email is taken)."""
    try:
        email = clean_email(email)
        password = new_password(password)
        org_name = clean_name(org_name, what="a name for the organisation")
        user = _new_user(session, email=email, password=password)
    except FormError as exc:
        raise ValueError(exc.message) from exc
    user.email_verified_at = utcnow()
    return user, _new_org(session, user, name=org_name)


def authenticate(
    session: Session,
    *,
    email: str,
    password: str,
    address: str,
    settings: Settings,
    now: datetime | None = None,
) -> SignInResult:
    """The user if the password matches and this address may try now (see throttle.py)."""
    now = now or utcnow()
    email = email.strip().lower()
    address = (address or "unknown")[:64]
    wait = throttle.retry_after(session, email=email, address=address, settings=settings, now=now)
    if wait:
        return SignInResult(None, retry_after=wait)
    user = get_user_by_email(session, email)
    ok = verify_password(user.password_hash if user else None, password)
    throttle.record(session, email=email, address=address, success=ok, now=now)
    if not ok or user is None:
        return SignInResult(None)
    assert user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignInResult(user)


def update_profile(session: Session, user: User, *, display_name: str) -> None:
    user.display_name = display_name


def change_password(
    session: Session,
    user: User,
    *,
    current: str,
    new: str,
    keep_session: uuid.UUID | None = None,
) -> None:
    """Set a new password if ``current`` is right (users who only signed in through an identity
    provider have none to give); every other session of the user ends."""
    if user.password_hash is not None:
        if not current:
            raise FormError("current_password", "Enter your current password.")
        if not verify_password(user.password_hash, current):
            raise FormError("current_password", "That is not your current password.")
    user.password_hash = hash_password(new)
    revoke_sessions(session, user.id, keep=keep_session)


# Emailed links ------------------------------------------------------------------------------


def _issue_email_token(
    session: Session, user: User, *, purpose: TokenPurpose, ttl: timedelta
) -> str:
    token = new_token()
    session.add(
        EmailToken(
            user_id=user.id,
            purpose=purpose.value,
            token_hash=token_hash(token),
            expires_at=utcnow() + ttl,
        )
    )
    return token


def find_email_token(
    session: Session, token: str, *, purpose: TokenPurpose, now: datetime | None = None
) -> EmailToken | None:
    """The unused, unexpired token of ``purpose``, or None."""
    now = now or utcnow()
    if not token or len(token) > 200:
        return None
    row = session.scalar(
        select(EmailToken).where(
            EmailToken.token_hash == token_hash(token), EmailToken.purpose == purpose.value
        )
    )
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return row


def request_password_reset(session: Session, email: str, *, base_url: str) -> None:
    """Email a single-use reset link valid for an hour, if an account has this email.

    The caller shows the same answer either way, so the form does not reveal who has an account.
    """
    user = get_user_by_email(session, email)
    if user is None:
        return
    token = _issue_email_token(session, user, purpose=TokenPurpose.reset, ttl=RESET_TTL)
    link = _link(base_url, f"/password/reset/{token}")
    queue_mail(
        session,
        to=user.email,
        subject="Reset your Leftover password",
        text=(
            "Someone (hopefully you) asked to reset the password of your Leftover account.\n\n"
            f"Choose a new password here (the link works once, for one hour):\n{link}\n\n"
            "If you did not ask, ignore this email; your password stays as it is.\n"
        ),
    )


def reset_password(session: Session, token: str, *, password: str) -> User:
    """Set the password from a reset link: the link is used up, every session of the user ends,
    and the email counts as verified (the link proved it)."""
    row = find_email_token(session, token, purpose=TokenPurpose.reset)
    if row is None:
        raise NotFound
    now = utcnow()
    session.execute(
        update(EmailToken)
        .where(
            EmailToken.user_id == row.user_id,
            EmailToken.purpose == TokenPurpose.reset.value,
            EmailToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    user = session.get_one(User, row.user_id)
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or now
    revoke_sessions(session, user.id)
    return user


def send_verification(session: Session, user: User, *, base_url: str) -> None:
    """Email a link that confirms the address (valid 48 hours)."""
    token = _issue_email_token(session, user, purpose=TokenPurpose.verify, ttl=VERIFY_TTL)
    link = _link(base_url, f"/verify/{token}")
    queue_mail(
        session,
        to=user.email,
        subject="Confirm your email for Leftover",
        text=f"Confirm that this is your email address:\n{link}\n\nThe link works for 48 hours.\n",
    )


def verify_email(session: Session, token: str) -> User:
    """Mark the address of the link's user as verified; the link is used up."""
    row = find_email_token(session, token, purpose=TokenPurpose.verify)
    if row is None:
        raise NotFound
    now = utcnow()
    row.used_at = now
    user = session.get_one(User, row.user_id)
    user.email_verified_at = user.email_verified_at or now
    return user


# Organisations and members --------------------------------------------------------------------


def memberships_of(session: Session, user_id: uuid.UUID) -> list[Membership]:
    """The user's memberships, by organisation name (for the switcher)."""
    stmt = (
        select(Membership)
        .join(Organisation, Membership.org_id == Organisation.id)
        .where(Membership.user_id == user_id)
        .order_by(func.lower(Organisation.name), Organisation.id)
    )
    return list(session.scalars(stmt).unique())


def get_membership(session: Session, user_id: uuid.UUID, org_id: uuid.UUID) -> Membership | None:
    return session.scalar(
        select(Membership).where(Membership.user_id == user_id, Membership.org_id == org_id)
    )


def create_org(session: Session, user: User, *, name: str) -> Organisation:
    """Another organisation, owned by ``user``."""
    return _new_org(session, user, name=name)


def _require(actor: Membership, minimum: Role, what: str) -> None:
    if ROLE_RANK[Role(actor.role)] < ROLE_RANK[minimum]:
        raise PermissionDenied(f"Only an {minimum.value} or owner can {what}.")


def update_org(session: Session, actor: Membership, *, name: str, scan_interval_hours: int) -> None:
    """Rename the organisation and set how often its clusters are scanned (admins and owners)."""
    _require(actor, Role.admin, "change the organisation's settings")
    actor.org.name = name
    actor.org.scan_interval_hours = scan_interval_hours


def switch_org(session: Session, web_session: WebSession, org_id: uuid.UUID) -> Membership:
    """Make ``org_id`` the session's current organisation; NotFound unless the user belongs."""
    membership = get_membership(session, web_session.user_id, org_id)
    if membership is None:
        raise NotFound
    web_session.current_org_id = org_id
    return membership


def list_members(session: Session, org_id: uuid.UUID) -> list[Membership]:
    stmt = (
        select(Membership)
        .join(User, Membership.user_id == User.id)
        .where(Membership.org_id == org_id)
        .order_by(User.email)
    )
    return list(session.scalars(stmt).unique())


def pending_invitations(session: Session, org_id: uuid.UUID) -> list[Invitation]:
    stmt = (
        select(Invitation)
        .where(
            Invitation.org_id == org_id,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.expires_at > utcnow(),
        )
        .order_by(Invitation.created_at)
    )
    return list(session.scalars(stmt).unique())


def _owner_count(session: Session, org_id: uuid.UUID) -> int:
    ids = session.scalars(
        select(Membership.id)
        .where(Membership.org_id == org_id, Membership.role == Role.owner.value)
        .with_for_update()
    ).all()
    return len(ids)


def _check_manage(session: Session, target: Membership, *, actor: Membership) -> None:
    _require(actor, Role.admin, "manage members")
    if target.role == Role.owner.value and actor.role != Role.owner.value:
        raise PermissionDenied("Only an owner can change or remove an owner.")


def change_role(session: Session, target: Membership, *, role: str, actor: Membership) -> None:
    """Give ``target`` a new role: admins manage non-owners, only owners grant or take away
    ownership, and the last owner keeps it."""
    new = Role(role)
    _check_manage(session, target, actor=actor)
    if new is Role.owner and actor.role != Role.owner.value:
        raise PermissionDenied("Only an owner can make someone an owner.")
    demoting_owner = target.role == Role.owner.value and new is not Role.owner
    if demoting_owner and _owner_count(session, target.org_id) <= 1:
        raise FormError("role", LAST_OWNER)
    target.role = new.value


def remove_member(session: Session, target: Membership, *, actor: Membership) -> None:
    """Remove ``target`` from the organisation (never its last owner)."""
    _check_manage(session, target, actor=actor)
    if target.role == Role.owner.value and _owner_count(session, target.org_id) <= 1:
        raise FormError("role", LAST_OWNER)
    session.delete(target)


# Invitations -----------------------------------------------------------------------------------


def invite(
    session: Session, actor: Membership, *, email: str, role: str, base_url: str
) -> Invitation:
    """Invite ``email`` to the actor's organisation with ``role``; emails a 7-day link and
    replaces any pending invitation for the same address."""
    _require(actor, Role.admin, "invite people")
    if role == Role.owner.value and actor.role != Role.owner.value:
        raise PermissionDenied("Only an owner can invite an owner.")
    existing = get_user_by_email(session, email)
    if existing is not None and get_membership(session, existing.id, actor.org_id) is not None:
        raise FormError("email", "This person is already a member.")
    now = utcnow()
    session.execute(
        update(Invitation)
        .where(
            Invitation.org_id == actor.org_id,
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    token = new_token()
    invitation = Invitation(
        org_id=actor.org_id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by_id=actor.user_id,
        expires_at=now + INVITATION_TTL,
    )
    session.add(invitation)
    session.flush()
    inviter = actor.user.label
    queue_mail(
        session,
        to=email,
        subject=f"{inviter} invited you to {actor.org.name} on Leftover",
        text=(
            f"{inviter} invited you to join {actor.org.name} on Leftover as {role}.\n\n"
            f"Accept here (the link works for 7 days):\n"
            f"{_link(base_url, f'/invitations/{token}')}\n"
        ),
    )
    return invitation


def find_invitation(session: Session, token: str) -> Invitation | None:
    """The pending (not accepted, revoked or expired) invitation for ``token``."""
    if not token or len(token) > 200:
        return None
    row = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))
    if row is None or not row.pending(utcnow()):
        return None
    return row


def accept_invitation(session: Session, invitation: Invitation, *, user: User) -> Membership:
    """Join the invitation's organisation as ``user`` (keeping a role they already have)."""
    invitation.accepted_at = utcnow()
    membership = get_membership(session, user.id, invitation.org_id)
    if membership is None:
        membership = Membership(user_id=user.id, org_id=invitation.org_id, role=invitation.role)
        session.add(membership)
        session.flush()
    return membership


def accept_invitation_as_new_user(
    session: Session, invitation: Invitation, *, password: str, display_name: str
) -> User:
    """Create the invited person's account (the link proved the email) and join."""
    user = _new_user(session, email=invitation.email, password=password, display_name=display_name)
    user.email_verified_at = utcnow()
    accept_invitation(session, invitation, user=user)
    return user


def revoke_invitation(session: Session, invitation: Invitation, *, actor: Membership) -> None:
    _require(actor, Role.admin, "revoke invitations")
    if invitation.role == Role.owner.value and actor.role != Role.owner.value:
        raise PermissionDenied("Only an owner can revoke an owner's invitation.")
    invitation.revoked_at = invitation.revoked_at or utcnow()


def prune_sign_in_attempts(session: Session, *, now: datetime | None = None) -> int:
    """Delete sign-in attempts too old to count (for a periodic job)."""
    return throttle.prune(session, now=now or utcnow())
