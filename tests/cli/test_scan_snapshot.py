"""``leftover scan --snapshot``: input formats, the JSON/YAML document, filters and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.cli import main
from tests.cli.conftest import Run

FINDING_KEYS = [
    "kind",
    "api_version",
    "namespace",
    "name",
    "uid",
    "rule",
    "reason",
    "confidence",
    "cascade_from",
    "monthly_cost_usd",
    "cost_basis",
    "age_days",
    "owner",
    "security_risk",
    "evidence",
]


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    status = main(["scan", *args, "--output", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return status, json.loads(out)


def refs(doc: dict[str, Any]) -> set[tuple[str, str | None, str]]:
    return {(f["kind"], f["namespace"], f["name"]) for f in doc["findings"]}


def test_json_document_has_exactly_the_documented_keys(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path, objects: list[dict[str, Any]]
) -> None:
    status, doc = scan_json(capsys, "--snapshot", str(snapshot_file))
    assert status == 0
    assert list(doc) == ["cluster", "summary", "findings", "warnings"]
    assert list(doc["cluster"]) == ["name", "server", "version", "provider", "region"]
    assert list(doc["summary"]) == ["objects_scanned", "findings", "monthly_cost_usd", "by_kind"]
    assert doc["summary"]["objects_scanned"] == len(objects)
    assert doc["findings"], "the fixture cluster has leftovers"
    for finding in doc["findings"]:
        assert list(finding) == FINDING_KEYS
    assert isinstance(doc["warnings"], list)


def test_finds_the_leftovers_and_not_what_is_used(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path
) -> None:
    _, doc = scan_json(capsys, "--snapshot", str(snapshot_file))
    found = refs(doc)
    assert ("ConfigMap", "shop", "old-banner") in found
    assert ("PersistentVolume", None, "pv-released") in found
    assert ("PersistentVolumeClaim", "shop", "old-data") in found
    assert ("ConfigMap", "shop", "cart-config") not in found  # used through envFrom
    assert ("ConfigMap", "shop", "kube-root-ca.crt") not in found  # a platform default
    assert ("PersistentVolumeClaim", "shop", "cart-data") not in found  # mounted by a Pod
    assert doc["cluster"]["provider"] == "aws"
    priced = {f["name"]: f["monthly_cost_usd"] for f in doc["findings"]}
    assert priced["pv-released"] > 0


def _same_findings(capsys: pytest.CaptureFixture[str], path: Path, snapshot_file: Path) -> None:
    _, expected = scan_json(capsys, "--snapshot", str(snapshot_file))
    _, got = scan_json(capsys, "--snapshot", str(path))
    assert got["findings"] == expected["findings"]
    assert got["summary"] == expected["summary"]


def test_yaml_multi_document_stream(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    snapshot_file: Path,
    objects: list[dict[str, Any]],
) -> None:
    path = tmp_path / "cluster.yaml"
    path.write_text(yaml.safe_dump_all(objects, explicit_start=True))
    _same_findings(capsys, path, snapshot_file)


def test_concatenated_json_documents(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    snapshot_file: Path,
    objects: list[dict[str, Any]],
) -> None:
    path = tmp_path / "cluster.ndjson"
    path.write_text("\n".join(json.dumps(obj, indent=1) for obj in objects))
    _same_findings(capsys, path, snapshot_file)


def test_snapshot_from_stdin(run_cli: Run, snapshot_file: Path) -> None:
    piped = run_cli("scan", "--snapshot", "-", "-o", "json", stdin=snapshot_file.read_text())
    from_file = run_cli("scan", "--snapshot", str(snapshot_file), "-o", "json")
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert json.loads(piped.stdout) == json.loads(from_file.stdout)


def test_yaml_output_is_the_same_document(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path
) -> None:
    _, as_json = scan_json(capsys, "--snapshot", str(snapshot_file))
    assert main(["scan", "--snapshot", str(snapshot_file), "-o", "yaml"]) == 0
    as_yaml = yaml.safe_load(capsys.readouterr().out)
    assert list(as_yaml) == ["cluster", "summary", "findings", "warnings"]
    assert as_yaml == as_json


def test_kinds_filter_reports_only_those_kinds_but_still_reads_references(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path
) -> None:
    _, doc = scan_json(capsys, "--snapshot", str(snapshot_file), "--kinds", "cm,PersistentVolume")
    kinds = {f["kind"] for f in doc["findings"]}
    assert kinds == {"ConfigMap", "PersistentVolume"}
    # The Pod still counts as a user although Pods are not reported.
    assert ("ConfigMap", "shop", "cart-config") not in refs(doc)
    assert ("ConfigMap", "shop", "old-banner") in refs(doc)


def test_include_and_exclude_namespaces(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path
) -> None:
    _, only_shop = scan_json(
        capsys, "--snapshot", str(snapshot_file), "--include-namespaces", "shop"
    )
    assert {f["namespace"] for f in only_shop["findings"]} == {"shop"}
    _, not_shop = scan_json(
        capsys, "--snapshot", str(snapshot_file), "--exclude-namespaces", "shop,default"
    )
    namespaces = {f["namespace"] for f in not_shop["findings"]}
    assert "shop" not in namespaces
    assert None in namespaces  # cluster-scoped findings stay when only excluding


def test_min_confidence(capsys: pytest.CaptureFixture[str], snapshot_file: Path) -> None:
    _, everything = scan_json(capsys, "--snapshot", str(snapshot_file))
    levels = {f["confidence"] for f in everything["findings"]}
    assert "low" in levels  # the grafana dashboard ConfigMap needs review
    _, high = scan_json(capsys, "--snapshot", str(snapshot_file), "--min-confidence", "high")
    assert high["findings"]
    assert {f["confidence"] for f in high["findings"]} == {"high"}
    assert refs(high) < refs(everything)


def test_older_than_leaves_out_younger_objects(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path
) -> None:
    _, doc = scan_json(capsys, "--snapshot", str(snapshot_file), "--older-than", "5200w")
    assert doc["findings"] == []
    _, doc = scan_json(capsys, "--snapshot", str(snapshot_file), "--older-than", "1d12h")
    assert doc["findings"]


def test_exit_status_with_fail_on_findings(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path
) -> None:
    assert main(["scan", "--snapshot", str(snapshot_file), "--fail-on-findings"]) == 1
    assert main(["scan", "--snapshot", str(snapshot_file)]) == 0
    clean = ["scan", "--snapshot", str(snapshot_file), "--kinds", "netpol", "--fail-on-findings"]
    assert main(clean) == 0
    capsys.readouterr()


def test_fail_on_findings_in_a_real_process(run_cli: Run, snapshot_file: Path) -> None:
    result = run_cli("scan", "--snapshot", str(snapshot_file), "--fail-on-findings")
    assert result.returncode == 1
    assert result.stderr == ""


def test_table_groups_by_namespace_with_a_total_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    snapshot_file: Path,
    objects: list[dict[str, Any]],
) -> None:
    monkeypatch.setenv("COLUMNS", "140")
    assert main(["scan", "--snapshot", str(snapshot_file)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"Snapshot · aws eu-west-1 · {len(objects)} objects scanned"
    headings = [line for line in lines if line and not line.startswith(" ")]
    cluster_at, shop_at = headings.index("(cluster)"), headings.index("shop")
    assert cluster_at < shop_at
    assert headings.index("monitoring") < shop_at  # namespaces in name order
    row = next(line for line in lines if "pv-released" in line)
    assert row.split()[:2] == ["PersistentVolume", "pv-released"]
    assert re.search(r"\$\d+\.\d\d$", row)
    assert any(line.rstrip().endswith("—") for line in lines)  # a finding without cost
    total = re.compile(
        r"^\d+ findings?, \$[\d,]+\.\d\d/month estimated \(list prices\); "
        r"\d+ low-confidence findings? needs? review \(not in the total\)$"
    )
    assert any(total.match(line) for line in lines), out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_table_fits_a_narrow_terminal(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    snapshot_file: Path,
) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    assert main(["scan", "--snapshot", str(snapshot_file)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith("  ")]
    assert rows
    assert all(len(line) <= 72 for line in rows)
    assert any("…" in line for line in rows)


def test_no_findings_table(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path, objects: list[dict[str, Any]]
) -> None:
    assert main(["scan", "--snapshot", str(snapshot_file), "--kinds", "netpol"]) == 0
    assert f"No findings among {len(objects)} objects scanned." in capsys.readouterr().out


def test_provider_and_region_flags_override_detection(
    capsys: pytest.CaptureFixture[str], snapshot_file: Path
) -> None:
    args = ["--snapshot", str(snapshot_file), "--provider", "gcp", "--region", "europe-west1"]
    _, doc = scan_json(capsys, *args)
    assert (doc["cluster"]["provider"], doc["cluster"]["region"]) == ("gcp", "europe-west1")
