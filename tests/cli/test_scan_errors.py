"""Bad input: exit status 2 and exactly one line on stderr, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main, parse_duration
from tests.cli.conftest import Run


def one_line_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("leftover: error: "), stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_missing_snapshot_file(run_cli: Run, tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    result = run_cli("scan", "--snapshot", str(missing))
    assert result.returncode == 2
    assert one_line_error(result.stderr) == (
        f"leftover: error: {missing}: no such file or directory"
    )
    assert result.stdout == ""


def test_malformed_json(run_cli: Run, tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"kind": "List", "items": [')
    result = run_cli("scan", "--snapshot", str(path))
    assert result.returncode == 2
    assert one_line_error(result.stderr).startswith(f"leftover: error: {path}: not valid JSON")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "the file is empty"),
        ("just: [a, mapping", "not valid JSON or YAML"),
        (json.dumps({"kind": "List", "items": [{"kind": "Widget"}]}), "no Kubernetes objects"),
    ],
)
def test_unusable_snapshot_contents(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "snap"
    path.write_text(content)
    assert main(["scan", "--snapshot", str(path)]) == 2
    captured = capsys.readouterr()
    assert problem in one_line_error(captured.err)
    assert captured.out == ""


def test_a_directory_is_not_a_snapshot(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["scan", "--snapshot", str(tmp_path)]) == 2
    assert one_line_error(capsys.readouterr().err).endswith(": is a directory")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kinds", "cm,Widget"], "unknown kind 'Widget'"),
        (["--kinds", "nodes"], "Node is read only as evidence"),
        (["--older-than", "7x"], "'7x' is not a duration"),
        (["--older-than", "d"], "'d' is not a duration"),
        (["--min-confidence", "sure"], "unknown confidence 'sure'"),
        (["--include-namespaces", "a", "--exclude-namespaces", "b"], "not allowed with"),
        (["--include-namespaces", ","], "at least one namespace"),
        (["--output", "xml"], "invalid choice: 'xml'"),
        (["--context", "prod"], "--context applies to --kubeconfig"),
    ],
)
def test_bad_flag_values(run_cli: Run, snapshot_file: Path, args: list[str], message: str) -> None:
    result = run_cli("scan", "--snapshot", str(snapshot_file), *args)
    assert result.returncode == 2
    assert message in one_line_error(result.stderr)
    assert result.stdout == ""


def test_a_source_is_required(run_cli: Run) -> None:
    result = run_cli("scan")
    assert result.returncode == 2
    assert "one of the arguments --kubeconfig --snapshot is required" in one_line_error(
        result.stderr
    )


def test_both_sources_are_refused(capsys: pytest.CaptureFixture[str], snapshot_file: Path) -> None:
    assert main(["scan", "--snapshot", str(snapshot_file), "--kubeconfig", "x"]) == 2
    assert "not allowed with" in one_line_error(capsys.readouterr().err)


def test_no_command_prints_help(run_cli: Run) -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "scan" in result.stderr
    assert "usage: leftover" in result.stderr


def test_help_reads_well(run_cli: Run) -> None:
    top = run_cli("--help")
    assert top.returncode == 0
    assert "leftover scan --kubeconfig" in top.stdout
    scan = run_cli("scan", "--help")
    assert scan.returncode == 0
    for text in ("--snapshot FILE", "--kubeconfig [PATH]", "examples:", "exit status:"):
        assert text in scan.stdout


@pytest.mark.parametrize(
    ("text", "hours"),
    [("30m", 0.5), ("12h", 12), ("7d", 168), ("2w", 336), ("1d12h", 36), ("0d", 0)],
)
def test_durations(text: str, hours: float) -> None:
    assert parse_duration(text).total_seconds() == hours * 3600
