"""The analysis: a pure function from a cluster snapshot to priced findings.

No I/O, ORM, settings or clock may be imported here; ``tests/analysis/test_boundary.py``
enforces it.
"""

from app.analysis.engine import analyze, counts_in_total
from app.analysis.model import AnalysisResult, Confidence, Finding, ObjectRef, Options

__all__ = [
    "AnalysisResult",
    "Confidence",
    "Finding",
    "ObjectRef",
    "Options",
    "analyze",
    "counts_in_total",
]
