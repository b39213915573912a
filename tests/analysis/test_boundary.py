"""The analysis is pure: this test fails if it imports I/O, settings, the ORM or a clock."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ANALYSIS = Path(__file__).resolve().parents[2] / "app" / "analysis"

# Project modules the analysis may use: plain data types and pure helpers.
ALLOWED_PROJECT = {
    "app.analysis",
    "app.kube.objects",
    "app.kube.kinds",
    "app.kube.snapshot",
    "app.pricing.book",
    "app.pricing.quantity",
}
ALLOWED_THIRD_PARTY = {"msgspec"}
# Standard-library modules that do no I/O of their own. importlib.resources reads the
# platform-default data shipped inside the package, once, like an import.
ALLOWED_STDLIB = {
    "__future__",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "importlib",
    "itertools",
    "json",
    "math",
    "operator",
    "re",
    "typing",
    "fractions",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "monotonic"),
    ("os", "getenv"),
    ("random", "random"),
}


def _modules() -> list[Path]:
    return sorted(ANALYSIS.rglob("*.py"))


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in ("app", "app.kube", "app.pricing", "app.analysis.rules"):
                # ``from app.kube import objects``: the module imported is app.kube.objects
                names.update(f"{node.module}.{a.name}" for a in node.names)
            else:
                names.add(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ANALYSIS)))
def test_analysis_imports_only_pure_modules(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for name in _imports(tree):
        top = name.split(".")[0]
        if top == "app":
            assert any(name == a or name.startswith(a + ".") for a in ALLOWED_PROJECT), (
                f"{path.name} imports {name}, which is not a pure module"
            )
        elif top in ALLOWED_THIRD_PARTY:
            continue
        else:
            assert top in ALLOWED_STDLIB, f"{path.name} imports {name}: no I/O in the analysis"
            assert top in sys.stdlib_module_names, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ANALYSIS)))
def test_analysis_reads_no_clock_or_environment(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name):
                assert (owner.id, node.func.attr) not in FORBIDDEN_CALLS, (
                    f"{path.name} calls {owner.id}.{node.func.attr}(): pass it in instead"
                )


def test_pure_project_modules_stay_pure() -> None:
    """The project modules the analysis may import must not import I/O either."""
    root = ANALYSIS.parents[1]
    for mod in sorted(ALLOWED_PROJECT - {"app.analysis"}):
        path = root / (mod.replace(".", "/") + ".py")
        for name in _imports(ast.parse(path.read_text())):
            top = name.split(".")[0]
            if top == "app":
                assert name in ALLOWED_PROJECT or name.startswith("app.analysis"), (
                    f"{mod} imports {name}"
                )
            else:
                assert top in ALLOWED_THIRD_PARTY or top in ALLOWED_STDLIB, f"{mod} imports {name}"
