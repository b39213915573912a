"""The findings explorer's filters: read from the URL, checked, and written back into URLs.

Every filter lives in the query string, so a filtered view is a link anyone in the
organisation can open. A value that makes no sense (an unknown cluster, "abc" as a minimum
cost, a limit of 5000) is dropped with a notice that says why; it never fails the page.
Clusters are checked against the organisation's own, so an id from another organisation
reads as unknown.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar
from urllib.parse import urlencode

CLUSTER_SCOPED = "-"  # the namespace value for cluster-scoped objects (never a namespace name)
CONFIDENCES = ("high", "medium", "low")
IGNORED = ("hide", "only", "include")
SORTS = {"cost": "desc", "age": "desc", "first_seen": "desc", "name": "asc", "kind": "asc"}
SORT_LABELS = {
    "cost": "Cost",
    "age": "Age",
    "first_seen": "First seen",
    "name": "Name",
    "kind": "Kind",
}
DEFAULT_LIMIT = 50
MIN_LIMIT, MAX_LIMIT = 10, 200
MAX_VALUES = 50  # values of one multi-value filter
MAX_Q = 100
MAX_COST = Decimal(1_000_000_000)
MAX_AGE = 36_500
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]{0,99}")
_RULE = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_RELATIVE = re.compile(r"([1-9][0-9]{0,3})d")
T = TypeVar("T")


class Params(Protocol):
    """What the filters read from a query string (Starlette's QueryParams fits)."""

    def getlist(self, key: str) -> list[str]: ...


@dataclass(frozen=True)
class ClusterInfo:
    """A cluster of the organisation as the explorer shows it."""

    id: uuid.UUID
    name: str
    provider: str
    region: str
    gone: bool


@dataclass(frozen=True)
class Filters:
    """One view of the findings: what to keep, in which order, how many per page."""

    clusters: tuple[uuid.UUID, ...] = ()
    namespace: str | None = None  # CLUSTER_SCOPED for cluster-scoped objects
    kinds: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    confidences: tuple[str, ...] = ()
    min_cost: Decimal | None = None
    min_age: int | None = None
    new_since: str | None = None  # as written: "7d" or "2026-11-01"
    since: datetime | None = None  # what new_since means, from the request's clock
    q: str = ""
    ignored: str = "hide"
    sort: str = "cost"
    direction: str = "desc"
    limit: int = DEFAULT_LIMIT

    @property
    def narrowing(self) -> bool:
        """Any filter besides clusters and the ignored switch (the roll-ups cannot answer)."""
        return bool(
            self.namespace is not None
            or self.kinds
            or self.rules
            or self.confidences
            or self.min_cost is not None
            or self.min_age is not None
            or self.since is not None
            or self.q
        )

    @property
    def active(self) -> bool:
        """Any filter at all (the page offers to clear them)."""
        return self.narrowing or bool(self.clusters) or self.ignored != "hide"

    def pairs(self, *, sort: bool = True, limit: bool = True) -> list[tuple[str, str]]:
        """The query-string pairs of these filters, defaults left out, in a stable order."""
        out: list[tuple[str, str]] = [("cluster", str(c)) for c in self.clusters]
        if self.namespace is not None:
            out.append(("namespace", self.namespace))
        out += [("kind", k) for k in self.kinds]
        out += [("rule", r) for r in self.rules]
        out += [("confidence", c) for c in self.confidences]
        if self.min_cost is not None:
            out.append(("min_cost", format(self.min_cost, "f")))
        if self.min_age is not None:
            out.append(("age", str(self.min_age)))
        if self.new_since is not None:
            out.append(("new_since", self.new_since))
        if self.q:
            out.append(("q", self.q))
        if self.ignored != "hide":
            out.append(("ignored", self.ignored))
        if sort and (self.sort != "cost" or self.direction != SORTS["cost"]):
            out.append(("sort", self.sort))
            if self.direction != SORTS[self.sort]:
                out.append(("dir", self.direction))
        if limit and self.limit != DEFAULT_LIMIT:
            out.append(("limit", str(self.limit)))
        return out

    def url(self, path: str = "/findings", *, limit: bool = True, **extra: str) -> str:
        """``path`` with these filters (and ``extra`` pairs, e.g. a cursor) as the query."""
        pairs = self.pairs(limit=limit) + [(k, v) for k, v in extra.items() if v]
        return path + ("?" + urlencode(pairs) if pairs else "")

    def toggled(self, facet: str, value: str) -> Filters:
        """These filters with ``value`` added to or removed from ``facet`` (a facet link)."""
        if facet == "namespace":
            return replace(self, namespace=None if self.namespace == value else value)
        if facet == "cluster":
            return replace(self, clusters=_flip(self.clusters, uuid.UUID(value)))
        if facet == "kind":
            return replace(self, kinds=_flip(self.kinds, value))
        if facet == "rule":
            return replace(self, rules=_flip(self.rules, value))
        return replace(self, confidences=_flip(self.confidences, value))

    def sorted_by(self, key: str) -> Filters:
        """Sort by ``key``: its natural direction, or the other one if already sorted by it."""
        if key == self.sort:
            return replace(self, direction="asc" if self.direction == "desc" else "desc")
        return replace(self, sort=key, direction=SORTS[key])

    def echo(self) -> dict[str, Any]:
        """The filters as plain values (the JSON export repeats them)."""
        return {
            "cluster": [str(c) for c in self.clusters],
            "namespace": self.namespace,
            "kind": list(self.kinds),
            "rule": list(self.rules),
            "confidence": list(self.confidences),
            "min_cost": None if self.min_cost is None else format(self.min_cost, "f"),
            "age": self.min_age,
            "new_since": self.new_since,
            "q": self.q or None,
            "ignored": self.ignored,
            "sort": self.sort,
            "dir": self.direction,
        }


def _flip(values: tuple[T, ...], item: T) -> tuple[T, ...]:
    return tuple(v for v in values if v != item) if item in values else (*values, item)


@dataclass
class Parsed:
    filters: Filters
    notices: list[str] = field(default_factory=list)
    cursor: str | None = None


def _values(params: Params, key: str) -> list[str]:
    """Non-empty values of ``key`` (repeated, or comma-separated in one value)."""
    out: list[str] = []
    for raw in params.getlist(key):
        out += [v.strip() for v in raw.split(",") if v.strip()]
    return list(dict.fromkeys(out))


def _one(params: Params, key: str) -> str | None:
    values = [v.strip() for v in params.getlist(key) if v.strip()]
    return values[-1] if values else None


def _checked(
    values: list[str], ok: Any, what: str, notices: list[str], *, lower: bool = False
) -> tuple[str, ...]:
    kept = [v.lower() if lower else v for v in values]
    bad = [v for v in kept if not ok(v)]
    if bad:
        shown = ", ".join(repr(v[:40]) for v in bad[:3])
        notices.append(f"Ignored the {what} filter value {shown}: no such {what}.")
    good = [v for v in kept if ok(v)]
    if len(good) > MAX_VALUES:
        notices.append(f"Only the first {MAX_VALUES} {what} values are used.")
    return tuple(good[:MAX_VALUES])


def _clusters(
    params: Params, clusters: Mapping[uuid.UUID, ClusterInfo], notices: list[str]
) -> tuple[uuid.UUID, ...]:
    chosen: list[uuid.UUID] = []
    unknown = 0
    for value in _values(params, "cluster"):
        try:
            cluster_id = uuid.UUID(value)
        except ValueError:
            cluster_id = None
        if cluster_id is None or cluster_id not in clusters:
            unknown += 1
        elif cluster_id not in chosen:
            chosen.append(cluster_id)
    if unknown:
        notices.append(
            "Ignored a cluster filter that names no cluster of this organisation."
            if unknown == 1
            else f"Ignored {unknown} cluster filters that name no cluster of this organisation."
        )
    return tuple(chosen[:MAX_VALUES])


def _decimal(value: str | None, notices: list[str]) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value.lstrip("$").replace(",", ""))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount > MAX_COST:
        notices.append(
            f"Ignored the minimum cost {value[:20]!r}: give dollars per month, e.g. 10 or 2.50."
        )
        return None
    return amount.normalize() if amount else None  # "at least $0" keeps everything


