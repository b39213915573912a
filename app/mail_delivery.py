"""Deliver one OutgoingMail row: through SMTP, or into the local outbox folder.

SMTP is used whenever ``LEFTOVER_SMTP_HOST`` is set (implicit TLS with ``smtp_ssl``, else
STARTTLS unless ``smtp_starttls`` is off; login when a username is set). Without SMTP, local
mode writes an ``.eml`` file to ``<data_dir>/outbox`` so reset and invitation links work on a
laptop (they are also listed at /dev/outbox); production refuses to deliver and says why.

Idempotent: a sent message is never sent again. Before talking to the server a delivery claims
the row (one conditional UPDATE), so two workers handed the same job cannot both send it; a
claim older than ``CLAIM_LEASE`` is considered abandoned (the worker died) and may be taken
over. A crash between the server accepting the message and ``sent_at`` being saved can still
send it twice — at-least-once, as SMTP itself is.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope, utcnow
from app.mail import OutgoingMail

log = logging.getLogger("leftover.mail")

SMTP_TIMEOUT = 30  # seconds, per connection and command
CLAIM_LEASE = timedelta(minutes=5)  # well above SMTP_TIMEOUT × the commands of one delivery
IN_FLIGHT = "delivery in progress"
MAX_ERROR_LENGTH = 2000
MAX_ATTEMPTS = 10  # the periodic sweep stops re-queuing a message after this many
SWEEP_QUIET = timedelta(minutes=5)  # untouched this long and unsent: the sweep re-queues it
SWEEP_HORIZON = timedelta(days=3)  # older unsent mail is left alone (the link has expired)


class Outcome(StrEnum):
    sent = "sent"
    already_sent = "already_sent"
    missing = "missing"  # the row is gone: nothing to do
    busy = "busy"  # another delivery holds the claim
    transient = "transient"  # worth retrying later
    failed = "failed"  # retrying will not help until someone changes something


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    error: str | None = None


class DeliveryError(Exception):
    """Delivery did not happen; ``transient`` says whether retrying may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def deliver(
    factory: sessionmaker[Session], mail_id: uuid.UUID | str, settings: Settings
) -> Delivery:
    """Send the message ``mail_id`` once; record the attempt, the error or the time it was sent."""
    ident = mail_id if isinstance(mail_id, uuid.UUID) else _parse_id(mail_id)
    if ident is None:
        return Delivery(Outcome.missing)
    claimed = _claim(factory, ident)
    if isinstance(claimed, Delivery):
        return claimed
    try:
        _transmit(claimed, settings)
    except DeliveryError as exc:
        _record_failure(factory, ident, str(exc))
        return Delivery(Outcome.transient if exc.transient else Outcome.failed, str(exc))
    except Exception as exc:
        _record_failure(factory, ident, f"{type(exc).__name__}: {exc}")
        raise
    with session_scope(factory) as session:
        session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == ident)
            .values(sent_at=utcnow(), last_error=None, updated_at=utcnow())
        )
    log.info("mail %s delivered to %s", ident, _mask(claimed.to_address))
    return Delivery(Outcome.sent)


def build_message(mail: OutgoingMail, settings: Settings) -> EmailMessage:
    """The RFC 5322 message for ``mail`` (text, plus an HTML alternative when there is one)."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.created_at)
    # Stable per row, so a receiving server can recognise a repeated delivery.
    message["Message-ID"] = f"<{mail.id}@{_mail_domain(settings)}>"
    message.set_content(mail.text_body)
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
    return message


def outbox_file(settings: Settings, mail: OutgoingMail) -> Path:
    """Where local mode writes ``mail`` (sortable by creation time)."""
    stamp = mail.created_at.strftime("%Y%m%dT%H%M%S")
    return settings.outbox_dir / f"{stamp}-{mail.id}.eml"


def transient_smtp_error(exc: BaseException) -> bool:
    """Whether retrying may help: connection trouble and 4xx replies, not 5xx or bad config."""
    if isinstance(exc, smtplib.SMTPNotSupportedError | smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


# --- internals ---------------------------------------------------------------------------------


def _parse_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _claim(factory: sessionmaker[Session], ident: uuid.UUID) -> OutgoingMail | Delivery:
    with session_scope(factory) as session:
        mail = session.get(OutgoingMail, ident)
        if mail is None:
            return Delivery(Outcome.missing)
        if mail.sent_at is not None:
            return Delivery(Outcome.already_sent)
        now = utcnow()
        claimed = session.execute(
            update(OutgoingMail)
            .where(
                OutgoingMail.id == ident,
                OutgoingMail.sent_at.is_(None),
                OutgoingMail.attempts == mail.attempts,
                or_(
                    OutgoingMail.last_error.is_(None),
                    OutgoingMail.last_error != IN_FLIGHT,
                    OutgoingMail.updated_at < now - CLAIM_LEASE,
                ),
            )
            .values(attempts=mail.attempts + 1, last_error=IN_FLIGHT, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return Delivery(Outcome.busy)
        session.expunge(mail)
        return mail


def _record_failure(factory: sessionmaker[Session], ident: uuid.UUID, error: str) -> None:
    log.warning("mail %s not delivered: %s", ident, error)
    with session_scope(factory) as session:
        session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == ident, OutgoingMail.sent_at.is_(None))
            .values(last_error=error[:MAX_ERROR_LENGTH], updated_at=utcnow())
        )


def _transmit(mail: OutgoingMail, settings: Settings) -> None:
    message = build_message(mail, settings)
    if settings.smtp_host:
        _send_smtp(message, settings)
    elif settings.local:
        _write_outbox(message, outbox_file(settings, mail))
    else:
        raise DeliveryError(
            "no mail server configured: set LEFTOVER_SMTP_HOST (and LEFTOVER_SMTP_USERNAME, "
            "LEFTOVER_SMTP_PASSWORD)",
            transient=False,
        )


def _send_smtp(message: EmailMessage, settings: Settings) -> None:
    host = settings.smtp_host or ""
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if settings.smtp_ssl:
            smtp = smtplib.SMTP_SSL(host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(host, settings.smtp_port, timeout=SMTP_TIMEOUT)
        with smtp:
            smtp.ehlo()
            if not settings.smtp_ssl and settings.smtp_starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.smtp_username:
                password = (
                    settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                )
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            f"SMTP {host}:{settings.smtp_port}: {_describe(exc)}",
            transient=transient_smtp_error(exc),
        ) from exc


def _write_outbox(message: EmailMessage, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(message.as_bytes())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DeliveryError(f"cannot write {path}: {exc.strerror or exc}", transient=True) from exc


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        return f"{exc.smtp_code} {text}".strip()
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "recipient refused: " + "; ".join(
            f"{code} {msg.decode(errors='replace')}" for code, msg in exc.recipients.values()
        )
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _mail_domain(settings: Settings) -> str:
    address = settings.mail_from.rsplit("<", 1)[-1].rstrip(">").strip()
    domain = address.rpartition("@")[2]
    return domain or "leftover.invalid"


def _mask(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}…@{domain}" if domain else "…"


def due_for_retry(session: Session, *, now: datetime, limit: int = 100) -> list[uuid.UUID]:
    """Unsent mail whose delivery job was lost or failed transiently, oldest first."""
    quiet = now - SWEEP_QUIET
    rows = session.scalars(
        select(OutgoingMail.id)
        .where(
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.attempts < MAX_ATTEMPTS,
            OutgoingMail.created_at > now - SWEEP_HORIZON,
            OutgoingMail.updated_at < quiet,
        )
        .order_by(OutgoingMail.created_at)
        .limit(limit)
    )
    return list(rows)
