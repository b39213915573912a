"""app.mail_delivery against a real SMTP server and the local outbox folder, on SQLite and
PostgreSQL: sent once, errors recorded, transient failures told apart from permanent ones."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app import jobs
from app.config import Settings
from app.db import session_scope, utcnow
from app.mail import OutgoingMail, queue_mail
from app.mail_delivery import IN_FLIGHT, Outcome, deliver, due_for_retry, outbox_file
from tests.conftest import free_port, make_settings
from tests.ops.conftest import Sink

RESET = "http://127.0.0.1:8000/password/reset/abc123"


def _queue(factory: sessionmaker[Session], to: str = "ada@example.com") -> OutgoingMail:
    factory.configure(info=jobs.sender_info(lambda name, kwargs: None))
    with session_scope(factory) as session:
        return queue_mail(
            session,
            to=to,
            subject="Reset your Leftover password",
            text=f"Open this link to choose a new password:\n{RESET}\n",
            html=f'<p><a href="{RESET}">Choose a new password</a></p>',
        )


def _row(factory: sessionmaker[Session], mail: OutgoingMail) -> OutgoingMail:
    with factory() as session:
        row = session.get(OutgoingMail, mail.id)
        assert row is not None
        return row


def _smtp(settings: Settings, sink: Sink, **values: Any) -> Settings:
    return make_settings(
        settings.data_dir,
        database_url=settings.database,
        smtp_host=sink.host,
        smtp_port=sink.port,
        smtp_starttls=False,
        mail_from="Leftover <noreply@leftover.example>",
        **values,
    )


def test_smtp_delivery_sends_once(settings: Settings, factory: Any, smtp_sink: Sink) -> None:
    mail = _queue(factory)
    smtp = _smtp(settings, smtp_sink)

    assert deliver(factory, str(mail.id), settings=smtp).outcome is Outcome.sent
    assert smtp_sink.wait_for(1, timeout=10)
    received = smtp_sink.messages[0]
    assert received["To"] == "ada@example.com"
    assert received["From"] == "Leftover <noreply@leftover.example>"
    assert received["Subject"] == "Reset your Leftover password"
    assert received["Message-ID"] == f"<{mail.id}@leftover.example>"
    parsed = email.message_from_bytes(received.as_bytes(), policy=policy.default)
    assert RESET in parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    row = _row(factory, mail)
    assert row.sent_at is not None
    assert row.attempts == 1
    assert row.last_error is None

    assert deliver(factory, mail.id, settings=smtp).outcome is Outcome.already_sent
    assert len(smtp_sink.messages) == 1
    assert not settings.outbox_dir.exists(), "SMTP mode writes no outbox files"


def test_local_mode_without_smtp_writes_eml_files(settings: Settings, factory: Any) -> None:
    mail = _queue(factory)
    assert deliver(factory, mail.id, settings=settings).outcome is Outcome.sent
    path = outbox_file(settings, _row(factory, mail))
    assert path.parent == settings.outbox_dir
    assert path.suffix == ".eml"
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert parsed["To"] == "ada@example.com"
    assert RESET in parsed.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert list(settings.outbox_dir.iterdir()) == [path], "no temporary files left behind"
    assert _row(factory, mail).sent_at is not None
    assert deliver(factory, mail.id, settings=settings).outcome is Outcome.already_sent


def test_production_without_smtp_refuses_and_says_why(settings: Settings, factory: Any) -> None:
    mail = _queue(factory)
    production = make_settings(
        settings.data_dir,
        mode="production",
        base_url="https://leftover.example",
        database_url=settings.database,
    )
    result = deliver(factory, mail.id, settings=production)
    assert result.outcome is Outcome.failed
    row = _row(factory, mail)
    assert row.sent_at is None
    assert "LEFTOVER_SMTP_HOST" in (row.last_error or "")
    assert not settings.outbox_dir.exists()


def test_a_4xx_reply_is_transient_and_a_later_attempt_sends(
    settings: Settings, factory: Any, smtp_sink: Sink
) -> None:
    mail = _queue(factory)
    smtp = _smtp(settings, smtp_sink)
    smtp_sink.refuse["ada@example.com"] = "450 Mailbox busy, try later"

    result = deliver(factory, mail.id, settings=smtp)
    assert result.outcome is Outcome.transient
    row = _row(factory, mail)
    assert row.sent_at is None
    assert row.attempts == 1
    assert "450" in (row.last_error or "")

    smtp_sink.refuse.clear()
    assert deliver(factory, mail.id, settings=smtp).outcome is Outcome.sent
    row = _row(factory, mail)
    assert (row.attempts, row.last_error) == (2, None)
    assert len(smtp_sink.messages) == 1


def test_a_5xx_reply_is_permanent(settings: Settings, factory: Any, smtp_sink: Sink) -> None:
    mail = _queue(factory, to="nobody@example.com")
    smtp_sink.refuse["nobody@example.com"] = "550 No such user"
    result = deliver(factory, mail.id, settings=_smtp(settings, smtp_sink))
    assert result.outcome is Outcome.failed
    assert "550" in (_row(factory, mail).last_error or "")


def test_an_unreachable_server_is_transient(settings: Settings, factory: Any) -> None:
    mail = _queue(factory)
    closed = make_settings(
        settings.data_dir,
        database_url=settings.database,
        smtp_host="127.0.0.1",
        smtp_port=free_port(),
        smtp_starttls=False,
    )
    assert deliver(factory, mail.id, settings=closed).outcome is Outcome.transient
    assert "ConnectionRefused" in (_row(factory, mail).last_error or "")


def test_starttls_required_but_not_offered_is_permanent(
    settings: Settings, factory: Any, smtp_sink: Sink
) -> None:
    mail = _queue(factory)
    strict = make_settings(
        settings.data_dir,
        database_url=settings.database,
        smtp_host=smtp_sink.host,
        smtp_port=smtp_sink.port,
        smtp_starttls=True,
    )
    assert deliver(factory, mail.id, settings=strict).outcome is Outcome.failed
    assert smtp_sink.messages == [], "never falls back to plain text"


def test_a_delivery_in_progress_is_not_repeated_until_its_claim_lapses(
    settings: Settings, factory: Any
) -> None:
    mail = _queue(factory)
    with session_scope(factory) as session:
        session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail.id)
            .values(attempts=1, last_error=IN_FLIGHT, updated_at=utcnow())
        )
    assert deliver(factory, mail.id, settings=settings).outcome is Outcome.busy
    assert not settings.outbox_dir.exists()

    with session_scope(factory) as session:
        session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id == mail.id)
            .values(updated_at=utcnow() - timedelta(hours=1))
        )
    assert deliver(factory, mail.id, settings=settings).outcome is Outcome.sent


@pytest.mark.parametrize("ident", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_mail_is_ignored(settings: Settings, factory: Any, ident: str) -> None:
    assert deliver(factory, ident, settings=settings).outcome is Outcome.missing


def test_the_sweep_finds_unsent_mail_left_alone(settings: Settings, factory: Any) -> None:
    waiting = _queue(factory, to="a@example.com")
    fresh = _queue(factory, to="b@example.com")
    done = _queue(factory, to="c@example.com")
    old = utcnow() - timedelta(minutes=30)
    with session_scope(factory) as session:
        session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_([waiting.id, done.id]))
            .values(created_at=old, updated_at=old)
        )
        session.execute(update(OutgoingMail).where(OutgoingMail.id == done.id).values(sent_at=old))
    with factory() as session:
        assert due_for_retry(session, now=utcnow()) == [waiting.id]
    assert fresh.id != waiting.id
