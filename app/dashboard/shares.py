"""A split of waste (by provider, cluster, kind, namespace): the top rows and their shares.

Only the rows shown are described (labelled, linked): an organisation of 200 clusters has
thousands of namespaces, and the dashboard shows ten of them."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from app.history.rollups import Totals

K = TypeVar("K")


@dataclass(frozen=True, slots=True)
class Share:
    """One row of a split: what it is, where it leads, its waste and share of the total."""

    label: str
    href: str | None
    waste: Decimal
    findings: int
    percent: float  # of the organisation's waste, 0–100

    @property
    def percent_text(self) -> str:
        if self.percent == 0:
            return "0%"
        if self.percent < 0.1:
            return "<0.1%"
        return f"{self.percent:.1f}%" if self.percent < 10 else f"{self.percent:.0f}%"

    @property
    def bar(self) -> float:
        """The share as a bar length out of 100 (a sliver stays visible)."""
        return round(max(self.percent, 0.5), 1) if self.waste > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Split:
    rows: tuple[Share, ...]
    more: int  # rows with waste left out of ``rows``
    more_waste: Decimal
    more_href: str | None


def split(
    items: Mapping[K, Totals],
    total: Decimal,
    *,
    describe: Callable[[K], tuple[str, str | None]],
    limit: int,
    more_href: str | None = None,
    wasting: int | None = None,
) -> Split:
    """The ``limit`` largest items with waste, largest first; ``describe`` gives (label, href).

    ``wasting``: ``items`` holds only the largest, out of this many with waste (their waste
    adding up to ``total``)."""
    wasted = [(key, totals.waste, totals.counted) for key, totals in items.items()]
    wasted = [item for item in wasted if item[1] > 0]
    top = heapq.nlargest(limit, wasted, key=lambda item: item[1])
    rows = [
        Share(
            *describe(key),
            waste=waste,
            findings=findings,
            percent=float(waste / total * 100) if total > 0 else 0.0,
        )
        for key, waste, findings in top
    ]
    rows.sort(key=lambda row: (-row.waste, row.label))
    shown = sum((row.waste for row in rows), Decimal(0))
    if wasting is None:
        more, more_waste = len(wasted) - len(rows), sum((i[1] for i in wasted), Decimal(0)) - shown
    else:
        more, more_waste = max(wasting - len(rows), 0), total - shown
    return Split(rows=tuple(rows), more=more, more_waste=more_waste, more_href=more_href)
