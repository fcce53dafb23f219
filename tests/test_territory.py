"""Tests of couverture.territory."""

import geopandas as gpd
import pytest
from shapely import Point, box

from couverture import InputError, Territory


def layers():
    communes = gpd.GeoDataFrame(
        {"code_insee": ["13001", "13002", "13003"], "nom": ["A", "B", "C"], "population": [100, 50, 25]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000), box(2000, 0, 3000, 1000)],
        crs=2154,
    )
    structures = gpd.GeoDataFrame(
        {"structure_id": ["S1", "S2"], "nom": ["Un", "Deux"], "type": ["CS", "EVS"], "code_insee": ["13001", "13002"]},
        geometry=[Point(500, 500), Point(1500, 500)],
        crs=2154,
    )
    zones = gpd.GeoDataFrame({"structure_id": ["S1"]}, geometry=[box(0, 0, 1000, 1000)], crs=2154)
    return communes, structures, zones


def test_counts_and_repr():
    t = Territory(*layers(), name="Essai")
    assert t.counts() == {"unites": 3, "population": 175, "structures": 2, "CS": 1, "EVS": 1, "zones": 1}
    assert repr(t) == "<Territory « Essai » : 3 unités, 175 habitants, 2 structures (1 CS, 1 EVS), 1 ZVS>"
    assert "<table>" in t._repr_html_() and "Essai" in t._repr_html_()


def test_layers_in_another_crs_are_reprojected():
    communes, structures, zones = layers()
    t = Territory(communes, structures.to_crs(4326), zones.to_crs(3857))
    assert t.structures.crs == t.crs and t.zones.crs == t.crs
    assert t.structures.geometry.iloc[0].distance(Point(500, 500)) < 1e-3


def test_refusals():
    communes, structures, zones = layers()
    with pytest.raises(InputError, match="pas de système de coordonnées"):
        Territory(communes, structures.set_crs(None, allow_override=True))
    dup = communes.copy()
    dup.loc[2, "code_insee"] = "13001"
    with pytest.raises(InputError, match="codes INSEE en double : 13001"):
        Territory(dup, structures)
    with pytest.raises(InputError, match=r"structures : colonne\(s\) manquante\(s\) : type"):
        Territory(communes, structures.drop(columns="type"))


def test_summary_conserves_population():
    t = Territory(*layers())
    s = t.summary()
    assert s.loc["Population dans au moins une ZVS", "valeur"] == 100
    assert s.loc["Population hors ZVS (zones blanches)", "valeur"] == 75
    assert s.loc["Part de la population dans une ZVS", "valeur"] == pytest.approx(57.1)


def test_coverage_without_zones_is_refused():
    communes, structures, _ = layers()
    with pytest.raises(InputError, match="pas de zones de vie sociale"):
        Territory(communes, structures).coverage()


def test_communes_in_wgs84_are_reprojected_to_the_departement_crs(caplog):
    import logging

    communes, structures, zones = layers()
    with caplog.at_level(logging.INFO, logger="couverture"):
        t = Territory(communes.to_crs(4326), structures.to_crs(4326), zones)
    assert t.crs.to_epsg() == 2154  # communes of the 13: Lambert-93
    assert "communes : reprojection de EPSG:4326 vers EPSG:2154" in caplog.text
    assert t.communes.geometry.iloc[0].equals_exact(communes.geometry.iloc[0], tolerance=1e-3)
    assert t.structures.geometry.iloc[0].distance(Point(500, 500)) < 1e-3


def test_structures_far_outside_the_territory_warn():
    from couverture.errors import CouvertureWarning

    communes, structures, zones = layers()
    far = structures.copy()
    far.loc[far.index[0], "geometry"] = Point(500, 60_000)  # 20 km away is still ok; 58 km is not
    with pytest.warns(
        CouvertureWarning,
        match=r"structures : 1 structure\(s\) à plus de 20 km du territoire \(" + str(far["structure_id"].iloc[0]),
    ):
        Territory(communes, far, zones)
