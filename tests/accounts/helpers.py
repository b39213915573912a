"""Helpers for accounts tests: arrange users and organisations directly through the service,
read mailed links, and poke stored timestamps."""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI
from sqlalchemy import select

from app.accounts import service
from app.accounts.models import Membership, Organisation, User
from app.db import session_scope
from app.mail import OutgoingMail
from tests.conftest import PASSWORD


def make_user(app: FastAPI, email: str, *, org: str = "Own org") -> tuple[uuid.UUID, uuid.UUID]:
    """A verified user owning a fresh organisation; returns (user id, org id)."""
    with session_scope(app.state.sessionmaker) as db:
        user, made = service.create_user_with_org(db, email=email, password=PASSWORD, org_name=org)
        return user.id, made.id


def add_member(app: FastAPI, org_id: uuid.UUID, email: str, role: str) -> uuid.UUID:
    """Make (or reuse) ``email`` a member of ``org_id`` with ``role``; the membership id."""
    with session_scope(app.state.sessionmaker) as db:
        user = service.get_user_by_email(db, email)
        if user is None:
            user, _ = service.create_user_with_org(
                db, email=email, password=PASSWORD, org_name=f"{email} own"
            )
        membership = Membership(user_id=user.id, org_id=org_id, role=role)
        db.add(membership)
        db.flush()
        return membership.id


def org_of(app: FastAPI, email: str, name: str) -> uuid.UUID:
    with session_scope(app.state.sessionmaker) as db:
        org_id = db.scalar(
            select(Organisation.id)
            .join(Membership, Membership.org_id == Organisation.id)
            .join(User, User.id == Membership.user_id)
            .where(User.email == email, Organisation.name == name)
        )
        assert org_id is not None
        return org_id


def role_of(app: FastAPI, membership_id: uuid.UUID) -> str | None:
    with session_scope(app.state.sessionmaker) as db:
        row = db.get(Membership, membership_id)
        return row.role if row else None


def mails_to(app: FastAPI, address: str) -> list[OutgoingMail]:
    with session_scope(app.state.sessionmaker) as db:
        rows = db.scalars(
            select(OutgoingMail)
            .where(OutgoingMail.to_address == address)
            .order_by(OutgoingMail.created_at)
        )
        return list(rows)


def link_in(mail: OutgoingMail, path: str) -> str:
    """The token of the first ``http://testserver<path>/<token>`` link in ``mail``."""
    match = re.search(re.escape(f"http://testserver{path}/") + r"([A-Za-z0-9_-]+)", mail.text_body)
    assert match, mail.text_body
    return match.group(1)
