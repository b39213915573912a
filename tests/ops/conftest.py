"""Fixtures for the operations tests: a real SMTP sink and child processes that are always killed.

Services, databases and settings come from tests/conftest.py (one way to make each)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.ops import migrate
from tests.conftest import REPO, free_port, make_settings


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    made = make_settings(tmp_path)
    migrate(made)
    return made


@pytest.fixture
def factory(settings: Settings) -> Iterator[Any]:
    engine = make_engine(settings.database)
    yield make_sessionmaker(engine)
    engine.dispose()


# --- SMTP sink -----------------------------------------------------------------------------


@dataclass
class Sink:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.1)
        return len(self.messages) >= count


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.sink.refuse:
            return self.sink.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.sink.envelopes.append(envelope)
        self.sink.messages.append(message_from_bytes(content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """A real SMTP server on 127.0.0.1 (random port) that keeps what it receives."""
    sink = Sink(host="127.0.0.1", port=free_port())
    controller = Controller(_Handler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


# --- child processes -------------------------------------------------------------------------


def child_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment a child process needs to see ``settings`` (and nothing from .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEFTOVER_")}
    env.update(
        LEFTOVER_MODE=settings.mode,
        LEFTOVER_DATA_DIR=str(settings.data_dir),
        LEFTOVER_DATABASE_URL=settings.database,
        LEFTOVER_SECRET_KEY=settings.secret_key.get_secret_value(),
        PYTHONUNBUFFERED="1",
    )
    if settings.redis_url:
        env["LEFTOVER_REDIS_URL"] = settings.redis_url
    if settings.encryption_keys.get_secret_value():
        env["LEFTOVER_ENCRYPTION_KEYS"] = settings.encryption_keys.get_secret_value()
    if settings.smtp_host:
        env.update(
            LEFTOVER_SMTP_HOST=settings.smtp_host,
            LEFTOVER_SMTP_PORT=str(settings.smtp_port),
            LEFTOVER_SMTP_STARTTLS=str(settings.smtp_starttls).lower(),
        )
    env.update(extra)
    return env


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``leftover <args>`` as a child with its own process group; all are killed after."""
    started: list[subprocess.Popen[bytes]] = []

    def start(args: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / log_name).open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop(proc, timeout=20)


def stop(proc: subprocess.Popen[bytes], *, timeout: float, sig: int = signal.SIGTERM) -> int:
    """Signal ``proc``, wait, and kill its whole group if it does not stop in time."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=10)


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
