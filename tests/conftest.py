"""Shared fixtures: the bundled communes of the 13 and the demonstration territory."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

collect_ignore = ["data", "baseline"]


@pytest.fixture(scope="session")
def communes13():
    """The 134 real units of Bouches-du-Rhône (do not modify: copy first)."""
    from couverture._resources import data_path
    from couverture.io.communes import read_communes

    return read_communes(data_path("communes", "communes-13.geojson"))


@pytest.fixture(scope="session")
def demo():
    """The demonstration Territory (do not modify: copy first)."""
    from couverture.io.demo import load_demo

    return load_demo()
