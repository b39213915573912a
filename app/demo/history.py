"""A deterministic past for a demo cluster: when each current finding appeared, and the
findings that existed before and were cleaned up. Pure: no database, no clock.

    tl = timeline(findings, days=90, seed=7, key=cluster.name)

``findings`` are the engine's findings for the cluster today (``AnalysisResult.findings``).
Days are counted back from today: day 0 is today, day ``days - 1`` the first day of history.

``tl.spans`` is a tuple of ``Span(finding, appeared, resolved)``:

- first, one span per input finding, in the input order (``tl.current``), with
  ``resolved is None`` and ``0 <= appeared <= days - 1``; ``appeared`` never exceeds the
  finding's ``age_days`` (nothing is seen before its object existed). About 40 % were there
  from the first day (or their creation), about 10 % appeared in the last week, the rest in
  between;
- then the resolved findings (``tl.resolved``): copies of current findings under other names
  (what the same teams left and later removed: ``cart-config-v2``, another ``pvc-<uid>``),
  with the template's kind, namespace, rule, reason, confidence and cost, and
  ``1 <= resolved < appeared <= days - 1``. Most go in a few clean-up waves (sharp drops in
  the trend), the rest one by one. Their ``age_days`` is None and ``cascade_from`` empty.

A span is present on day ``d`` when ``resolved < d <= appeared`` (``resolved`` None: up to
today). ``tl.on_day(d)`` lists them; ``tl.changes()`` yields ``(d, appeared, resolved)`` from
the first day to today for incremental daily roll-ups (``resolved`` lists the spans gone on
day ``d``, i.e. ``span.resolved == d``); ``tl.totals()`` gives each day's count and counted
cost. ``Span.first_seen_at(now)`` / ``Span.resolved_at(now)`` turn the offsets into times.

The same (findings, days, seed, key, resolved_ratio) always give the same timeline.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from app.analysis import Finding, counts_in_total

_WORDS = (
    "old",
    "v1",
    "v2",
    "legacy",
    "tmp",
    "bak",
    "canary",
    "blue",
    "green",
    "test",
    "draft",
    "2025",
    "prev",
    "staging",
)
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_HASH_SUFFIX = re.compile(r"^(.*)-([a-z0-9]{5,10})$")
_PV_NAME = re.compile(r"^pvc-[0-9a-f-]{36}$")


@dataclass(frozen=True, slots=True)
class Span:
    finding: Finding
    appeared: int  # days ago it was first seen
    resolved: int | None = None  # days ago it was gone; None: still current

    def present(self, day: int) -> bool:
        """Whether it existed ``day`` days ago."""
        low = -1 if self.resolved is None else self.resolved
        return low < day <= self.appeared

    def first_seen_at(self, now: datetime) -> datetime:
        return now - timedelta(days=self.appeared)

    def resolved_at(self, now: datetime) -> datetime | None:
        return None if self.resolved is None else now - timedelta(days=self.resolved)


@dataclass(frozen=True, slots=True)
class Timeline:
    days: int
    spans: tuple[Span, ...]
    current_count: int

    @property
    def current(self) -> tuple[Span, ...]:
        return self.spans[: self.current_count]

    @property
    def resolved(self) -> tuple[Span, ...]:
        return self.spans[self.current_count :]

    def on_day(self, day: int) -> list[Span]:
        return [s for s in self.spans if s.present(day)]

    def changes(self) -> Iterator[tuple[int, list[Span], list[Span]]]:
        """(day, appeared that day, resolved that day), from the first day to today."""
        appeared: dict[int, list[Span]] = {}
        gone: dict[int, list[Span]] = {}
        for s in self.spans:
            appeared.setdefault(s.appeared, []).append(s)
            if s.resolved is not None:
                gone.setdefault(s.resolved, []).append(s)
        for day in range(self.days - 1, -1, -1):
            yield day, appeared.get(day, []), gone.get(day, [])

    def totals(self) -> list[tuple[int, int, float]]:
        """(day, findings present, monthly cost of those that count in totals), oldest first."""
        out: list[tuple[int, int, float]] = []
        count, cost = 0, 0.0
        for day, came, went in self.changes():
            for s in came:
                count += 1
                cost += _counted_cost(s.finding)
            for s in went:
                count -= 1
                cost -= _counted_cost(s.finding)
            out.append((day, count, round(cost, 6)))
        return out


def _counted_cost(f: Finding) -> float:
    return f.cost.monthly_usd if counts_in_total(f) else 0.0


class _Draw:
    """Uniform numbers from a hash of (seed, key, what, salt): independent of input order."""

    def __init__(self, seed: int, key: str) -> None:
        self.prefix = f"{seed}\x00{key}\x00".encode()

    def unit(self, what: str, salt: str) -> float:
        digest = hashlib.blake2b(self.prefix + f"{what}\x00{salt}".encode(), digest_size=8)
        return int.from_bytes(digest.digest(), "big") / 2**64

    def between(self, what: str, salt: str, low: int, high: int) -> int:
        """An integer in [low, high]."""
        return low + min(int(self.unit(what, salt) * (high - low + 1)), high - low)


def _ident(f: Finding) -> str:
    return f"{f.kind}/{f.namespace or ''}/{f.name}/{f.rule}"


def timeline(
    findings: Sequence[Finding],
    *,
    days: int,
    seed: int,
    key: str = "",
    resolved_ratio: float = 0.4,
) -> Timeline:
    """The cluster's history over ``days`` days (see the module docstring for the shape)."""
    if days < 2:
        raise ValueError("a history needs at least two days")
    draw = _Draw(seed, key)
    last = days - 1
    current = [Span(f, _appeared(draw, f, last)) for f in findings]
    resolved = _resolved(draw, findings, last, resolved_ratio)
    return Timeline(days, tuple(current + resolved), len(current))