def _int(value: str | None, what: str, low: int, high: int, notices: list[str]) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        notices.append(
            f"Ignored the {what} {value[:20]!r}: give a whole number from {low} to {high}."
        )
        return None
    return int(value)


def _since(
    value: str | None, now: datetime, notices: list[str]
) -> tuple[str | None, datetime | None]:
    if value is None:
        return None, None
    relative = _RELATIVE.fullmatch(value.lower())
    if relative:
        return value.lower(), now - timedelta(days=int(relative.group(1)))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or len(value) != 10:
        notices.append(
            f"Ignored “new since” {value[:20]!r}: give a date (2026-11-01)"
            " or a number of days (7d)."
        )
        return None, None
    return value, datetime(day.year, day.month, day.day, tzinfo=UTC)


def _namespace(value: str | None, notices: list[str]) -> str | None:
    if value is None:
        return None
    if value == CLUSTER_SCOPED or _NAMESPACE.fullmatch(value):
        return value
    notices.append(f"Ignored the namespace {value[:40]!r}: not a Kubernetes namespace name.")
    return None


def _choice(value: str | None, allowed: Iterable[str], what: str, notices: list[str]) -> str | None:
    if value is None:
        return None
    options = tuple(allowed)
    if value.lower() in options:
        return value.lower()
    notices.append(f"Ignored the {what} {value[:20]!r}: choose one of {', '.join(options)}.")
    return None


def parse(params: Params, *, clusters: Mapping[uuid.UUID, ClusterInfo], now: datetime) -> Parsed:
    """The filters in ``params``; values that cannot be used are dropped with a notice."""
    notices: list[str] = []
    q = (_one(params, "q") or "")[:MAX_Q]
    new_since, since = _since(_one(params, "new_since"), now, notices)
    sort = _choice(_one(params, "sort"), SORTS, "sort", notices) or "cost"
    direction = _choice(_one(params, "dir"), ("asc", "desc"), "direction", notices)
    limit = _int(_one(params, "limit"), "page size", MIN_LIMIT, MAX_LIMIT, notices)
    filters = Filters(
        clusters=_clusters(params, clusters, notices),
        namespace=_namespace(_one(params, "namespace"), notices),
        kinds=_checked(_values(params, "kind"), _KIND.fullmatch, "kind", notices),
        rules=_checked(_values(params, "rule"), _RULE.fullmatch, "rule", notices, lower=True),
        confidences=_checked(
            _values(params, "confidence"),
            CONFIDENCES.__contains__,
            "confidence",
            notices,
            lower=True,
        ),
        min_cost=_decimal(_one(params, "min_cost"), notices),
        min_age=_int(_one(params, "age"), "minimum age", 0, MAX_AGE, notices),
        new_since=new_since,
        since=since,
        q=q,
        ignored=_choice(_one(params, "ignored"), IGNORED, "ignored switch", notices) or "hide",
        sort=sort,
        direction=direction or SORTS[sort],
        limit=DEFAULT_LIMIT if limit is None else limit,
    )
    cursor = _one(params, "cursor")
    return Parsed(filters, notices, cursor[:1000] if cursor else None)
