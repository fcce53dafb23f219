"""Demand by need: any population-like column is the demand of every analysis."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from couverture.analysis.demand import demand_table, with_demand
from couverture.analysis.equity import equity_report
from couverture.analysis.fca import two_step_fca
from couverture.analysis.proximity import population_within
from couverture.analysis.scenarios import best_sites
from couverture.errors import InputError


def case(seed=0):
    rng = np.random.default_rng(seed)
    n = 60
    xy = rng.uniform(0, 20_000, (n, 2))
    units = gpd.GeoDataFrame(
        {
            "population": rng.integers(10, 500, n),
            "men_fmp": np.round(rng.uniform(0, 30, n), 1),
            "ind_0_3": rng.uniform(0, 9, n),
            "ind_4_5": rng.uniform(0, 9, n),
            "ind_6_10": rng.uniform(0, 9, n),
            "ind_11_17": rng.uniform(0, 9, n),
        },
        geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]),
        crs=2154,
    )
    s = gpd.GeoDataFrame(
        {"structure_id": ["A", "B", "C"], "type": ["CS", "EVS", "CS"]},
        geometry=[Point(3000, 3000), Point(15000, 9000), Point(8000, 17000)],
        crs=2154,
    )
    return units, s


def as_population(units, col):
    """The same units where the demand column is called population (the independent path)."""
    out = units.copy()
    out["population"] = out[col].to_numpy()
    return out


def test_every_analysis_takes_the_demand_column():
    units, s = case()
    alt = as_population(units, "men_fmp")
    assert np.allclose(two_step_fca(units, s, 6000, demand_col="men_fmp"), two_step_fca(alt, s, 6000))
    assert np.isclose(population_within(units, s, 5000, demand_col="men_fmp"), population_within(alt, s, 5000))
    cand = units.iloc[::5][["geometry"]].assign(structure_id=[f"c{i}" for i in range(12)])
    a = best_sites(units, cand, k=2, radius=4000, demand_col="men_fmp")
    b = best_sites(alt, cand, k=2, radius=4000)
    assert a.index.tolist() == b.index.tolist()
    units["d"] = np.arange(len(units), dtype=float)
    alt["d"] = units["d"]
    pd.testing.assert_frame_equal(equity_report(units, "d", weights="men_fmp"), equity_report(alt, "d"))


def test_derived_and_missing_demands():
    units, _ = case(1)
    u = with_demand(units, ["ind_0_17"])
    assert np.allclose(u["ind_0_17"], units[["ind_0_3", "ind_4_5", "ind_6_10", "ind_11_17"]].sum(axis=1))
    assert "ind_0_17" not in units.columns  # caller's frame untouched
    with pytest.raises(InputError, match="demande « men_pauv » absente"):
        with_demand(units, ["men_pauv"])


def test_demand_table_side_by_side():
    units, s = case(2)
    covered = np.arange(len(units)) % 3 == 0
    t = demand_table(units, s, ["population", "men_fmp", "ind_0_17"], radius=5000, max_distance=6000, covered=covered)
    d = np.sqrt(
        ((np.c_[units.geometry.x, units.geometry.y][:, None] - np.c_[s.geometry.x, s.geometry.y][None]) ** 2).sum(-1)
    ).min(1)
    for name in ("population", "men_fmp"):
        w = units[name].to_numpy(float)
        assert np.isclose(t.loc[name, "total"], w.sum())
        assert np.isclose(t.loc[name, "a_portee"], w[d <= 5000].sum())
        assert np.isclose(t.loc[name, "dans_zvs"], w[covered].sum())
        acc = two_step_fca(units, s, 6000, demand_col=name).to_numpy()
        assert np.isclose(t.loc[name, "acces_2sfca_moyen"], np.average(acc, weights=w) * 10_000)
    assert t.loc["men_fmp", "libelle"] == "ménages monoparentaux"
    assert demand_table(units, s, ["population"], radius=5000, max_distance=6000)["dans_zvs"].isna().all()
