"""Every detection rule and its edge cases, as small YAML scenarios (``scenarios/*.yaml``).

A scenario file is a multi-document YAML stream. The first document is the header::

    scenario: configmap-unused            # a name (the file stem is the test id)
    description: …                        # optional prose
    now: "2026-11-25T12:00:00Z"           # the analysis clock
    options: {min_confidence: medium, include_namespaces: [shop], older_than: 30d, …}
    partial_dump: false                   # true: the dump has no Pod on purpose
    unreadable: [CronJob]                 # kinds taken out of ``listed`` after loading, as a
                                          # live read leaves kinds it was forbidden to list
    strict_confidence: medium             # unexpected findings at or above this fail the test
    only_kinds: [ConfigMap]               # restrict that strictness check to these kinds
    expect:                               # findings that must exist, with these attributes
      - {kind: ConfigMap, namespace: shop, name: x, rule: configmap-unused,
         confidence: medium, cascade_from: [{kind: Deployment, namespace: shop, name: y}],
         reason_contains: "…", evidence_contains: "…", monthly_cost_usd: 8.0,
         cost_basis_contains: "…", security_risk: true}
    expect_absent: [{kind: Secret, namespace: shop, name: z}]   # no finding at all
    expect_not_evaluated: [secret-unused]
    expect_evaluated: [pv-unbound]
    expect_warnings_contain: ["treated as none"]
    expect_no_warnings: true
    expect_summary: {findings: 3, monthly_cost_usd: 8.0}
    xfail: "engine bug: …"                # a known engine bug; the test is strict-xfail

The remaining documents are the Kubernetes objects, loaded exactly as a snapshot file is
(``load_snapshot``), so a file holding a Pod is a whole-cluster dump.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.analysis import AnalysisResult, Confidence, Finding, Options, analyze
from app.kube.snapshot_file import load_snapshot
from app.pricing.book import PriceBook, load_default_price_book

SCENARIOS = Path(__file__).parent / "scenarios"

RULE_IDS = frozenset(
    {
        "configmap-unused",
        "secret-unused",
        "secret-sa-token-orphaned",
        "service-no-endpoints",
        "serviceaccount-unused",
        "workload-scaled-to-zero",
        "replicaset-orphaned",
        "daemonset-unscheduled",
        "job-finished",
        "cronjob-suspended",
        "pod-failed",
        "pod-completed",
        "pod-crashloop",
        "pvc-unused",
        "pvc-pending",
        "pv-unbound",
        "storageclass-unused",
        "ingress-no-backend",
        "hpa-target-missing",
        "hpa-target-idle",
        "pdb-matches-nothing",
        "networkpolicy-matches-nothing",
        "role-unbound",
        "binding-role-missing",
        "binding-subjects-missing",
        "priorityclass-unused",
        "crd-no-instances",
        "volumeattachment-dangling",
        "namespace-abandoned",
        "stuck-deletion",
        "owner-missing",
        "labelled-unused",
    }
)

HEADER_KEYS = frozenset(
    {
        "scenario",
        "description",
        "now",
        "options",
        "partial_dump",
        "unreadable",
        "strict_confidence",
        "only_kinds",
        "expect",
        "expect_absent",
        "expect_not_evaluated",
        "expect_evaluated",
        "expect_warnings_contain",
        "expect_no_warnings",
        "expect_summary",
        "xfail",
    }
)
EXPECT_KEYS = frozenset(
    {
        "kind",
        "namespace",
        "name",
        "rule",
        "confidence",
        "cascade_from",
        "reason_contains",
        "evidence_contains",
        "monthly_cost_usd",
        "cost_basis_contains",
        "security_risk",
    }
)
ABSENT_KEYS = frozenset({"kind", "namespace", "name", "rule"})
OPTION_KEYS = frozenset(
    {
        "include_namespaces",
        "exclude_namespaces",
        "kinds",
        "older_than",
        "min_confidence",
        "provider",
        "region",
        "finished_job_threshold",
        "suspended_cronjob_threshold",
        "crashloop_restart_threshold",
        "stuck_deletion_threshold",
        "check_crd_instances",
    }
)
_DURATION = re.compile(r"(\d+)([dhms])")
_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)

Key = tuple[str, str | None, str]


@dataclass(frozen=True)
class Scenario:
    path: Path
    header: dict[str, Any]
    body: bytes
    objects: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.path.stem


def _duration(value: Any) -> timedelta:
    if isinstance(value, int):
        return timedelta(seconds=value)
    match = _DURATION.fullmatch(str(value).strip())
    if match is None:
        raise ValueError(f"not a duration like 7d, 2h, 30m or 45s: {value!r}")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


def _options(raw: dict[str, Any]) -> Options:
    unknown = set(raw) - OPTION_KEYS
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("include_namespaces", "exclude_namespaces", "kinds"):
            kwargs[key] = frozenset(value)
        elif key in (
            "older_than",
            "finished_job_threshold",
            "suspended_cronjob_threshold",
            "stuck_deletion_threshold",
        ):
            kwargs[key] = _duration(value)
        elif key == "min_confidence":
            kwargs[key] = Confidence.parse(value)
        else:
            kwargs[key] = value
    return Options(**kwargs)


def _load(path: Path) -> Scenario:
    text = path.read_text("utf-8")
    chunks = [c for c in _SEPARATOR.split(text) if c.strip()]
    if len(chunks) < 2:
        raise ValueError(f"{path.name}: needs a header document and at least one object")
    header = yaml.safe_load(chunks[0])
    if not isinstance(header, dict) or "scenario" not in header:
        raise ValueError(f"{path.name}: the first document must be the scenario header")
    unknown = set(header) - HEADER_KEYS
    if unknown:
        raise ValueError(f"{path.name}: unknown header key(s) {sorted(unknown)}")
    for exp in header.get("expect", []):
        bad = set(exp) - EXPECT_KEYS
        if bad or not {"kind", "name", "rule"} <= set(exp):
            raise ValueError(f"{path.name}: bad expect entry {exp} ({sorted(bad)})")
        if exp["rule"] not in RULE_IDS:
            raise ValueError(f"{path.name}: unknown rule {exp['rule']!r}")
    for exp in header.get("expect_absent", []):
        if set(exp) - ABSENT_KEYS or not {"kind", "name"} <= set(exp):
            raise ValueError(f"{path.name}: bad expect_absent entry {exp}")
    # A leading "---" keeps load_snapshot from taking a first flow-style ``{…}`` for JSON.
    body = ("---\n" + "\n---\n".join(chunks[1:])).encode()
    # Only to check the scenario's own shape (the analysis reads ``body`` via load_snapshot).
    objects = [d for d in yaml.load_all(body, Loader=yaml.BaseLoader) if d]
    return Scenario(path, header, body, objects)


def _all_scenarios() -> list[Scenario]:
    return [_load(p) for p in sorted(SCENARIOS.glob("*.yaml"))]


ALL = _all_scenarios()


def _params() -> list[Any]:
    out = []
    for sc in ALL:
        marks = []
        if sc.header.get("xfail"):
            marks.append(pytest.mark.xfail(reason=sc.header["xfail"], strict=True))
        out.append(pytest.param(sc, id=sc.id, marks=marks))
    return out


@pytest.fixture(scope="module")
def prices() -> PriceBook:
    return load_default_price_book()


def run(sc: Scenario, prices: PriceBook) -> AnalysisResult:
    now = datetime.fromisoformat(
        str(sc.header.get("now", "2026-11-25T12:00:00Z")).replace("Z", "+00:00")
    )
    snapshot = load_snapshot(sc.body, source=sc.path.name)
    for kind in sc.header.get("unreadable", []):
        assert kind not in {o.get("kind") for o in sc.objects}, f"{kind} is in the dump"
        snapshot.listed.discard(kind)
    return analyze(
        snapshot, prices=prices, options=_options(sc.header.get("options") or {}), now=now
    )


def _key(d: dict[str, Any]) -> Key:
    return (d["kind"], d.get("namespace"), d["name"])


def _show(f: Finding) -> str:
    return (
        f"{f.kind} {f.namespace}/{f.name} rule={f.rule} conf={f.confidence.label} "
        f"cascade={[str(r) for r in f.cascade_from]} cost={f.cost.monthly_usd:.2f} "
        f"reason={f.reason!r}"
    )


def _check_expected(exp: dict[str, Any], f: Finding) -> list[str]:
    errors: list[str] = []
    where = f"{exp['kind']} {exp.get('namespace')}/{exp['name']}"
    if f.rule != exp["rule"]:
        errors.append(f"{where}: rule {f.rule!r}, expected {exp['rule']!r}")
    if "confidence" in exp and f.confidence != Confidence.parse(exp["confidence"]):
        errors.append(f"{where}: confidence {f.confidence.label}, expected {exp['confidence']}")
    if "cascade_from" in exp:
        got = {(r.kind, r.namespace, r.name) for r in f.cascade_from}
        want = {_key(r) for r in exp["cascade_from"]}
        if got != want:
            errors.append(f"{where}: cascade_from {sorted(map(str, got))}, expected {want}")
    if "reason_contains" in exp and exp["reason_contains"] not in f.reason:
        errors.append(f"{where}: reason {f.reason!r} lacks {exp['reason_contains']!r}")
    if "evidence_contains" in exp and not any(exp["evidence_contains"] in e for e in f.evidence):
        errors.append(f"{where}: evidence {f.evidence} lacks {exp['evidence_contains']!r}")
    if "monthly_cost_usd" in exp and f.cost.monthly_usd != pytest.approx(
        exp["monthly_cost_usd"], abs=0.005
    ):
        errors.append(f"{where}: cost {f.cost.monthly_usd:.4f}, expected {exp['monthly_cost_usd']}")
    if "cost_basis_contains" in exp and exp["cost_basis_contains"] not in f.cost.basis:
        errors.append(f"{where}: cost basis {f.cost.basis!r} lacks {exp['cost_basis_contains']!r}")
    if "security_risk" in exp and f.security_risk != exp["security_risk"]:
        errors.append(f"{where}: security_risk {f.security_risk}")
    return errors


@pytest.mark.parametrize("sc", _params())
def test_scenario(sc: Scenario, prices: PriceBook) -> None:
    h = sc.header
    result = run(sc, prices)
    findings = result.findings
    listing = "\n  ".join(_show(f) for f in findings) or "(none)"
    errors: list[str] = []

    # One finding per object, always.
    dupes = [
        k for k, n in Counter((f.kind, f.namespace, f.name) for f in findings).items() if n > 1
    ]
    if dupes:
        errors.append(f"several findings for one object: {dupes}")

    by_key: dict[Key, list[Finding]] = {}
    for f in findings:
        by_key.setdefault((f.kind, f.namespace, f.name), []).append(f)

    expected: set[Key] = set()
    for exp in h.get("expect", []):
        key = _key(exp)
        expected.add(key)
        got = by_key.get(key, [])
        if not got:
            errors.append(f"missing finding {exp}")
            continue
        errors.extend(_check_expected(exp, got[0]))

    for absent in h.get("expect_absent", []):
        key = _key(absent)
        hits = [f for f in by_key.get(key, []) if absent.get("rule") in (None, f.rule)]
        if hits:
            errors.append(f"unexpected finding for {absent}: {_show(hits[0])}")

    floor = Confidence.parse(h.get("strict_confidence", "medium"))
    only = set(h.get("only_kinds") or ())
    for f in findings:
        key = (f.kind, f.namespace, f.name)
        if key in expected or f.confidence < floor or (only and f.kind not in only):
            continue
        errors.append(f"unexpected finding: {_show(f)}")

    for rule in h.get("expect_not_evaluated", []):
        if rule not in result.not_evaluated:
            errors.append(f"{rule} should be not_evaluated; got {result.not_evaluated}")
    for rule in h.get("expect_evaluated", []):
        if rule in result.not_evaluated:
            errors.append(f"{rule} should be evaluated: {result.not_evaluated[rule]}")
    for text in h.get("expect_warnings_contain", []):
        if not any(text in w for w in result.warnings):
            errors.append(f"no warning contains {text!r}: {result.warnings}")
    if h.get("expect_no_warnings") and result.warnings:
        errors.append(f"unexpected warnings: {result.warnings}")
    summary = h.get("expect_summary") or {}
    if "findings" in summary and result.summary.findings != summary["findings"]:
        errors.append(f"summary.findings {result.summary.findings} != {summary['findings']}")
    if "monthly_cost_usd" in summary and result.summary.monthly_cost_usd != pytest.approx(
        summary["monthly_cost_usd"], abs=0.005
    ):
        errors.append(
            f"summary.monthly_cost_usd {result.summary.monthly_cost_usd} != "
            f"{summary['monthly_cost_usd']}"
        )

    assert not errors, "\n".join(errors) + f"\nfindings:\n  {listing}"


# --- the scenarios themselves ------------------------------------------------------------


def test_scenarios_exist() -> None:
    assert len(ALL) >= 30


@pytest.mark.parametrize("sc", ALL, ids=lambda s: s.id)
def test_scenario_is_well_formed(sc: Scenario) -> None:
    """The header names the file, and a dump without Pods is partial only on purpose."""
    assert sc.header["scenario"] == sc.id
    has_pod = any(o.get("kind") == "Pod" for o in sc.objects)
    assert has_pod != bool(sc.header.get("partial_dump")), (
        "a whole-cluster scenario needs a Pod; set partial_dump: true to test a partial dump"
    )
    if sc.header.get("xfail"):
        assert str(sc.header["xfail"]).startswith("engine bug: ")


def test_every_rule_has_a_scenario() -> None:
    covered = {
        exp["rule"]
        for sc in ALL
        if not sc.header.get("xfail")
        for exp in sc.header.get("expect", [])
    }
    assert sorted(RULE_IDS - covered) == []
