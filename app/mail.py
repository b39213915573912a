"""Outgoing mail: a row per message, delivered by the ``mail.deliver`` job after the commit.

Queuing writes the row in the caller's transaction, so a rolled-back sign-up sends nothing, and
a failed delivery is retried from the row (attempts, last_error) instead of being lost.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.db import Base, IdMixin, TimestampMixin


class OutgoingMail(IdMixin, TimestampMixin, Base):
    __tablename__ = "outgoing_mail"

    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


def queue_mail(
    session: Session, *, to: str, subject: str, text: str, html: str | None = None
) -> OutgoingMail:
    """Store a message and schedule its delivery once the surrounding transaction commits."""
    from app import jobs  # engineer "ops": the enqueue-after-commit buffer

    row = OutgoingMail(to_address=to, subject=subject, text_body=text, html_body=html)
    session.add(row)
    session.flush()
    jobs.enqueue(session, "mail.deliver", mail_id=str(row.id))
    return row
