"""Dashboard fixtures: a signed-up organisation (its owner's browser and its id)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.conftest import BrowserFactory
from tests.dashboard.helpers import SignedUp, signed_up


@pytest.fixture
def acme(browser: BrowserFactory, db: Session) -> SignedUp:
    return signed_up(browser, db, "owner@acme.test", "Acme")
