"""Tests of couverture.maps.style: MapStyle fills the keywords of the map functions."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd
import pytest
from shapely import box

from couverture.errors import InputError
from couverture.maps.interactive import interactive
from couverture.maps.static import choropleth
from couverture.maps.style import MapStyle


@pytest.fixture
def units():
    return gpd.GeoDataFrame(
        {"nom": list("ABCD"), "code_insee": ["01001", "01002", "01003", "01004"], "taux": [10.0, 20.0, 30.0, 40.0]},
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(4)],
        crs=2154,
    )


def test_style_gives_the_same_map_as_the_keywords(units):
    style = MapStyle(scheme="intervalles_egaux", k=2, palette="Greens", inset=None, sources="essai")
    by_style = choropleth(units, "taux", style=style)
    by_keywords = choropleth(units, "taux", "intervalles_egaux", k=2, palette="Greens", inset=None, sources="essai")
    a, b = by_style.couverture_classification, by_keywords.couverture_classification
    assert a.bins.tolist() == b.bins.tolist() == [25.0, 40.0]
    assert list(a.colors) == list(b.colors)


def test_a_keyword_given_wins_over_the_style(units):
    style = MapStyle(scheme="intervalles_egaux", k=2, inset=None, sources="essai")
    fig = choropleth(units, "taux", "quantiles", k=4, style=style)  # scheme given positionally
    cls = fig.couverture_classification
    assert len(cls.bins) == 4


def test_fields_a_function_does_not_take_are_ignored(units):
    style = MapStyle(k=2, max_size=12.0, tiles=None, opacity=0.5)
    m = interactive(units, "taux", style=style)
    assert "taux" in m.get_root().render()
    assert style.options_for(choropleth) == {"k": 2}


def test_style_must_be_a_mapstyle(units):
    with pytest.raises(InputError, match="style : un MapStyle est attendu"):
        choropleth(units, "taux", style={"k": 2})
    with pytest.raises(dataclasses.FrozenInstanceError):
        MapStyle().k = 3  # type: ignore[misc]
