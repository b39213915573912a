"""The findings explorer's rows: the filters as SQL, sort orders, and keyset pages.

Pages are keyset, never OFFSET: a page starts after (or, going back, before) the sort key and
id of the row where the last one ended, so page 4,000 costs what page 1 costs and a scan
publishing meanwhile neither repeats nor skips rows. The id breaks ties (many findings cost
the same $0). The cursor is that key, base64 JSON; it only positions a query that is always
restricted to the organisation, so a tampered cursor can at worst start the page elsewhere,
and one that does not parse, or comes from another sort, gives the first page and a notice.

Every sort reads an index that starts with ``org_id`` and ends with ``id`` (see the report
on ``Finding``'s indexes), so a page is an index range scan whatever the organisation's size.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, func, literal, literal_column, select, tuple_
from sqlalchemy.orm import Session

from app.findings.filters import CLUSTER_SCOPED, Filters
from app.findings.ignores import ignored_now, not_ignored_now
from app.scans.models import Finding

MAX_CURSOR = 1000
AGE_UNKNOWN = -1  # an object without a creation time sorts as the youngest


def _columns(sort: str) -> tuple[Any, ...]:
    """The sort key's SQL expressions, before the id that breaks ties."""
    if sort == "age":
        # Written inline, not as a parameter, so the expression matches an index on it.
        return (func.coalesce(Finding.age_days, literal_column(str(AGE_UNKNOWN), Integer)),)
    if sort == "first_seen":
        return (Finding.first_seen_at,)
    if sort == "name":
        return (Finding.name,)
    if sort == "kind":
        return (Finding.kind, Finding.monthly_cost_usd)
    return (Finding.monthly_cost_usd,)


def sort_key(sort: str, finding: Finding) -> tuple[Any, ...]:
    """A loaded finding's sort key, as ``_columns`` computes it in SQL."""
    if sort == "age":
        return (AGE_UNKNOWN if finding.age_days is None else finding.age_days,)
    if sort == "first_seen":
        return (finding.first_seen_at,)
    if sort == "name":
        return (finding.name,)
    if sort == "kind":
        return (finding.kind, finding.monthly_cost_usd)
    return (finding.monthly_cost_usd,)


