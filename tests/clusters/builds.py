"""Cached cluster builds shared by the analysis tests (building one takes about a second)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from tests.clusters.apps import APPS, install_all
from tests.clusters.platforms import PLATFORMS
from tests.clusters.sim import Cluster
from tests.clusters.waste import Waste, add_all_waste

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@cache
def healthy(platform: str, app: str | None) -> Cluster:
    """A new ``platform`` cluster with nothing, one app (by APPS key) or ``"all"`` apps."""
    c = PLATFORMS[platform](NOW)
    if app == "all":
        install_all(c)
    elif app is not None:
        APPS[app](c)
    return c


@cache
def wasteful(platform: str) -> tuple[Cluster, Waste]:
    """A cluster with every app installed and every waste pattern added."""
    c = PLATFORMS[platform](NOW)
    install_all(c)
    return c, add_all_waste(c)