def _appeared(draw: _Draw, f: Finding, last: int) -> int:
    ident = _ident(f)
    ceiling = last if f.age_days is None else max(0, min(last, f.age_days))
    roll = draw.unit(ident, "when")
    if roll < 0.4:
        return ceiling  # there from the start (or from its creation)
    if roll < 0.5:
        return draw.between(ident, "recent", 0, min(6, ceiling))
    return draw.between(ident, "mid", 0, ceiling)


def _resolved(draw: _Draw, findings: Sequence[Finding], last: int, ratio: float) -> list[Span]:
    templates = [f for f in findings if counts_in_total(f)]
    wanted = round(len(findings) * ratio)
    if not templates or wanted <= 0 or last < 2:
        return []
    costed = [f for f in templates if f.cost.monthly_usd > 0]
    taken = {(f.kind, f.namespace, f.name) for f in findings}
    # Clean-up waves: a few days on which a team removed many leftovers at once.
    waves = sorted({max(1, round(last * share)) for share in (0.72, 0.45, 0.2, 0.06)}, reverse=True)
    spans: list[Span] = []
    for i in range(wanted):
        salt = str(i)
        pool = costed if costed and draw.unit("pool", salt) < 0.5 else templates
        template = pool[draw.between("template", salt, 0, len(pool) - 1)]
        if draw.unit("wave", salt) < 0.6:
            gone = waves[draw.between("which-wave", salt, 0, len(waves) - 1)]
        else:
            gone = draw.between("gone", salt, 1, last - 1)
        appeared = draw.between("came", salt, gone + 1, last) if gone < last else last
        if appeared <= gone:
            continue
        name = _rename(draw, template, salt, taken)
        taken.add((template.kind, template.namespace, name))
        uid = _uid(draw, template, name)
        finding = replace(template, name=name, uid=uid, age_days=None, cascade_from=())
        spans.append(Span(finding, appeared, gone))
    return spans


def _rename(draw: _Draw, f: Finding, salt: str, taken: set[tuple[str, str | None, str]]) -> str:
    """Another name the same kind of leftover plausibly had: another disk id, another pod
    hash, another date, or another variant word (``cart-blue`` → ``cart-green``)."""
    for attempt in range(20):
        tag = f"{salt}.{attempt}"
        name = _variant(draw, f, tag)
        if attempt >= 10:
            name = f"{name}-{attempt}"
        if (f.kind, f.namespace, name) not in taken:
            return name[:253]
    return f"{f.name}-{salt}"[:253]


def _variant(draw: _Draw, f: Finding, tag: str) -> str:
    if _PV_NAME.match(f.name):
        h = hashlib.blake2b(f"{f.name}{tag}".encode(), digest_size=16).hexdigest()
        return f"pvc-{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
    tokens = f.name.split("-")
    last = tokens[-1]
    if len(last) == 8 and last.isdigit():  # a date stamp: another day of the same year
        month = draw.between(f.name, f"{tag}.m", 1, 12)
        day = draw.between(f.name, f"{tag}.d", 1, 28)
        return "-".join([*tokens[:-1], f"{last[:4]}{month:02d}{day:02d}"])
    if f.kind in ("Pod", "ReplicaSet") and (m := _HASH_SUFFIX.match(f.name)):
        size = len(m.group(2))
        chars = "".join(
            _SAFE[draw.between(f.name, f"{tag}.{k}", 0, len(_SAFE) - 1)] for k in range(size)
        )
        return f"{m.group(1)}-{chars}"
    at = next((i for i in range(len(tokens) - 1, 0, -1) if tokens[i] in _WORDS), None)
    words = [w for w in _WORDS if at is None or w != tokens[at]]
    word = words[draw.between(f.name, tag, 0, len(words) - 1)]
    if at is None:
        return f"{f.name}-{word}"
    return "-".join([*tokens[:at], word, *tokens[at + 1 :]])


def _uid(draw: _Draw, f: Finding, name: str) -> str:
    h = hashlib.blake2b(draw.prefix + f"{f.kind}/{f.namespace}/{name}".encode(), digest_size=16)
    x = h.hexdigest()
    return f"{x[:8]}-{x[8:12]}-4{x[13:16]}-a{x[17:20]}-{x[20:32]}"
