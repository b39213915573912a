"""The operator commands as an operator runs them: separate processes, real databases."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect, select

from app.accounts.models import Membership, Organisation, User
from app.config import Settings
from app.db import make_engine, make_sessionmaker, session_scope
from app.security import verify_password
from tests.conftest import REPO, free_port, make_settings
from tests.ops.conftest import child_env, stop, wait_until

PASSWORD = "correct horse battery staple"


def leftover(
    args: list[str], settings: Settings, *, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=settings.data_dir,
        env={**child_env(settings), "PYTHONPATH": str(REPO)},
        timeout=timeout,
        check=False,
    )


def test_migrate_creates_the_tables(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    result = leftover(["migrate"], settings)
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stderr
    engine = make_engine(settings.database)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"users", "organisations", "memberships", "outgoing_mail", "alembic_version"} <= tables
    assert leftover(["migrate"], settings).returncode == 0, "running it again changes nothing"


def test_create_user_with_password_on_stdin(settings: Settings) -> None:
    email = f"ada-{os.getpid()}-{time.monotonic_ns()}@example.com"
    result = leftover(
        ["create-user", "--email", f"  {email.upper()} ", "--org", "Acme"],
        settings,
        stdin="\n",
    )
    assert result.returncode == 2, "without --password-stdin and no terminal it refuses"
    assert "--password-stdin" in result.stderr

    result = leftover(
        ["create-user", "--email", email.upper(), "--org", "Acme", "--password-stdin"],
        settings,
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 0, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    engine = make_engine(settings.database)
    try:
        with make_sessionmaker(engine)() as session:
            user = session.scalar(select(User).where(User.email == email))
            assert user is not None
            assert verify_password(user.password_hash, PASSWORD)
            assert user.email_verified
            membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
            assert membership is not None
            assert membership.role == "owner"
            org = session.get(Organisation, membership.org_id)
            assert org is not None
            assert org.name == "Acme"
    finally:
        engine.dispose()

    again = leftover(
        ["create-user", "--email", email, "--org", "Other", "--password-stdin"],
        settings,
        stdin=PASSWORD + "\n",
    )
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert "Traceback" not in again.stderr


@pytest.mark.parametrize(
    ("args", "password", "says"),
    [
        (["--email", "not-an-email", "--org", "Acme"], PASSWORD, "email"),
        (["--email", "bob@example.com", "--org", "Acme"], "short", "at least"),
        (["--email", "bob@example.com", "--org", "   "], PASSWORD, "org"),
        (["--email", "bob@example.com"], PASSWORD, "--org"),
    ],
)
def test_create_user_refuses_bad_input(
    sqlite_settings: Settings, args: list[str], password: str, says: str
) -> None:
    result = leftover(
        ["create-user", *args, "--password-stdin"], sqlite_settings, stdin=password + "\n"
    )
    assert result.returncode == 2, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, "one line"


def test_create_user_before_migrate_says_what_to_do(tmp_path: Path) -> None:
    result = leftover(
        ["create-user", "--email", "ada@example.com", "--org", "Acme", "--password-stdin"],
        make_settings(tmp_path),
        stdin=PASSWORD + "\n",
    )
    assert result.returncode == 2
    assert "leftover migrate" in result.stderr


def test_a_bad_configuration_is_one_line_without_secrets(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    for command in (["migrate"], ["worker"], ["serve"], ["run"]):
        result = subprocess.run(
            [sys.executable, "-m", "app.cli", *command],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={
                **child_env(settings),
                "PYTHONPATH": str(REPO),
                "LEFTOVER_MODE": "production",
                "LEFTOVER_SECRET_KEY": "change-me",
                "LEFTOVER_SMTP_PASSWORD": "hunter2-do-not-print",
            },
            timeout=60,
            check=False,
        )
        assert result.returncode == 2, result.stderr
        assert "LEFTOVER_SECRET_KEY must be set" in result.stderr
        assert "hunter2" not in result.stderr + result.stdout
        assert result.stderr.count("\n") == 1


# --- leftover run ----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(p) for p in task.read_text().split()]
    return found


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def _get(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_run_serves_the_app_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    port = free_port()
    assert leftover(["migrate"], settings).returncode == 0
    created = leftover(
        ["create-user", "--email", "ada@example.com", "--org", "Acme", "--password-stdin"],
        settings,
        stdin=PASSWORD + "\n",
    )
    assert created.returncode == 0, created.stderr
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--port", str(port), "--concurrency", "1"],
            cwd=tmp_path,
            env={**child_env(settings), "PYTHONPATH": str(REPO)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    children: list[int] = []
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: "running at" in log_path.read_text(), timeout=90), (
            log_path.read_text()[-3000:]
        )
        output = log_path.read_text()
        assert f"running at {url}" in output
        assert f"{url}/dev/outbox" in output
        assert (tmp_path / "leftover.db").exists(), "migrated before starting"
        assert _get(f"{url}/signin") == 200 or _get(f"{url}/") in (200, 303)
        assert _get(f"{url}/dev/outbox") == 200
        children = _children(proc.pid)
        assert len(children) == 3, output[-3000:]
        _reset_link_reaches_the_outbox(url, tmp_path)

        os.kill(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground process
        assert proc.wait(timeout=60) == 0, log_path.read_text()[-3000:]
        assert wait_until(lambda: not any(_alive(pid) for pid in children), timeout=10)
        assert "stopped" in log_path.read_text()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
    finally:
        stop(proc, timeout=5)
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def _reset_link_reaches_the_outbox(url: str, data_dir: Path) -> None:
    """Forgot password in the browser -> worker delivers -> /dev/outbox -> the link works."""
    with httpx.Client(base_url=url, timeout=10) as client:
        page = client.get("/password/forgot")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:2000]
        sent = client.post(
            "/password/forgot", data={"email": "ada@example.com", "csrf_token": token.group(1)}
        )
        assert sent.status_code == 200, sent.text[:2000]

        def delivered() -> bool:
            return any((data_dir / "outbox").glob("*.eml"))

        assert wait_until(delivered, timeout=60), "the worker wrote the message to the outbox"
        listing = client.get("/dev/outbox")
        ids = re.findall(r'href="/dev/outbox/([0-9a-f-]{36})"', listing.text)
        assert len(ids) == 1, listing.text[-2000:]
        message = client.get(f"/dev/outbox/{ids[0]}").text
        link = re.search(rf'<a href="({re.escape(url)}/password/reset/[^"]+)"', message)
        assert link, message[-2000:]
        assert client.get(link.group(1)).status_code == 200


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_run_stops_everything_when_a_process_dies(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--port", str(port), "--concurrency", "1"],
            cwd=tmp_path,
            env={**child_env(settings), "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = proc.communicate(timeout=90)
        finally:
            stop(proc, timeout=5)
    text = output.decode(errors="replace")
    assert proc.returncode == 1, text[-3000:]
    assert "web exited" in text


def test_rotate_keys_reencrypts_credentials_with_the_newest_key(tmp_path: Path) -> None:
    from app.clouds.models import CloudAccount
    from app.clouds.service import decrypt_secret, encrypt_secret
    from app.crypto import LocalKeyRing, new_key, parse_keys

    old, new = new_key(), new_key()
    settings = make_settings(tmp_path, encryption_keys=old)
    assert leftover(["migrate"], settings).returncode == 0
    engine = make_engine(settings.database)
    factory = make_sessionmaker(engine)
    try:
        with session_scope(factory) as session:
            org = Organisation(name="Acme")
            session.add(org)
            session.flush()
            account = CloudAccount(org_id=org.id, provider="azure", name="prod", config={})
            encrypt_secret(account, {"client_secret": "s3cret"}, key_ring=settings.key_ring())
            session.add(account)
        before = account.secret_ciphertext
        rotated = make_settings(tmp_path, encryption_keys=f"{new},{old}")
        result = leftover(["rotate-keys"], rotated)
        assert result.returncode == 0, result.stderr
        assert "re-encrypted 1 credentials" in result.stdout
        assert "s3cret" not in result.stdout + result.stderr
        with factory() as session:
            row = session.get_one(CloudAccount, account.id)
            assert row.secret_ciphertext != before
            only_new = LocalKeyRing(parse_keys(new))
            assert decrypt_secret(row, key_ring=only_new) == {"client_secret": "s3cret"}
        again = leftover(["rotate-keys"], rotated)
        assert "re-encrypted 0 credentials" in again.stdout
        assert "1 already used it" in again.stdout
        lost = leftover(["rotate-keys"], make_settings(tmp_path, encryption_keys=new_key()))
        assert lost.returncode == 2
        assert "could not be decrypted" in lost.stderr
    finally:
        engine.dispose()


def test_new_key_prints_a_usable_key(tmp_path: Path) -> None:
    from app.crypto import parse_keys

    result = leftover(["new-key"], make_settings(tmp_path))
    assert result.returncode == 0
    assert len(parse_keys(result.stdout.strip())) == 1
