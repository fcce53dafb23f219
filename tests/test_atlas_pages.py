"""Page contexts of the atlas (couverture.atlas.pages), checked without a browser nor any file."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pytest
from shapely import Point, box

from couverture.analysis.diagnostic import diagnose
from couverture.atlas.model import atlas_model
from couverture.atlas.pages import zones_blanches
from couverture.params import Parameters
from couverture.territory import Territory


def _territory(zones: bool) -> Territory:
    """Four 1 km squares in a row (A B C D), a CS in A and an EVS in C; ZVS A+B and B+C."""
    communes = gpd.GeoDataFrame(
        {
            "code_insee": ["13001", "13002", "13003", "13004"],
            "nom": ["Aval", "Amont", "Côte", "Plaine"],
            "population": [1000, 500, 300, 200],
        },
        geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(4)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {
            "structure_id": ["S1", "S2"],
            "nom": ["Un", "Deux"],
            "type": ["CS", "EVS"],
            "code_insee": ["13001", "13003"],
        },
        geometry=[Point(500, 500), Point(2500, 500)],
        crs=2154,
    )
    z = gpd.GeoDataFrame(
        {"structure_id": ["S1", "S2"]},
        geometry=[box(0, 0, 2000, 1000), box(1000, 0, 3000, 1000)],
        crs=2154,
    )
    return Territory(communes, structures, z if zones else None, name="Petit")


def test_zones_blanches_context_with_zones():
    m = atlas_model(diagnose(_territory(True), Parameters(radius=500), evolution=False))
    c = zones_blanches.context(m)
    assert c["titre"] == "Zones blanches"
    # D alone is outside both ZVS; its polygon is 500 m from S2 (at C's centre)
    [row] = c["lignes"]
    assert row["rang"] == 1 and row["population"] == 200 and row["n"] == 1
    assert row["unites"] == [{"href": "communes/13004.html", "texte": "Plaine"}]
    assert row["distance_m"] == 500.0 and row["proche"] == {
        "href": "structures/s2.html",
        "texte": "Deux",
    }
    assert c["total"] == 200 and c["membres"] == ["13004"]


def test_zones_blanches_context_without_zones_is_proximity():
    m = atlas_model(diagnose(_territory(False), Parameters(radius=500), evolution=False))
    c = zones_blanches.context(m)
    assert c["titre"] == "Zones blanches de proximité" and "proximité" in c["carte_libelle"]
    # B (1000 m from either structure) and D (1000 m from S2), not contiguous: two zones, by population
    assert [(r["rang"], r["population"], [u["texte"] for u in r["unites"]]) for r in c["lignes"]] == [
        (1, 500, ["Amont"]),
        (2, 200, ["Plaine"]),
    ]
    assert c["total"] == 700 == sum(r["population"] for r in c["lignes"])
    assert c["fil"][-1] == ("Zones blanches de proximité", None)


def test_context_is_raw_numbers_and_the_model_is_frozen():
    m = atlas_model(diagnose(_territory(False), Parameters(radius=500), evolution=False))
    row = zones_blanches.context(m)["lignes"][0]
    assert all(
        isinstance(row[k], float) for k in ("population", "surface", "distance_m")
    )  # formatting is the template's
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.radius_m = 1.0
    with pytest.raises(TypeError):
        m.unit_slugs["x"] = "y"
