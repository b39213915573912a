"""app.jobs: jobs leave after the commit, never after a rollback, and carry ids only."""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import jobs
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.mail import OutgoingMail, queue_mail
from workers.celery_app import embedded_broker_path

Sent = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def sent() -> Sent:
    return []


@pytest.fixture
def session(sqlite_settings: Settings, sent: Sent) -> Any:
    engine = make_engine(sqlite_settings.database)
    factory = make_sessionmaker(engine)
    # The seam: a sender that records instead of publishing to a broker.
    factory.configure(info=jobs.sender_info(lambda name, kwargs: sent.append((name, kwargs))))
    with factory() as s:
        yield s
    engine.dispose()


def test_enqueue_sends_only_after_commit(session: Session, sent: Sent) -> None:
    mail = queue_mail(session, to="ada@example.com", subject="Hi", text="Hello")
    assert sent == []
    assert [job.name for job in jobs.pending(session)] == ["mail.deliver"]
    session.flush()
    assert sent == []
    session.commit()
    assert sent == [("mail.deliver", {"mail_id": str(mail.id)})]
    assert jobs.pending(session) == []
    session.commit()
    assert len(sent) == 1, "a job is sent once, not at every later commit"


def test_rollback_drops_the_jobs(session: Session, sent: Sent) -> None:
    queue_mail(session, to="ada@example.com", subject="Hi", text="Hello")
    session.rollback()
    session.commit()
    assert sent == []
    assert session.scalars(select(OutgoingMail)).all() == []


def test_a_rolled_back_savepoint_drops_only_its_own_jobs(session: Session, sent: Sent) -> None:
    outer = queue_mail(session, to="a@example.com", subject="outer", text="x")
    savepoint = session.begin_nested()
    queue_mail(session, to="b@example.com", subject="inner", text="y")
    savepoint.rollback()
    kept = session.begin_nested()
    third = queue_mail(session, to="c@example.com", subject="kept", text="z")
    kept.commit()
    session.commit()
    assert sent == [
        ("mail.deliver", {"mail_id": str(outer.id)}),
        ("mail.deliver", {"mail_id": str(third.id)}),
    ]


def test_a_failing_sender_does_not_undo_the_commit(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings.database)
    factory = make_sessionmaker(engine)

    def broken(name: str, kwargs: dict[str, Any]) -> None:
        raise ConnectionError("broker down")

    factory.configure(info=jobs.sender_info(broken))
    with factory() as s:
        queue_mail(s, to="ada@example.com", subject="Hi", text="Hello")
        s.commit()
    with factory() as s:
        assert len(s.scalars(select(OutgoingMail)).all()) == 1
    engine.dispose()


@pytest.mark.parametrize(
    "value",
    [
        {"a": 1},
        [1, 2],
        1.5,
        b"bytes",
        True,
        None,
        "ada@example.com",
        "two words",
        "x" * 101,
        object(),
        Path("/etc/passwd"),
    ],
)
def test_job_arguments_must_be_ids(session: Session, value: object) -> None:
    with pytest.raises(jobs.JobArgumentError):
        jobs.enqueue(session, "mail.deliver", mail_id=value)
    assert jobs.pending(session) == []


def test_ids_are_accepted_and_uuids_become_strings(session: Session, sent: Sent) -> None:
    ident = uuid.uuid4()
    jobs.enqueue(session, "scans.run", run_id=ident, attempt=3, period="2026-W48")
    session.commit()
    assert sent == [("scans.run", {"run_id": str(ident), "attempt": 3, "period": "2026-W48"})]
    json.dumps(sent)


@pytest.mark.parametrize("name", ["deliver", "Mail.Deliver", "mail.deliver()", "", "a.b.c"])
def test_task_names_are_domain_dot_verb(session: Session, name: str) -> None:
    with pytest.raises(jobs.JobArgumentError):
        jobs.enqueue(session, name, mail_id=1)


def test_jobs_reach_the_embedded_broker_only_after_commit(sqlite_settings: Settings) -> None:
    engine = make_engine(sqlite_settings.database)
    factory = make_sessionmaker(engine)
    jobs.attach(factory, sqlite_settings)
    broker = embedded_broker_path(sqlite_settings)
    try:
        with factory() as s:
            queue_mail(s, to="gone@example.com", subject="rolled back", text="x")
            s.rollback()
        assert _broker_tasks(broker) == []
        with factory() as s:
            mail = queue_mail(s, to="ada@example.com", subject="Hi", text="Hello")
            assert _broker_tasks(broker) == []
            s.commit()
        assert _broker_tasks(broker) == [("mail", "mail.deliver", {"mail_id": str(mail.id)})]
    finally:
        engine.dispose()


def _broker_tasks(path: Path) -> list[tuple[str, str, dict[str, Any]]]:
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT q.name, m.payload FROM kombu_message m JOIN kombu_queue q ON q.id = m.queue_id"
        ).fetchall()
    found = []
    for queue, payload in rows:
        message = json.loads(payload)
        body = json.loads(base64.b64decode(message["body"]))
        assert message["content-type"] == "application/json"
        found.append((queue, message["headers"]["task"], body[1]))
    return found
