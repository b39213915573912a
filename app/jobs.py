"""Enqueue after commit: background jobs leave only once the data they point at is saved.

``enqueue(session, "mail.deliver", mail_id=mail.id)`` records the job on the session; when the
session's transaction commits, the job is sent to the broker by task name. A rollback — of the
whole transaction, or of the savepoint the job was recorded in — drops it, so a worker never
looks for a row that was not saved, and a failed request sends nothing.

Arguments are ids only (UUIDs, integers, short id-like strings): tasks load what they need
from the database, so no secret or personal data ever sits in the broker (SECURITY.md 5).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from app.config import Settings, get_settings

log = logging.getLogger("leftover.jobs")

TASK_NAME = re.compile(r"\A[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")
KWARG_NAME = re.compile(r"\A[a-z][a-z0-9_]*\Z")
ID_STRING = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}\Z")

_PENDING = "leftover.jobs.pending"
SENDER_KEY = "leftover.jobs.sender"
SETTINGS_KEY = "leftover.jobs.settings"

JobValue = str | int
Sender = Callable[[str, dict[str, JobValue]], None]


class JobArgumentError(TypeError):
    """A job was given something other than ids, or a malformed task name."""


@dataclass(frozen=True)
class Job:
    name: str
    kwargs: dict[str, JobValue]
    transaction: SessionTransaction | None


def enqueue(session: Session, task_name: str, **kwargs: object) -> Job:
    """Send ``task_name(**kwargs)`` once ``session`` commits; nothing if it rolls back."""
    job = Job(
        name=_checked_name(task_name),
        kwargs={key: _id_value(key, value) for key, value in kwargs.items()},
        transaction=session.get_nested_transaction() or session.get_transaction(),
    )
    session.info.setdefault(_PENDING, []).append(job)
    return job


def pending(session: Session) -> list[Job]:
    """Jobs recorded on ``session`` and not yet sent (for tests and debugging)."""
    return list(session.info.get(_PENDING, ()))


def attach(factory: sessionmaker[Session], settings: Settings) -> None:
    """Make every session of ``factory`` send its jobs to the broker of ``settings``."""
    info = dict(factory.kw.get("info") or {})
    info[SETTINGS_KEY] = settings
    factory.configure(info=info)


def celery_sender(settings: Settings) -> Sender:
    """A sender that publishes by task name to the Celery broker of ``settings``."""

    def send(name: str, kwargs: dict[str, JobValue]) -> None:
        from workers.celery_app import celery_for

        celery_for(settings).send_task(name, kwargs=kwargs)

    return send


def _sender(session: Session) -> Sender:
    sender: Sender | None = session.info.get(SENDER_KEY)
    if sender is not None:
        return sender
    settings: Settings = session.info.get(SETTINGS_KEY) or get_settings()
    return celery_sender(settings)


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or not TASK_NAME.match(name):
        raise JobArgumentError(f"task names look like 'domain.verb', not {name!r}")
    return name


def _id_value(key: str, value: object) -> JobValue:
    if not KWARG_NAME.match(key):
        raise JobArgumentError(f"job argument name {key!r} is not a plain identifier")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bool) or value is None:
        raise JobArgumentError(f"job argument {key!r} must be an id, not {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and ID_STRING.match(value):
        return value
    raise JobArgumentError(
        f"job argument {key!r} must be an id (a UUID, an integer or a short id string), "
        f"not {type(value).__name__}"
    )


def _inside(job: Job, ended: SessionTransaction) -> bool:
    txn = job.transaction
    if txn is None:
        return ended.parent is None
    while txn is not None:
        if txn is ended:
            return True
        txn = txn.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    jobs: list[Job] | None = session.info.get(_PENDING)
    if not jobs:
        return
    if previous_transaction.parent is None and not previous_transaction.nested:
        jobs.clear()
        return
    jobs[:] = [job for job in jobs if not _inside(job, previous_transaction)]


@event.listens_for(Session, "after_commit")
def _send_committed(session: Session) -> None:
    jobs: list[Job] | None = session.info.get(_PENDING)
    if not jobs:
        return
    batch = list(jobs)
    jobs.clear()
    send = _sender(session)
    for job in batch:
        try:
            send(job.name, dict(job.kwargs))
        except Exception:
            # The data is saved; the periodic sweeps pick up whatever this job was for.
            log.exception("could not send job %s after commit", job.name)


def sender_info(sender: Sender) -> dict[str, Any]:
    """Session ``info`` that routes jobs to ``sender`` (a test's or a CLI's own)."""
    return {SENDER_KEY: sender}
