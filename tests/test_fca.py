"""Tests of couverture.analysis.fca: hand-computed 2SFCA and PySAL `access`."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from couverture.analysis.fca import decay_weights, two_step_fca
from couverture.errors import InputError

CRS = "EPSG:2154"


def demand():
    """u0 (0,0) 100 hab; u1 (10,0) 300; u2 (20,0) 0; u3 (100,0) 50, out of every reach."""
    return gpd.GeoDataFrame(
        {"code_insee": ["01001", "01002", "01003", "01004"], "population": [100, 300, 0, 50]},
        geometry=[Point(0, 0), Point(10, 0), Point(20, 0), Point(100, 0)],
        crs=CRS,
        index=["a", "b", "c", "d"],
    )


def supply():
    """A (5,0) reaches u0 and u1 at exactly 5; B (14,0) reaches u1 at 4; C (25,0) reaches u2 only."""
    return gpd.GeoDataFrame(
        {
            "structure_id": ["A", "B", "C"],
            "type": ["CS", "EVS", "CS"],
            "capacite": [2, 3, 1],
        },
        geometry=[Point(5, 0), Point(14, 0), Point(25, 0)],
        crs=CRS,
    )


def test_classical_by_hand():
    acc = two_step_fca(demand(), supply(), 5)
    assert acc.name == "accessibilite_2sfca"
    assert list(acc.index) == ["a", "b", "c", "d"]
    # R_A = 1/(100+300), R_B = 1/300, R_C = 1/0 -> 0 (nobody to serve)
    expected = [1 / 400, 1 / 400 + 1 / 300, 0.0, 0.0]
    np.testing.assert_allclose(acc.to_numpy(), expected, rtol=1e-15)


def test_boundary_is_inclusive():
    # just under 5 m, A reaches nobody (u0 and u1 are at exactly 5 m)
    acc = two_step_fca(demand(), supply(), 4.999)
    np.testing.assert_allclose(acc.to_numpy(), [0, 1 / 300, 0, 0], rtol=1e-15)


def test_capacity_column():
    acc = two_step_fca(demand(), supply(), 5, supply_col="capacite")
    np.testing.assert_allclose(acc.to_numpy(), [2 / 400, 2 / 400 + 3 / 300, 0, 0], rtol=1e-15)
    bad = supply()
    bad["capacite"] = [1, None, 2]
    with pytest.raises(InputError, match="colonne « capacite » : valeur manquante.*B"):
        two_step_fca(demand(), bad, 5, supply_col="capacite")


def test_no_structure_in_reach_gives_float_zeros():
    acc = two_step_fca(demand(), supply().iloc[:0], 5)
    assert acc.tolist() == [0.0, 0.0, 0.0, 0.0] and acc.dtype == np.float64


def test_types_filter():
    acc = two_step_fca(demand(), supply(), 5, types="EVS")
    np.testing.assert_allclose(acc.to_numpy(), [0, 1 / 300, 0, 0], rtol=1e-15)


def test_step_decay_by_hand():
    acc = two_step_fca(demand(), supply(), 5, decay=[(4, 1.0), (5, 0.5)])
    # weights: A-u0 0.5, A-u1 0.5, B-u1 1.0, C-u2 0.5
    r_a = 1 / (0.5 * 100 + 0.5 * 300)
    r_b = 1 / 300
    np.testing.assert_allclose(acc.to_numpy(), [0.5 * r_a, 0.5 * r_a + r_b, 0, 0], rtol=1e-15)


def test_callable_decay_and_scaling():
    d, s = demand(), supply()
    flat = two_step_fca(d, s, 5, decay=lambda x: np.ones_like(x))
    pd.testing.assert_series_equal(flat, two_step_fca(d, s, 5))
    d2 = d.copy()
    d2["population"] = d2["population"] * 2
    np.testing.assert_allclose(two_step_fca(d2, s, 5).to_numpy(), two_step_fca(d, s, 5).to_numpy() / 2, rtol=1e-15)


def test_decay_weights_named():
    x = np.array([0.0, 2.0, 5.0, 8.0])
    g = decay_weights(x, "gaussian", 5)
    e = math.exp(-0.5)
    expected = [(math.exp(-0.5 * (v / 5) ** 2) - e) / (1 - e) if v <= 5 else 0.0 for v in x]
    np.testing.assert_allclose(g, expected, rtol=1e-14)
    assert g[0] == 1.0 and g[2] == 0.0
    p = decay_weights(x, ("power", 2.0, 2.0), 5)
    np.testing.assert_allclose(p, [1.0, 1.0, (5 / 2) ** -2, (8 / 2) ** -2], rtol=1e-15)
    # default power: beta 1, d_min = max_distance / 10 = 0.5
    np.testing.assert_allclose(decay_weights(x, "puissance", 5), [1.0, 0.25, 0.1, 0.0625])


def test_decay_errors():
    d, s = demand(), supply()
    with pytest.raises(InputError, match="fonction de décroissance inconnue"):
        two_step_fca(d, s, 5, decay="logistique")
    with pytest.raises(InputError, match="croissantes"):
        two_step_fca(d, s, 5, decay=[(5, 1.0), (4, 0.5)])
    with pytest.raises(InputError, match="poids des paliers"):
        two_step_fca(d, s, 5, decay=[(5, -1.0)])
    with pytest.raises(InputError, match="un poids par distance"):
        two_step_fca(d, s, 5, decay=lambda x: x[:1])
    with pytest.raises(InputError, match="négatifs ou non finis"):
        two_step_fca(d, s, 5, decay=lambda x: -x)
    with pytest.raises(InputError, match="strictement positifs"):
        two_step_fca(d, s, 5, decay=("power", 0))
    with pytest.raises(InputError, match="distance finie positive"):
        two_step_fca(d, s, float("inf"))
    with pytest.raises(InputError, match="un nombre est attendu"):
        two_step_fca(d, s, None)


def test_cost_table_matches_euclidean():
    d, s = demand(), supply()
    dem = np.c_[d.geometry.x, d.geometry.y]
    sup = np.c_[s.geometry.x, s.geometry.y]
    full = np.hypot(*(dem[:, None, :] - sup[None, :, :]).transpose(2, 0, 1))
    ii, jj = np.meshgrid(np.arange(4), np.arange(3), indexing="ij")
    table = pd.DataFrame(
        {
            "origin": d["code_insee"].to_numpy()[ii.ravel()],
            "destination": s["structure_id"].to_numpy()[jj.ravel()],
            "cost": full.ravel(),
        }
    )
    pd.testing.assert_series_equal(two_step_fca(d, s, 5, cost=table), two_step_fca(d, s, 5))
    # a pair missing from the table is out of reach: drop A-u0
    partial = table[~((table.origin == "01001") & (table.destination == "A"))]
    acc = two_step_fca(d, s, 5, cost=partial)
    np.testing.assert_allclose(acc.to_numpy(), [0, 1 / 300 + 1 / 300, 0, 0], rtol=1e-15)


# ------------------------------------------------------- PySAL access -------


def random_case(seed=7, n=300, m=40, extent=60_000.0):
    rng = np.random.default_rng(seed)
    dem = rng.uniform(0, extent, size=(n, 2))
    sup = rng.uniform(0, extent, size=(m, 2))
    codes = [f"{13000 + i:05d}" for i in range(n)]
    d = gpd.GeoDataFrame(
        {"code_insee": codes, "population": rng.integers(0, 20_000, n)},
        geometry=gpd.points_from_xy(dem[:, 0], dem[:, 1]),
        crs=CRS,
    )
    d.loc[:4, "population"] = 0  # a few empty units
    s = gpd.GeoDataFrame(
        {"structure_id": [f"S{j:03d}" for j in range(m)], "capacite": rng.integers(1, 5, m)},
        geometry=gpd.points_from_xy(sup[:, 0], sup[:, 1]),
        crs=CRS,
    )
    full = np.sqrt(((dem[:, None, :] - sup[None, :, :]) ** 2).sum(axis=2))
    ii, jj = np.meshgrid(np.arange(n), np.arange(m), indexing="ij")
    cost = pd.DataFrame(
        {
            "origin": np.asarray(codes)[ii.ravel()],
            "dest": s["structure_id"].to_numpy()[jj.ravel()],
            "cost": full.ravel(),
        }
    )
    return d, s, cost


# access 1.1.10 uses DataFrame.set_index(inplace=True), deprecated in pandas 3
pytestmark_access = pytest.mark.filterwarnings("ignore:The inplace keyword")


def run_access(d, s, cost, max_cost, supply_value, weight_fn=None):
    access = pytest.importorskip("access")
    dem_df = pd.DataFrame({"geoid": d["code_insee"].to_numpy(), "pop": d["population"]})
    sup_df = pd.DataFrame({"geoid": s["structure_id"].to_numpy(), "value": s[supply_value].to_numpy(dtype=float)})
    a = access.Access(
        demand_df=dem_df,
        demand_index="geoid",
        demand_value="pop",
        supply_df=sup_df,
        supply_index="geoid",
        supply_value="value",
        cost_df=cost,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    res = a.two_stage_fca(name="fca", max_cost=max_cost, weight_fn=weight_fn, normalize=False)
    return res["fca_value"].reindex(d["code_insee"].to_numpy()).fillna(0).to_numpy()


@pytestmark_access
@pytest.mark.parametrize("radius", [5_000.0, 12_000.0])
def test_equals_pysal_access(radius):
    d, s, cost = random_case()
    s["un"] = 1
    expected = run_access(d, s, cost, radius, "un")
    got = two_step_fca(d, s, radius).to_numpy()
    assert (got > 0).any() and (got == 0).any()
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0)


@pytestmark_access
def test_equals_pysal_access_capacity_and_gaussian():
    d, s, cost = random_case(seed=11)
    radius = 10_000.0
    got = two_step_fca(d, s, radius, supply_col="capacite").to_numpy()
    np.testing.assert_allclose(got, run_access(d, s, cost, radius, "capacite"), rtol=1e-9)

    e = math.exp(-0.5)

    def gauss(x):  # scalar, written independently of decay_weights
        return (math.exp(-0.5 * (x / radius) ** 2) - e) / (1 - e)

    got = two_step_fca(d, s, radius, supply_col="capacite", decay="gaussian").to_numpy()
    expected = run_access(d, s, cost, radius, "capacite", weight_fn=gauss)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-300)


def test_inputs_not_modified():
    d, s = demand(), supply()
    d0, s0 = d.copy(), s.copy()
    two_step_fca(d, s, 5, supply_col="capacite", decay="gaussian")
    pd.testing.assert_frame_equal(d, d0)
    pd.testing.assert_frame_equal(s, s0)


def _tie_pairs(seed: int, n: int = 60):
    """n (demand, supply) coordinate pairs in Lambert-93-sized numbers (ties are 1-ulp fragile)."""
    rng = np.random.default_rng(seed)
    return rng.uniform(800_000, 900_000, (n, 2)), rng.uniform(800_000, 900_000, (n, 2))


def _one(xy, **cols):
    return gpd.GeoDataFrame(cols, geometry=[Point(*xy)], crs=CRS)


def test_pair_exactly_at_max_distance_is_in_reach():
    """A pair at the distance the library reports (or np.hypot's) is within that limit.

    Before the fix about one pair in five was dropped: the k-d tree's
    squared-sum distance and np.hypot disagree by one ulp.
    """
    from couverture.analysis.proximity import nearest_distance

    dem, sup = _tie_pairs(0)
    for a, b in zip(dem, sup):
        d_pt = _one(a, population=[100])
        s_pt = _one(b, structure_id=["A"], type=["CS"])
        reported = float(nearest_distance(d_pt, s_pt).iloc[0])
        assert reported == float(np.hypot(*(a - b)))
        assert two_step_fca(d_pt, s_pt, reported).iloc[0] == pytest.approx(1 / 100)
