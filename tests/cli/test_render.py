"""The pure renderers: table layout, colour, hostile names, and the shared document."""

from __future__ import annotations

import io

from app.analysis.model import AnalysisResult, Confidence, Cost, Finding, Summary
from app.cli import _Progress
from app.kube.reader import ReadProgress
from app.kube.snapshot import ClusterInfo, Snapshot
from app.render import money, render_table, result_document


def finding(
    name: str,
    *,
    namespace: str | None = "shop",
    kind: str = "ConfigMap",
    reason: str = "not referenced by any pod or template",
    confidence: Confidence = Confidence.HIGH,
    cost: float = 0.0,
) -> Finding:
    return Finding(
        kind=kind,
        api_version="v1",
        namespace=namespace,
        name=name,
        uid=f"uid-{name}",
        rule=f"{kind.lower()}-unused",
        reason=reason,
        confidence=confidence,
        cost=Cost(cost, f"${cost}") if cost else Cost(0.0, ""),
    )


def result(*findings: Finding, warnings: tuple[str, ...] = ()) -> AnalysisResult:
    counted = [f for f in findings if f.confidence > Confidence.LOW]
    return AnalysisResult(
        findings=findings,
        summary=Summary(
            objects_scanned=1234,
            findings=len(counted),
            monthly_cost_usd=sum(f.cost.monthly_usd for f in counted),
            by_kind={},
        ),
        warnings=warnings,
        provider="gcp",
        region="europe-west1",
    )


CLUSTER = ClusterInfo(name="prod", server="https://10.0.0.1", version="v1.30.2")


def test_layout_and_total() -> None:
    text = render_table(
        result(
            finding("b-config"),
            finding("pv-1", namespace=None, kind="PersistentVolume", cost=8),
            finding("a-config", namespace="api", cost=1234.5),
            finding("dash", confidence=Confidence.LOW, cost=3),
            warnings=("Secrets were not readable",),
        ),
        CLUSTER,
        width=120,
        color=False,
    )
    lines = text.splitlines()
    assert lines[0] == (
        "Cluster prod (https://10.0.0.1) · gcp europe-west1 · Kubernetes v1.30.2 · "
        "1,234 objects scanned"
    )
    headings = [line for line in lines[1:] if line and not line.startswith(" ")]
    assert headings[:3] == ["(cluster)", "api", "shop"]
    assert (
        "4 findings, $1,242.50/month estimated (list prices); "
        "1 low-confidence finding needs review (not in the total)"
    ) in lines
    assert lines[-1] == "warning: Secrets were not readable"
    shop = lines.index("shop")
    assert lines[shop + 1].split()[:2] == ["ConfigMap", "b-config"]  # kind, then name order
    assert lines[shop + 1].endswith("—")


def test_long_reasons_are_cut_to_the_width() -> None:
    long_reason = "only referenced by Deployment shop/cart, which has 0 replicas " * 4
    text = render_table(result(finding("cfg", reason=long_reason)), CLUSTER, width=80, color=False)
    row = next(line for line in text.splitlines() if "cfg" in line)
    assert len(row) <= 80
    assert "…" in row
    assert row.split()[-1] == "—"


def test_colour_only_when_asked() -> None:
    plain = render_table(result(finding("x")), CLUSTER, width=100, color=False)
    coloured = render_table(result(finding("x")), CLUSTER, width=100, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31mhigh" in coloured


def test_hostile_names_cannot_drive_the_terminal() -> None:
    evil = finding("x\x1b]0;pwned\x07\x1b[2J", reason="ok\r\nfake line\u202e")
    text = render_table(result(evil), CLUSTER, width=120, color=False)
    assert "\x1b" not in text
    assert "\r" not in text
    assert "\u202e" not in text
    assert not any(line.startswith("fake line") for line in text.splitlines())


def test_money() -> None:
    assert money(8) == "$8.00"
    assert money(1234.567) == "$1,234.57"
    assert money(0.001) == "—"
    assert money(5, assumed=True) == "~$5.00"


def test_result_document_uses_the_detected_provider() -> None:
    snap = Snapshot(cluster=CLUSTER, warnings=["from the snapshot"])
    doc = result_document(result(finding("x"), warnings=("from the analysis",)), snap)
    assert doc["cluster"] == {
        "name": "prod",
        "server": "https://10.0.0.1",
        "version": "v1.30.2",
        "provider": "gcp",
        "region": "europe-west1",
    }
    assert doc["warnings"] == ["from the snapshot", "from the analysis"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    tty, pipe = _Terminal(), io.StringIO()
    for stream in (tty, pipe):
        progress = _Progress(stream)
        progress(ReadProgress("Pod", 12000, 12345, 40, 17, 31))
        progress(ReadProgress("NetworkPolicy", 1, 12346, 41, 31, 31))
        progress.finish()
    assert pipe.getvalue() == ""
    written = tty.getvalue()
    assert "\rreading Pods… 12,345 objects (17/31 kinds)\x1b[K" in written
    assert "reading NetworkPolicies… 12,346 objects (31/31 kinds)" in written
    assert written.endswith("\r\x1b[K")
