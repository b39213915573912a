"""``leftover scan --kubeconfig`` against the fake API server, through real kubeconfig files."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from app.cli import main
from tests.cli.conftest import TOKEN, Run, write_kubeconfig
from tests.fakes.kube_api import FakeKubeAPI


def findings_of(result: Any) -> list[dict[str, Any]]:
    assert result.returncode == 0, result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)["findings"]
    return findings


def assert_no_token(result: Any, token: str = TOKEN) -> None:
    assert token not in result.stdout
    assert token not in result.stderr


def test_live_cluster_and_snapshot_give_identical_findings(
    run_cli: Run, kubeconfig: Path, snapshot_file: Path, api: FakeKubeAPI
) -> None:
    live = run_cli("scan", "--kubeconfig", str(kubeconfig), "-o", "json")
    dumped = run_cli("scan", "--snapshot", str(snapshot_file), "-o", "json")
    assert findings_of(live) == findings_of(dumped)
    assert findings_of(live)
    live_doc = json.loads(live.stdout)
    assert live_doc["summary"] == json.loads(dumped.stdout)["summary"]
    assert live_doc["cluster"]["server"] == api.url
    assert live_doc["cluster"]["name"] == "fake"
    assert live_doc["cluster"]["version"] == "v1.30.2"
    assert live.stderr == ""  # not a terminal: no progress line
    assert_no_token(live)
    # Only reads, and Secrets only as metadata.
    assert {r.method for r in api.requests} == {"GET"}
    secret_lists = [r for r in api.requests if r.path.endswith("/secrets")]
    assert secret_lists
    assert all("PartialObjectMetadata" in r.headers["accept"] for r in secret_lists)


def test_kinds_filter_still_reads_every_kind(
    capsys: pytest.CaptureFixture[str], kubeconfig: Path, api: FakeKubeAPI
) -> None:
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--kinds", "cm", "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {f["kind"] for f in doc["findings"]} == {"ConfigMap"}
    assert api.count(r"/api/v1/pods") >= 1
    assert api.count(r"/api/v1/persistentvolumes") >= 1


def test_live_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, kubeconfig: Path
) -> None:
    monkeypatch.setenv("COLUMNS", "140")
    assert main(["scan", "--kubeconfig", str(kubeconfig), "--fail-on-findings"]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("Cluster fake (https://127.0.0.1:")
    assert "(cluster)" in captured.out
    assert captured.err == ""


def test_kubeconfig_flag_without_a_path_uses_KUBECONFIG(
    run_cli: Run, kubeconfig: Path, tmp_path: Path
) -> None:
    result = run_cli("scan", "--kubeconfig", "-o", "json", env={"KUBECONFIG": str(kubeconfig)})
    assert findings_of(result)


def test_context_flag_picks_a_context(run_cli: Run, tmp_path: Path, api: FakeKubeAPI) -> None:
    path = write_kubeconfig(
        tmp_path / "config", server=api.url, ca_pem=api.ca_pem, user={"token": TOKEN}
    )
    doc = json.loads(path.read_text())
    doc["clusters"].append({"name": "dead", "cluster": {"server": "https://127.0.0.1:9"}})
    doc["contexts"].append({"name": "dead", "context": {"cluster": "dead", "user": "fake-user"}})
    doc["current-context"] = "dead"
    path.write_text(json.dumps(doc))
    result = run_cli("scan", "--kubeconfig", str(path), "--context", "fake", "-o", "json")
    assert findings_of(result)


def test_exec_credential_plugin(run_cli: Run, tmp_path: Path, api: FakeKubeAPI) -> None:
    plugin = tmp_path / "get-token.py"
    plugin.write_text(
        "import json\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1beta1',\n"
        "                  'kind': 'ExecCredential',\n"
        f"                  'status': {{'token': {TOKEN!r}}}}}))\n"
    )
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(plugin)],
            "interactiveMode": "Never",
        }
    }
    path = write_kubeconfig(tmp_path / "config", server=api.url, ca_pem=api.ca_pem, user=user)
    result = run_cli("scan", "--kubeconfig", str(path), "-o", "json")
    assert findings_of(result)
    assert_no_token(result)


PLUGIN_SECRET = "hunter2-env-secret"


def test_failing_exec_plugin_exits_3_with_its_reason(
    run_cli: Run, tmp_path: Path, api: FakeKubeAPI
) -> None:
    plugin = tmp_path / "get-token.py"
    plugin.write_text(
        "import os, sys\n"
        "secret = os.environ['PLUGIN_SECRET']\n"
        "sys.stderr.write(f'SSO session expired (key {secret}); run aws sso login\\n')\n"
        "sys.exit(255)\n"
    )
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": sys.executable,
            "args": [str(plugin)],
            "env": [{"name": "PLUGIN_SECRET", "value": PLUGIN_SECRET}],
        },
    }
    path = write_kubeconfig(tmp_path / "config", server=api.url, ca_pem=api.ca_pem, user=user)
    result = run_cli("scan", "--kubeconfig", str(path))
    assert result.returncode == 3, result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("leftover: error: the credential plugin for context 'fake' failed")
    assert "process returned 255" in line
    assert "SSO session expired" in line
    assert "Traceback" not in result.stderr
    assert PLUGIN_SECRET not in line  # the kubeconfig's credentials are redacted everywhere
    assert "(key [redacted])" in line


def test_token_file(run_cli: Run, tmp_path: Path, api: FakeKubeAPI) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    path = write_kubeconfig(
        tmp_path / "config", server=api.url, ca_pem=api.ca_pem, user={"tokenFile": "token"}
    )
    result = run_cli("scan", "--kubeconfig", str(path), "-o", "json")
    assert findings_of(result)


def test_ca_and_client_certificate_files(run_cli: Run, tmp_path: Path, objects: Any) -> None:
    with FakeKubeAPI(objects, token=TOKEN, client_cert_auth=True) as api:
        cert, key = api.client_cert()
        (tmp_path / "ca.pem").write_bytes(api.ca_pem)
        (tmp_path / "client.pem").write_bytes(cert)
        (tmp_path / "client.key").write_bytes(key)
        path = write_kubeconfig(
            tmp_path / "config",
            server=api.url,
            user={"client-certificate": "client.pem", "client-key": str(tmp_path / "client.key")},
            cluster_extra={"certificate-authority": "ca.pem"},
        )
        result = run_cli("scan", "--kubeconfig", str(path), "-o", "json")
        assert findings_of(result)
        assert all("authorization" not in r.headers for r in api.requests)


def test_insecure_skip_tls_verify_is_honoured(
    run_cli: Run, tmp_path: Path, api: FakeKubeAPI
) -> None:
    trusting = write_kubeconfig(
        tmp_path / "insecure",
        server=api.url,
        user={"token": TOKEN},
        cluster_extra={"insecure-skip-tls-verify": True},
    )
    assert findings_of(run_cli("scan", "--kubeconfig", str(trusting), "-o", "json"))
    verifying = write_kubeconfig(tmp_path / "verify", server=api.url, user={"token": TOKEN})
    refused = run_cli("scan", "--kubeconfig", str(verifying))
    assert refused.returncode == 3
    assert refused.stderr.startswith("leftover: error: cannot read cluster 'fake': ")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_unreachable_server_exits_3(run_cli: Run, tmp_path: Path, api: FakeKubeAPI) -> None:
    path = write_kubeconfig(
        tmp_path / "config",
        server=f"https://127.0.0.1:{_closed_port()}",
        ca_pem=api.ca_pem,
        user={"token": TOKEN},
    )
    result = run_cli("scan", "--kubeconfig", str(path))
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("leftover: error: cannot read cluster 'fake': ")
    assert result.stdout == ""
    assert_no_token(result)


def test_wrong_token_is_refused_with_exit_3(run_cli: Run, tmp_path: Path, api: FakeKubeAPI) -> None:
    wrong = "not-the-right-t0ken-1234"
    path = write_kubeconfig(
        tmp_path / "config", server=api.url, ca_pem=api.ca_pem, user={"token": wrong}
    )
    result = run_cli("scan", "--kubeconfig", str(path))
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("leftover: error: cannot read cluster 'fake': ")
    assert_no_token(result, wrong)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing", "no such file"),
        ("bad-yaml", "not valid YAML (line 4, column 8"),
        ("unknown-context", "no context named 'staging' (contexts: fake)"),
        ("not-a-kubeconfig", "not a kubeconfig"),
        ("http-server", "must be an https:// URL"),
        ("proxy", "proxy-url"),
        ("basic-auth", "username/password authentication is not supported"),
    ],
)
def test_kubeconfig_problems_exit_2_without_leaking_the_token(
    run_cli: Run, tmp_path: Path, api: FakeKubeAPI, setup: str, message: str
) -> None:
    path = tmp_path / "config"
    args = ["scan", "--kubeconfig", str(path)]
    user: dict[str, Any] = {"token": TOKEN}
    if setup == "bad-yaml":
        path.write_text(f"users:\n- name: u\n  user: {{token: {TOKEN}\n    bad: [\n")
    elif setup == "unknown-context":
        write_kubeconfig(path, server=api.url, ca_pem=api.ca_pem, user=user)
        args += ["--context", "staging"]
    elif setup == "not-a-kubeconfig":
        path.write_text(f"- token: {TOKEN}\n")
    elif setup == "http-server":
        write_kubeconfig(path, server=api.url.replace("https", "http"), user=user)
    elif setup == "proxy":
        write_kubeconfig(
            path,
            server=api.url,
            ca_pem=api.ca_pem,
            user=user,
            cluster_extra={"proxy-url": "http://proxy.local:3128"},
        )
    elif setup == "basic-auth":
        write_kubeconfig(
            path, server=api.url, ca_pem=api.ca_pem, user={"username": "u", "password": TOKEN}
        )
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leftover: error: ")
    assert message in lines[0]
    assert_no_token(result)
    assert result.stdout == ""
