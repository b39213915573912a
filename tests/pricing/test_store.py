"""The effective price book: embedded defaults, refreshed defaults, an organisation's overrides,
and the checks on what someone types — on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.pricing import store
from app.pricing.book import OVERRIDE_SOURCE, load_default_price_book
from app.pricing.models import PriceDefault, PriceOverride
from tests.accounts.helpers import make_user


@pytest.fixture
def orgs(app: FastAPI) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """(user of org A, org A, org B)."""
    user_a, org_a = make_user(app, "a@example.test", org="Org A")
    _, org_b = make_user(app, "b@example.test", org="Org B")
    return user_a, org_a, org_b


def refreshed(db: Session, price_id: str, value: str, source: str = "https://api.test/x") -> None:
    db.add(
        PriceDefault(
            price_id=price_id,
            value=Decimal(value),
            source=source,
            as_of="2026-11-20",
            refreshed_at=datetime(2026, 11, 20, tzinfo=UTC),
        )
    )
    db.commit()


def overrides_count(db: Session, org_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(PriceOverride).where(PriceOverride.org_id == org_id)
    return int(db.scalar(stmt) or 0)


def test_without_rows_the_embedded_book_applies(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    _, org_a, _ = orgs
    book = store.effective_price_book(db, org_a)
    assert book.entries() == load_default_price_book().entries()


def test_an_override_applies_to_its_organisation_only(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    user_a, org_a, org_b = orgs
    stored = store.set_override(db, org_a, "storage.aws.gp3", "0.065", user_a)
    db.commit()
    assert stored == Decimal("0.065")
    mine = store.effective_price_book(db, org_a).entry("storage.aws.gp3")
    assert (mine.value, mine.source, mine.overridden) == (0.065, OVERRIDE_SOURCE, True)
    theirs = store.effective_price_book(db, org_b).entry("storage.aws.gp3")
    assert (theirs.value, theirs.overridden) == (0.08, False)
    assert store.org_overrides(db, org_b) == {}
    info = store.org_overrides(db, org_a)["storage.aws.gp3"]
    assert info.value == Decimal("0.065")
    assert info.updated_by == "a@example.test"


def test_refreshed_defaults_apply_to_everyone_and_overrides_win(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    user_a, org_a, org_b = orgs
    refreshed(db, "lb.aws.nlb", "0.0235", "https://pricing.test/offers/AWSELB")
    refreshed(db, "storage.gcp.pd-ssd", "0.18")
    store.set_override(db, org_a, "lb.aws.nlb", "0.02", user_a)
    db.commit()
    nlb_b = store.effective_price_book(db, org_b).entry("lb.aws.nlb")
    assert (nlb_b.value, nlb_b.source, nlb_b.as_of) == (
        0.0235,
        "https://pricing.test/offers/AWSELB",
        "2026-11-20",
    )
    assert store.effective_price_book(db, org_a).value("lb.aws.nlb") == 0.02
    assert store.effective_price_book(db, org_a).value("storage.gcp.pd-ssd") == 0.18
    defaults = store.default_price_book(db)
    assert defaults.value("lb.aws.nlb") == 0.0235
    assert not defaults.entry("lb.aws.nlb").overridden


def test_rows_for_ids_the_embedded_file_lost_are_skipped(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    _, org_a, _ = orgs
    refreshed(db, "storage.aws.gp1", "0.5")
    db.add(PriceOverride(org_id=org_a, price_id="lb.aws.alb", value=Decimal("0.03")))
    db.add(PriceOverride(org_id=org_a, price_id="storage.aws.sc1", value=Decimal("0.012")))
    db.commit()
    book = store.effective_price_book(db, org_a)
    assert book.get("storage.aws.gp1") is None
    assert book.get("lb.aws.alb") is None
    assert book.value("storage.aws.sc1") == 0.012
    assert set(store.org_overrides(db, org_a)) == {"storage.aws.sc1"}


@pytest.mark.parametrize(
    ("price_id", "raw", "message"),
    [
        ("storage.aws.gp9", "0.1", "There is no price called 'storage.aws.gp9'."),
        ("storage.aws.gp3", "-0.01", "A price cannot be negative."),
        ("storage.aws.gp3", "cheap", "Enter a number, like 0.08."),
        ("storage.aws.gp3", "", "Enter a number, like 0.08."),
        ("storage.aws.gp3", "nan", "Enter a number, like 0.08."),
        ("storage.aws.gp3", "Infinity", "Enter a number, like 0.08."),
        ("storage.aws.gp3", "1e7", "more than a million — check the unit, which is USD/GB-month"),
        ("lb.aws.nlb", "0.00000001", "Use at most 6 decimal places."),
    ],
)
def test_bad_values_are_refused_in_plain_words_and_nothing_is_written(
    db: Session,
    orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID],
    price_id: str,
    raw: str,
    message: str,
) -> None:
    user_a, org_a, _ = orgs
    with pytest.raises(store.PriceInputError) as caught:
        store.set_override(db, org_a, price_id, raw, user_a)
    assert message in caught.value.message
    assert caught.value.price_id == price_id
    db.commit()
    assert overrides_count(db, org_a) == 0


@pytest.mark.parametrize(
    ("raw", "stored"),
    [("$0.07", "0.07"), (" 1,024.5 ", "1024.5"), ("0", "0"), ("0.0800000", "0.08"),
     (Decimal("12"), "12"), (0.25, "0.25"), (1_000_000, "1000000")],
)  # fmt: skip
def test_accepted_forms(
    db: Session,
    orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID],
    raw: str | Decimal | float | int,
    stored: str,
) -> None:
    user_a, org_a, _ = orgs
    assert store.set_override(db, org_a, "storage.aws.gp2", raw, user_a) == Decimal(stored)


def test_setting_again_replaces_and_clearing_restores_the_default(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    user_a, org_a, org_b = orgs
    store.set_override(db, org_a, "control_plane.eks.standard", "0.2", user_a)
    store.set_override(db, org_a, "control_plane.eks.standard", "0.15", None)
    store.set_override(db, org_b, "control_plane.eks.standard", "0.3", None)
    db.commit()
    info = store.org_overrides(db, org_a)["control_plane.eks.standard"]
    assert (info.value, info.updated_by) == (Decimal("0.15"), None)
    assert store.clear_override(db, org_a, "control_plane.eks.standard") is True
    assert store.clear_override(db, org_a, "control_plane.eks.standard") is False
    db.commit()
    assert store.effective_price_book(db, org_a).value("control_plane.eks.standard") == 0.1
    assert store.effective_price_book(db, org_b).value("control_plane.eks.standard") == 0.3


def test_clear_all_touches_only_the_organisation(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    user_a, org_a, org_b = orgs
    for price_id in ("storage.aws.gp3", "lb.gcp.forwarding_rule_extra", "azure_disk.premium.P10"):
        store.set_override(db, org_a, price_id, "1", user_a)
    store.set_override(db, org_b, "storage.aws.gp3", "2", None)
    db.commit()
    assert store.clear_all_overrides(db, org_a) == 3
    db.commit()
    assert overrides_count(db, org_a) == 0
    assert overrides_count(db, org_b) == 1
    assert store.clear_all_overrides(db, org_a) == 0


def test_several_values_are_all_or_nothing(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    user_a, org_a, _ = orgs
    with pytest.raises(store.PriceInputErrors) as caught:
        store.set_overrides(
            db, org_a, {"storage.aws.gp3": "0.07", "lb.aws.nlb": "-1", "nope": "1"}, user_a
        )
    assert caught.value.errors == {
        "lb.aws.nlb": "A price cannot be negative.",
        "nope": "There is no price called 'nope'.",
    }
    db.commit()
    assert overrides_count(db, org_a) == 0
    saved = store.set_overrides(db, org_a, {"storage.aws.gp3": "0.07", "lb.aws.nlb": "0.03"}, None)
    db.commit()
    assert saved == {"storage.aws.gp3": Decimal("0.07"), "lb.aws.nlb": Decimal("0.03")}
    assert overrides_count(db, org_a) == 2


def test_deleting_the_organisation_deletes_its_overrides(
    db: Session, orgs: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
) -> None:
    from app.accounts.models import Organisation

    user_a, org_a, _ = orgs
    store.set_override(db, org_a, "storage.aws.gp3", "0.07", user_a)
    db.commit()
    db.delete(db.get_one(Organisation, org_a))
    db.commit()
    assert overrides_count(db, org_a) == 0
