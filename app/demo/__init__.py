"""The demo organisation's data: generated clusters (``generate``) whose findings come from the
real engine, and a deterministic history for them (``history``). The seeder stores them."""

from app.demo.generate import DemoCluster, demo_cluster, demo_fleet, scale_for_findings
from app.demo.history import Span, Timeline, timeline

__all__ = [
    "DemoCluster",
    "Span",
    "Timeline",
    "demo_cluster",
    "demo_fleet",
    "scale_for_findings",
    "timeline",
]
