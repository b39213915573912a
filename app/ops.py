"""The operator subcommands: serve, worker, beat, migrate, run, create-user.

``leftover run`` is the embedded all-in-one behind ``make run``: it applies the migrations, then
starts the web server, a Celery worker and Celery beat as child processes, and stops them all
on Ctrl-C (or when any one of them dies). With ``LEFTOVER_DATABASE_URL`` and
``LEFTOVER_REDIS_URL`` set, the same processes run on PostgreSQL and Redis; in production they
are usually started one per container (``serve``, ``worker``, ``beat``, ``migrate`` once).
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
STOP_GRACE = 20.0  # seconds a child may take to stop before it is killed
READY_TIMEOUT = 60.0


class OpsInputError(Exception):
    """Bad operator input: the CLI prints this line and exits 2."""


def load_settings() -> Settings:
    """The settings from the environment; a readable error (never the values) when invalid."""
    from pydantic import ValidationError

    from app.config import SettingsError, get_settings

    try:
        settings = get_settings()
    except ValidationError as exc:
        # Never str(exc): pydantic would print every input value, secrets included.
        problems = [
            (f"LEFTOVER_{str(err['loc'][0]).upper()}: " if err["loc"] else "")
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors(include_input=False, include_url=False)
        ]
        raise OpsInputError(f"configuration: {'; '.join(problems)}") from None
    except SettingsError as exc:
        raise OpsInputError(f"configuration: {exc}") from None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


# --- serve -------------------------------------------------------------------------------------


def add_serve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--workers", type=int, default=1, help="web worker processes (default 1)")
    p.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        default=None,
        help="proxies whose X-Forwarded-* headers are trusted (comma-separated; default "
        "$FORWARDED_ALLOW_IPS or 127.0.0.1)",
    )


def run_serve(args: argparse.Namespace) -> int:
    """Serve the web app with uvicorn (scans never run here: they are worker jobs)."""
    import uvicorn

    load_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # X-Forwarded-For/-Proto are believed only from these proxies (uvicorn's default:
        # $FORWARDED_ALLOW_IPS, else 127.0.0.1); sign-in throttling counts per client address.
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
        log_level="info",
    )
    return 0


# --- worker and beat ---------------------------------------------------------------------------


def add_worker_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--queues", default="default,mail,scans", help="queues to consume (default: all three)"
    )
    p.add_argument("--concurrency", type=int, default=2, help="task processes (default 2)")
    p.add_argument("--loglevel", default="info", help="celery log level (default info)")


def run_worker(args: argparse.Namespace) -> int:
    """A Celery worker on the configured broker (Redis, or the embedded SQLite broker)."""
    from workers.celery_app import celery_for, uses_embedded_broker

    settings = load_settings()
    argv = [
        "worker",
        "--queues",
        args.queues,
        "--concurrency",
        str(args.concurrency),
        "--loglevel",
        args.loglevel,
        "--hostname",
        f"leftover@{socket.gethostname()}.{os.getpid()}",
    ]
    if uses_embedded_broker(settings):
        argv += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    celery_for(settings).worker_main(argv=argv)
    return 0


def add_beat_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--loglevel", default="info", help="celery log level (default info)")


def run_beat(args: argparse.Namespace) -> int:
    """Celery beat: sends the periodic housekeeping jobs. Run exactly one."""
    from workers.celery_app import celery_for

    settings = load_settings()
    celery_for(settings).start(argv=["beat", "--loglevel", args.loglevel])
    return 0


# --- migrate -----------------------------------------------------------------------------------


def add_migrate_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--revision", default="head", help="target revision (default head)")


def migrate(settings: Settings, revision: str = "head") -> None:
    """Bring the database of ``settings`` to ``revision`` with Alembic."""
    from alembic import command
    from alembic.config import Config

    if not (MIGRATIONS_DIR / "env.py").exists():
        raise OpsInputError(f"no migrations found at {MIGRATIONS_DIR}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["url"] = settings.database
    command.upgrade(config, revision)


def run_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    migrate(settings, args.revision)
    print(f"database is up to date ({_describe_db(settings)})", file=sys.stderr)
    return 0


# --- run ---------------------------------------------------------------------------------------


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--concurrency", type=int, default=2, help="worker task processes (default 2)")


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]


class _Stop(Exception):
    pass


def run_all(args: argparse.Namespace) -> int:
    """Migrate, start web + worker + beat, and stop them all together."""
    from workers.celery_app import uses_embedded_broker

    settings = load_settings()
    migrate(settings)
    url = f"http://{_url_host(args.host)}:{args.port}"
    me = [sys.executable, "-m", "app.cli"]
    commands = {
        "web": [*me, "serve", "--host", args.host, "--port", str(args.port)],
        "worker": [*me, "worker", "--concurrency", str(args.concurrency)],
        "beat": [*me, "beat"],
    }
    env = dict(os.environ)
    if "base_url" not in settings.model_fields_set:
        # Links in mail must point at this server, whatever --port says.
        env["LEFTOVER_BASE_URL"] = url
    stopping: list[int] = []

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)
        raise _Stop

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[Child] = []
    status = 0
    try:
        for name, argv in commands.items():
            children.append(Child(name, _spawn(argv, env)))
        _wait_ready(args.host, args.port, children)
        _banner(sys.stderr, url=url, settings=settings, embedded=uses_embedded_broker(settings))
        while True:
            for child in children:
                code = child.process.poll()
                if code is not None:
                    print(
                        f"leftover: {child.name} exited with status {code}; stopping the rest",
                        file=sys.stderr,
                    )
                    status = 1
                    raise _Stop
            time.sleep(0.3)
    except _Stop:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        with _signals_ignored():
            _stop_all(children)
    if stopping:
        print("leftover: stopped", file=sys.stderr)
    return status


def _spawn(argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # Own session: Ctrl-C reaches only this supervisor, which stops the children in order.
    # On Linux a child also gets SIGTERM if the supervisor itself is killed outright.
    return subprocess.Popen(argv, env=env, start_new_session=True, preexec_fn=_die_with_parent)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_ready(host: str, port: int, children: list[Child]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)  # noqa: S104
    while time.monotonic() < deadline:
        if any(child.process.poll() is not None for child in children):
            return  # the main loop reports it
        with contextlib.suppress(OSError), socket.create_connection((target, port), timeout=0.5):
            return
        time.sleep(0.2)


def _stop_all(children: list[Child]) -> None:
    for child in children:
        if child.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE
    for child in children:
        remaining = max(deadline - time.monotonic(), 0.1)
        try:
            child.process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            print(f"leftover: {child.name} did not stop in time; killing it", file=sys.stderr)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


@contextlib.contextmanager
def _signals_ignored() -> Any:
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", ""):  # noqa: S104
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _describe_db(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.database)
    if url.get_backend_name() == "sqlite":
        return f"SQLite {url.database}"
    return url.render_as_string(hide_password=True)


def _banner(stream: IO[str], *, url: str, settings: Settings, embedded: bool) -> None:
    broker = "embedded broker (no server)" if embedded else "Redis"
    lines = [
        "",
        f"  Leftover is running at {url}   (Ctrl-C stops it)",
        f"  data: {_describe_db(settings)}, {broker}",
    ]
    if settings.local and not settings.smtp_host:
        lines.append(f"  mail: not sent in local mode; read it at {url}/dev/outbox")
    elif settings.smtp_host:
        lines.append(f"  mail: sent through {settings.smtp_host}:{settings.smtp_port}")
    print("\n".join([*lines, ""]), file=stream, flush=True)


# --- create-user -------------------------------------------------------------------------------


def add_create_user_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--email", required=True, help="the new user's email address")
    p.add_argument("--org", required=True, metavar="NAME", help="name of their organisation")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input instead of prompting",
    )


def run_create_user(args: argparse.Namespace) -> int:
    """Create a user who owns a new organisation (for operators; no email is sent)."""
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from app.security import password_problem

    password = _read_password(args.password_stdin)
    problem = password_problem(password)
    if problem:
        raise OpsInputError(f"password refused: {problem}")
    org_name = args.org.strip()
    if not org_name:
        raise OpsInputError("--org must not be empty")
    settings = load_settings()
    try:
        user_id, org_id = _create_user(settings, email=args.email, password=password, org=org_name)
    except (OperationalError, ProgrammingError) as exc:
        if "no such table" in str(exc) or "does not exist" in str(exc):
            raise OpsInputError(
                "the database has no tables yet: run `leftover migrate` first"
            ) from None
        raise
    print(
        f"created {args.email.strip().lower()} (user {user_id}) owning {org_name!r} (org {org_id})"
    )
    return 0


def _create_user(settings: Settings, *, email: str, password: str, org: str) -> tuple[str, str]:
    from app.accounts import service
    from app.db import make_engine, make_sessionmaker, session_scope

    engine = make_engine(settings.database)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            try:
                user, organisation = service.create_user_with_org(
                    session, email=email, password=password, org_name=org
                )
            except ValueError as exc:
                raise OpsInputError(str(exc)) from None
            return str(user.id), str(organisation.id)
    finally:
        engine.dispose()


def add_no_arguments(p: argparse.ArgumentParser) -> None:
    """Commands that take no options."""


def run_new_key(args: argparse.Namespace) -> int:
    """Print a fresh encryption key for LEFTOVER_ENCRYPTION_KEYS."""
    from app.crypto import new_key

    print(new_key())
    return 0


def run_rotate_keys(args: argparse.Namespace) -> int:
    """Re-encrypt every stored credential with the newest key of LEFTOVER_ENCRYPTION_KEYS."""
    from app.clouds.service import reencrypt_secrets
    from app.crypto import DecryptionFailed
    from app.db import make_engine, make_sessionmaker, session_scope

    settings = load_settings()
    engine = make_engine(settings.database)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            changed, current = reencrypt_secrets(session, key_ring=settings.key_ring())
    except DecryptionFailed as exc:
        raise OpsInputError(
            f"a stored credential could not be decrypted ({exc}); keep the old key in "
            "LEFTOVER_ENCRYPTION_KEYS (after the new one) until rotation has run"
        ) from None
    finally:
        engine.dispose()
    print(f"re-encrypted {changed} credentials with the newest key; {current} already used it")
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise OpsInputError("--password-stdin: nothing on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise OpsInputError("no terminal to ask for the password; use --password-stdin")
    first = getpass.getpass("Password: ")
    second = getpass.getpass("Password (again): ")
    if first != second:
        raise OpsInputError("the two passwords differ")
    return first
