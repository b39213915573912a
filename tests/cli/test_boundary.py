"""The local kubeconfig resolver runs the user's credential plugins: only the CLI may use it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import REPO

ALLOWED = {REPO / "app" / "cli.py", REPO / "app" / "kube" / "local_kubeconfig.py"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_only_the_cli_imports_the_local_kubeconfig_resolver() -> None:
    offenders = [
        str(path.relative_to(REPO))
        for top in ("app", "workers")
        for path in sorted((REPO / top).rglob("*.py"))
        if path not in ALLOWED
        and any(
            name == "app.kube.local_kubeconfig" or name.startswith("kubernetes.config")
            for name in _imports(path)
        )
    ]
    assert offenders == []


def test_console_script_runs() -> None:
    script = Path(sys.executable).parent / "leftover"
    if not script.exists():
        pytest.skip("the package is not installed (pip install -e .)")
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("leftover ")
