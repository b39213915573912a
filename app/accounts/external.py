"""Accounts for people who sign in through an identity provider (Google, GitHub, Microsoft).

Who they are is decided in this order: the identity already linked to (provider, subject); else
the account with the same email, which the provider has verified (so the link is safe); else a
new account owning a new organisation named after them. Nothing here knows HTTP.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.accounts import service
from app.accounts.models import ExternalIdentity, User
from app.accounts.schemas import NAME_MAX
from app.db import utcnow

ORG_SUFFIX = "'s organisation"


def org_name_for(user: User) -> str:
    """ "Ada Lovelace's organisation" (or the email's local part when there is no name)."""
    who = (user.display_name or user.email.split("@", 1)[0]).strip() or "My"
    return who[: NAME_MAX - len(ORG_SUFFIX)] + ORG_SUFFIX


def find_identity(session: Session, *, provider: str, subject: str) -> ExternalIdentity | None:
    """The link for (provider, subject): the provider's stable id, never the mutable email."""
    return session.scalar(
        select(ExternalIdentity).where(
            ExternalIdentity.provider == provider, ExternalIdentity.subject == subject
        )
    )


def sign_in_external(
    session: Session,
    *,
    provider: str,
    subject: str,
    email: str,
    display_name: str,
    own_org: bool = True,
) -> User:
    """The user behind a provider-verified identity: linked by (provider, subject), else by
    the same email, else new (owning "<name>'s organisation" unless ``own_org`` is False, as
    when an invitation brings them into someone else's).

    ``email`` must already be normalised and verified by the provider. Linking to an account
    whose email was never verified clears its password and ends its sessions: whoever set them
    never proved they own the address (the pre-hijacked account attack).
    """
    identity = find_identity(session, provider=provider, subject=subject)
    if identity is not None:
        identity.email = email
        return session.get_one(User, identity.user_id)
    user = service.get_user_by_email(session, email)
    if user is None:
        user = service._new_user(session, email=email, password=None, display_name=display_name)
        user.email_verified_at = utcnow()
        if own_org:
            service.create_org(session, user, name=org_name_for(user))
    elif not user.email_verified:
        user.password_hash = None
        service.revoke_sessions(session, user.id)
        user.email_verified_at = utcnow()
        user.display_name = user.display_name or display_name
    session.add(ExternalIdentity(provider=provider, subject=subject, user_id=user.id, email=email))
    session.flush()
    return user
