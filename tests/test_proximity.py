"""Tests of couverture.analysis.proximity (hand-computed fixtures, brute force)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from couverture.analysis.proximity import catchments, nearest_distance, population_within
from couverture.errors import InputError

CRS = "EPSG:2154"


def units():
    """Four 1 km squares in a row; analysis points given in a `point` column.

    point of u0 = (0, 0), u1 = (3000, 4000), u2 = (6000, 0), u3 = (20000, 0).
    """
    geoms = [box(x, 0, x + 1000, 1000) for x in (0, 3000, 6000, 20000)]
    gdf = gpd.GeoDataFrame(
        {
            "code_insee": ["01001", "01002", "01003", "01004"],
            "nom": ["A", "B", "C", "D"],
            "population": [100, 0, 40, 7],
            "epci": ["e1", "e1", "e2", "e2"],
        },
        geometry=geoms,
        crs=CRS,
        index=pd.Index([10, 11, 12, 13], name="id"),
    )
    gdf["point"] = gpd.GeoSeries(
        [Point(0, 0), Point(3000, 4000), Point(6000, 0), Point(20000, 0)],
        crs=CRS,
        index=gdf.index,
    )
    return gdf


def structures():
    """CS at the origin, EVS at (6000, 8000): 5 km from u1 = (3000, 4000)."""
    return gpd.GeoDataFrame(
        {"structure_id": ["CS1", "EVS1"], "type": ["CS", "EVS"], "nom": ["x", "y"]},
        geometry=[Point(0, 0), Point(6000, 8000)],
        crs=CRS,
    )


# --------------------------------------------------------------- nearest ---


def test_nearest_distance_by_hand():
    d = nearest_distance(units(), structures())
    assert d.name == "distance_m"
    assert list(d.index) == [10, 11, 12, 13]
    # u0 on CS1; u1: 5000 to CS1 and 5000 to EVS1 (tie); u2: 6000 to CS1,
    # hypot(0, 8000)=8000 to EVS1; u3: 20000 to CS1, hypot(14000, 8000) to EVS1
    expected = [0.0, 5000.0, 6000.0, min(20000.0, np.hypot(14000, 8000))]
    assert d.tolist() == pytest.approx(expected, rel=0, abs=1e-9)


def test_nearest_distance_types_filter():
    u, s = units(), structures()
    evs = nearest_distance(u, s, types="EVS")
    assert evs.tolist() == pytest.approx([10000.0, 5000.0, 8000.0, np.hypot(14000, 8000)], abs=1e-9)
    both = nearest_distance(u, s, types=["CS", "EVS"])
    assert both.tolist() == nearest_distance(u, s).tolist()
    with pytest.raises(InputError, match="type de structure inconnu"):
        nearest_distance(u, s, types="MJC")


def test_nearest_distance_without_point_uses_representative_point():
    u = units().drop(columns="point")
    s = gpd.GeoDataFrame({"structure_id": ["S"]}, geometry=[Point(500, -1500)], crs=CRS)
    d = nearest_distance(u, s)
    # representative point of box(0,0,1000,1000) lies inside the square: its
    # distance to (500, -1500) is between 1500 and hypot(500, 2500)
    assert 1500 <= d.iloc[0] <= np.hypot(500, 2500)
    xy = u.geometry.representative_point()
    assert d.iloc[0] == pytest.approx(xy.iloc[0].distance(Point(500, -1500)), abs=1e-9)


def test_nearest_distance_missing_point_falls_back_to_geometry():
    u = units()
    u.loc[13, "point"] = None
    d = nearest_distance(u, structures())
    rp = u.geometry.representative_point().loc[13]
    expected = min(rp.distance(Point(0, 0)), rp.distance(Point(6000, 8000)))
    assert d.loc[13] == pytest.approx(expected, abs=1e-9)
    assert d.loc[13] != pytest.approx(nearest_distance(units(), structures()).loc[13])


def test_nearest_distance_brute_force_random():
    rng = np.random.default_rng(42)
    dem = rng.uniform(0, 100_000, size=(800, 2))
    sup = rng.uniform(0, 100_000, size=(60, 2))
    demand = gpd.GeoDataFrame(
        {"population": rng.integers(0, 5000, 800)},
        geometry=gpd.points_from_xy(dem[:, 0], dem[:, 1]),
        crs=CRS,
    )
    supply = gpd.GeoDataFrame(
        {"structure_id": [f"S{i}" for i in range(60)]},
        geometry=gpd.points_from_xy(sup[:, 0], sup[:, 1]),
        crs=CRS,
    )
    full = np.sqrt(((dem[:, None, :] - sup[None, :, :]) ** 2).sum(axis=2))
    got = nearest_distance(demand, supply).to_numpy()
    np.testing.assert_allclose(got, full.min(axis=1), rtol=1e-12)
    # population within 8 km, brute force
    within = (full <= 8000).any(axis=1)
    assert population_within(demand, supply, 8000) == int(demand["population"][within].sum())
    # catchments, brute force
    c = catchments(demand, supply, 8000)
    pop = demand["population"].to_numpy()
    np.testing.assert_array_equal(c["population"].to_numpy(), ((full <= 8000) * pop[:, None]).sum(0))
    np.testing.assert_array_equal(c["n_unites"].to_numpy(), (full <= 8000).sum(0))


def test_nearest_distance_empty_supply_is_nan():
    s = structures().iloc[:0]
    d = nearest_distance(units(), s)
    assert d.isna().all() and len(d) == 4
    assert population_within(units(), s, 1e9) == 0


def test_supply_in_other_crs_is_reprojected():
    u, s = units(), structures()
    d_ref = nearest_distance(u, s)
    d = nearest_distance(u, s.to_crs("EPSG:3857"))
    np.testing.assert_allclose(d.to_numpy(), d_ref.to_numpy(), atol=1e-3)


def test_inputs_not_modified():
    u, s = units(), structures()
    u0, s0 = u.copy(), s.copy()
    nearest_distance(u, s)
    population_within(u, s, 5000)
    catchments(u, s, 5000)
    pd.testing.assert_frame_equal(u, u0)
    pd.testing.assert_frame_equal(s, s0)


# ---------------------------------------------------------- within radius ---


def test_population_within_radius_is_inclusive():
    u, s = units(), structures()
    # u1 is exactly 5000 m from CS1 and EVS1, population 0 ; u0 at 0 m: 100
    assert population_within(u, s, 5000) == 100
    # u2 at exactly 6000 m from CS1: counted (<=)
    assert population_within(u, s, 6000) == 140
    assert population_within(u, s, 5999.999) == 100
    assert population_within(u, s, 0) == 100
    res = population_within(u, s, 1e6)
    assert res == 147 and isinstance(res, int)


def test_population_within_float_population():
    u = units()
    u["population"] = [10.5, 0.0, 2.25, 1.0]
    assert population_within(u, structures(), 6000) == pytest.approx(12.75)


def test_population_errors():
    u, s = units(), structures()
    bad = u.copy()
    bad["population"] = [1, -3, 2, 2]
    with pytest.raises(InputError, match="valeur négative"):
        population_within(bad, s, 10)
    bad["population"] = [1, None, 2, 2]
    with pytest.raises(InputError, match="valeur manquante"):
        population_within(bad, s, 10)
    with pytest.raises(InputError, match="colonne « habitants » : colonne absente"):
        population_within(u, s, 10, demand_col="habitants")
    with pytest.raises(InputError, match="positive ou nulle"):
        population_within(u, s, -1)
    with pytest.raises(InputError, match="un nombre est attendu"):
        population_within(u, s, "loin")


def test_layer_errors():
    u, s = units(), structures()
    with pytest.raises(InputError, match="GeoDataFrame est attendue"):
        nearest_distance(pd.DataFrame(u.drop(columns=["geometry", "point"])), s)
    with pytest.raises(InputError, match="pas de système de coordonnées"):
        nearest_distance(u, s.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="en degrés"):
        nearest_distance(u.to_crs(4326), s)
    dup = s.copy()
    dup.index = [0, 0]
    with pytest.raises(InputError, match="doublons"):
        nearest_distance(u, dup)
    empty_geom = s.copy()
    empty_geom.loc[1, "geometry"] = None
    with pytest.raises(InputError, match="sans géométrie.*EVS1"):
        nearest_distance(u, empty_geom)


# ---------------------------------------------------------------- catchments --


def test_catchments_by_hand():
    u, s = units(), structures()
    c = catchments(u, s, 6000)
    # CS1 reaches u0 (0 m), u1 (5000), u2 (6000, boundary); EVS1 reaches u1 (5000)
    assert c["structure_id"].tolist() == ["CS1", "EVS1"]
    assert c["population"].tolist() == [140, 0]
    assert c["n_unites"].tolist() == [3, 1]
    # u1 is reached by both: not exclusive (it has no population anyway)
    assert c["population_exclusive"].tolist() == [140, 0]
    c2 = catchments(u, s, 8000)
    # EVS1 now also reaches u2 (8000 m): u2 is shared
    assert c2["population"].tolist() == [140, 40]
    assert c2["population_exclusive"].tolist() == [100, 0]
    assert catchments(u, s, 8000, types="EVS")["structure_id"].tolist() == ["EVS1"]


# ---------------------------------------------------------------- cost table --


def cost_table():
    return pd.DataFrame(
        {
            # codes as a spreadsheet gives them back: leading zero lost
            "origin": [1001, 1001, 1002, 1003],
            "destination": ["CS1", "EVS1", "EVS1", "CS1"],
            "cost": [12.0, 3.0, 15.0, 15.0],
        }
    )


def test_cost_table_replaces_distance():
    u, s = units(), structures()
    d = nearest_distance(u, s, cost=cost_table())
    assert d.name == "cout"
    assert d.iloc[:3].tolist() == [3.0, 15.0, 15.0]
    assert np.isnan(d.iloc[3])  # u3 absent from the table: unreachable
    assert population_within(u, s, 15, cost=cost_table()) == 140
    assert population_within(u, s, 14.9, cost=cost_table()) == 100
    # type filter applies to the table's destinations
    d_cs = nearest_distance(u, s, cost=cost_table(), types="CS")
    assert d_cs.iloc[0] == 12.0 and np.isnan(d_cs.iloc[1])
    c = catchments(u, s, 12, cost=cost_table())
    assert c["population"].tolist() == [100, 100]
    assert c["population_exclusive"].tolist() == [0, 0]


def test_cost_table_by_index_and_french_names():
    u, s = units(), structures()
    s.index = ["a", "b"]
    table = pd.DataFrame({"origine": [10, 13], "destination": ["a", "b"], "cout": [1.0, 2.0]})
    d = nearest_distance(u, s, cost=table)
    assert d.loc[10] == 1.0 and d.loc[13] == 2.0 and d.loc[[11, 12]].isna().all()


def test_cost_table_errors():
    u, s = units(), structures()
    with pytest.raises(InputError, match="colonne « cost » : colonne absente"):
        nearest_distance(u, s, cost=pd.DataFrame({"origin": [], "destination": []}))
    bad = cost_table()
    bad.loc[2, "cost"] = -1
    with pytest.raises(InputError, match="coût manquant, non numérique ou négatif.*lignes 4"):
        nearest_distance(u, s, cost=bad)
    dup = pd.concat([cost_table(), cost_table().iloc[:1]])
    with pytest.raises(InputError, match="en double"):
        nearest_distance(u, s, cost=dup)
    nothing = pd.DataFrame({"origin": ["99999"], "destination": ["CS1"], "cost": [1.0]})
    with pytest.raises(InputError, match="aucune ligne de la table"):
        nearest_distance(u, s, cost=nothing)
    with pytest.raises(InputError, match="DataFrame"):
        nearest_distance(u, s, cost=[1, 2])


# ----------------------------------------------------------------------------- kilometres typed for metres (issue 12)


def test_a_distance_under_100_m_on_a_wide_territory_warns_naming_the_parameter():
    import geopandas as gpd
    from shapely.geometry import Point

    from couverture.analysis.fca import two_step_fca
    from couverture.analysis.proximity import population_within
    from couverture.analysis.scenarios import best_sites
    from couverture.errors import CouvertureWarning

    d = gpd.GeoDataFrame(
        {"population": [10, 20, 5]}, geometry=[Point(0, 0), Point(30000, 0), Point(60000, 0)], crs=2154
    )
    s = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[Point(0, 0)], crs=2154)
    with pytest.warns(CouvertureWarning, match=r"radius = 5 : moins de 100 m .* vérifiez radius"):
        population_within(d, s, 5)
    with pytest.warns(CouvertureWarning, match=r"max_distance = 10 : moins de 100 m"):
        two_step_fca(d, s, 10)
    with pytest.warns(CouvertureWarning, match=r"radius = 2,5 : moins de 100 m"):
        best_sites(d, k=1, radius=2.5)
    # metres as intended, and toy layers a few metres wide: no warning
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        population_within(d, s, 5000)
        small = d.set_geometry(d.geometry.scale(1e-4, 1e-4, origin=(0, 0)))
        population_within(small, s, 5)


def test_ties_at_the_radius_are_in_reach():
    """Exact ties (np.hypot, the distance nearest_distance reports) count in catchments and population_within."""
    rng = np.random.default_rng(1)
    dem, sup = rng.uniform(800_000, 900_000, (60, 2)), rng.uniform(800_000, 900_000, (60, 2))
    for a, b in zip(dem, sup):
        d_pt = gpd.GeoDataFrame({"population": [7]}, geometry=[Point(*a)], crs=CRS)
        s_pt = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[Point(*b)], crs=CRS)
        r = float(nearest_distance(d_pt, s_pt).iloc[0])
        assert r == float(np.hypot(*(a - b)))
        got = catchments(d_pt, s_pt, r)
        assert got["population"].tolist() == [7] and got["n_unites"].tolist() == [1]
        assert population_within(d_pt, s_pt, r) == 7
