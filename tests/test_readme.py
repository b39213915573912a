"""The README's promises that code can check."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from app.kube.kinds import cluster_role_rules

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_cluster_role_is_the_one_the_reader_needs() -> None:
    text = README.read_text()
    block = re.search(
        r"```yaml\n(apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n.*?)```",
        text,
        re.S,
    )
    assert block, "README has no ClusterRole block"
    role = yaml.safe_load(block.group(1))
    assert role["kind"] == "ClusterRole"
    assert role["rules"] == cluster_role_rules()


def test_readme_names_the_test_and_run_commands() -> None:
    text = README.read_text()
    assert "make test" in text
    assert "make install" in text