def conditions(
    org_id: uuid.UUID, filters: Filters, *, gone: Sequence[uuid.UUID], now: datetime
) -> list[ColumnElement[bool]]:
    """The filters as SQL, always within the organisation.

    Without a cluster filter the findings of gone clusters are left out (``gone``); naming
    a gone cluster shows its findings."""
    where: list[ColumnElement[bool]] = [Finding.org_id == org_id]
    if filters.clusters:
        where.append(Finding.cluster_id.in_(filters.clusters))
    elif gone:
        where.append(Finding.cluster_id.not_in(list(gone)))
    if filters.namespace == CLUSTER_SCOPED:
        where.append(Finding.namespace.is_(None))
    elif filters.namespace is not None:
        where.append(Finding.namespace == filters.namespace)
    if filters.kinds:
        where.append(Finding.kind.in_(filters.kinds))
    if filters.rules:
        where.append(Finding.rule.in_(filters.rules))
    if filters.confidences:
        where.append(Finding.confidence.in_(filters.confidences))
    if filters.min_cost is not None:
        where.append(Finding.monthly_cost_usd >= filters.min_cost)
    if filters.min_age is not None:
        where.append(Finding.age_days >= filters.min_age)
    if filters.since is not None:
        where.append(Finding.first_seen_at >= filters.since)
    if filters.q:
        where.append(Finding.name.ilike(f"%{_escape_like(filters.q)}%", escape="\\"))
    if filters.ignored == "hide":
        where.append(not_ignored_now(now))
    elif filters.ignored == "only":
        where.append(ignored_now(now))
    return where


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- cursors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after (or before) the row with this sort key and id."""

    sort: str
    direction: str
    key: tuple[Any, ...]
    id: uuid.UUID
    before: bool = False

    def encode(self) -> str:
        doc = {
            "s": self.sort,
            "d": self.direction,
            "k": [_dump(v) for v in self.key],
            "i": str(self.id),
            "b": self.before,
        }
        raw = json.dumps(doc, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class BadCursor(ValueError):
    """A cursor that does not fit this view; the message says so in plain words."""


def _dump(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _load(sort: str, position: int, value: Any) -> Any:
    """One sort-key value read back with the type its column has; ValueError otherwise."""
    if sort == "cost" or (sort == "kind" and position == 1):
        if not isinstance(value, str):
            raise ValueError("cost")
        amount = Decimal(value)
        if not amount.is_finite():
            raise ValueError("cost")
        return amount
    if sort == "age":
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("age")
        return value
    if sort == "first_seen":
        moment = datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment
    if not isinstance(value, str) or len(value) > 253:
        raise ValueError("name")
    return value


def decode(raw: str, filters: Filters) -> Cursor:
    """The cursor in ``raw`` if it belongs to this sort and order; BadCursor otherwise."""
    try:
        if len(raw) > MAX_CURSOR:
            raise ValueError("long")
        doc = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(doc, dict):
            raise ValueError("shape")
        sort, direction, key = doc.get("s"), doc.get("d"), doc.get("k")
        before = doc.get("b", False)
        if not isinstance(key, list) or not isinstance(before, bool):
            raise ValueError("shape")
        ident = uuid.UUID(str(doc.get("i")))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadCursor(
            "The page link was damaged, so the list starts again from the top."
        ) from None
    if sort != filters.sort or direction != filters.direction:
        raise BadCursor(
            "The page link was for another sort order, so the list starts from the top."
        )
    if len(key) != len(_columns(filters.sort)):
        raise BadCursor("The page link was damaged, so the list starts again from the top.")
    try:
        values = tuple(_load(filters.sort, i, v) for i, v in enumerate(key))
    except (ValueError, TypeError, InvalidOperation):
        raise BadCursor(
            "The page link was damaged, so the list starts again from the top."
        ) from None
    return Cursor(filters.sort, filters.direction, values, ident, before)


# --- pages -------------------------------------------------------------------------------------


def _ordered(
    stmt: Select[Any], filters: Filters, cursor: Cursor | None, *, reverse: bool = False
) -> Select[Any]:
    columns = (*_columns(filters.sort), Finding.id)
    descending = (filters.direction == "desc") != reverse
    if cursor is not None:
        values = tuple(
            literal(v, type_=c.type) for c, v in zip(columns, (*cursor.key, cursor.id), strict=True)
        )
        left, right = tuple_(*columns), tuple_(*values)
        stmt = stmt.where(left < right if descending else left > right)
    return stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))


@dataclass(frozen=True)
class Page:
    rows: list[Finding]
    next: Cursor | None  # the page after this one, if any
    previous: Cursor | None  # the page before this one, if any (None on the first page)


def _cursor_at(filters: Filters, row: Finding, *, before: bool) -> Cursor:
    return Cursor(filters.sort, filters.direction, sort_key(filters.sort, row), row.id, before)


def page(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    filters: Filters,
    cursor: Cursor | None,
) -> Page:
    """One page of findings in the view's order, with the cursors of its neighbours."""
    backwards = cursor is not None and cursor.before
    stmt = _ordered(select(Finding).where(*where), filters, cursor, reverse=backwards)
    rows = list(session.scalars(stmt.limit(filters.limit + 1)))
    more = len(rows) > filters.limit
    rows = rows[: filters.limit]
    if backwards:
        rows.reverse()
    if not rows:
        return Page(rows, None, None)
    has_next = backwards or more
    has_previous = more if backwards else cursor is not None
    return Page(
        rows,
        _cursor_at(filters, rows[-1], before=False) if has_next else None,
        _cursor_at(filters, rows[0], before=True) if has_previous else None,
    )


def batches(
    session: Session,
    where: Sequence[ColumnElement[bool]],
    filters: Filters,
    *,
    size: int,
    cap: int,
) -> Iterator[list[Finding]]:
    """Every matching finding in the view's order, ``size`` at a time, at most ``cap``.

    Each batch is its own keyset query, so an export never holds more than one batch."""
    cursor: Cursor | None = None
    sent = 0
    while sent < cap:
        take = min(size, cap - sent)
        stmt = _ordered(select(Finding).where(*where), filters, cursor)
        rows = list(session.scalars(stmt.limit(take)))
        if not rows:
            return
        sent += len(rows)
        yield rows
        if len(rows) < take:
            return
        cursor = _cursor_at(filters, rows[-1], before=False)
        session.expunge_all()
