"""Tests of couverture.analysis.levels (aggregation to EPCI, territories, département)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from couverture.analysis.levels import aggregate, weighted_median
from couverture.errors import InputError

CRS = "EPSG:2154"
NAN = float("nan")


def units():
    return gpd.GeoDataFrame(
        {
            "code_insee": ["01001", "01002", "01003", "01004", "01005", "01006"],
            "population": [6000, 3000, 1000, 0, 500, 500],
            "epci": ["e1", "e1", "e1", "e2", "e2", "e2"],
        },
        geometry=[box(x, 0, x + 1000, 1000) for x in range(0, 6000, 1000)],
        crs=CRS,
        index=pd.RangeIndex(100, 106),
    )


def indicators():
    return pd.DataFrame(
        {
            "couvert": [True, False, False, False, True, False],
            # u1 exactly at 10 km (within), u3/u4 reach no structure (NaN)
            "distance_m": [0.0, 10_000.0, 15_000.0, NAN, NAN, 2000.0],
            "accessibilite_2sfca": [2e-4, 1e-4, 0.0, 0.0, 0.0, 4e-4],
        },
        index=pd.RangeIndex(100, 106),
    )


def structures():
    """S4 has an unknown code and lies outside; S5 has Marseille's PLM code but lies in u5."""
    return gpd.GeoDataFrame(
        {
            "structure_id": ["S1", "S2", "S3", "S4", "S5"],
            "type": ["CS", "EVS", "CS", "CS", "EVS"],
            "code_insee": ["01001", "1001", "01005", "99999", "13055"],
        },
        geometry=[Point(10, 10), Point(20, 20), Point(4500, 500), Point(-9e4, 0), Point(5500, 500)],
        crs=CRS,
    )


def test_aggregate_by_epci_by_hand():
    agg = aggregate(units(), indicators(), "epci", structures=structures(), mean_cols=["accessibilite_2sfca"])
    assert list(agg.index) == ["e1", "e2"] and agg.index.name == "epci"
    assert agg["population"].tolist() == [10_000, 1000]
    assert agg["n_unites"].tolist() == [3, 3]
    assert agg["population_couverte"].tolist() == [6000, 500]
    assert agg["population_non_couverte"].tolist() == [4000, 500]
    assert agg["taux_couverture_pct"].tolist() == [60.0, 50.0]
    # beyond 10 km (strictly) or unreachable
    assert agg["population_sans_structure_10km"].tolist() == [1000, 500]
    assert agg["part_sans_structure_10km_pct"].tolist() == [10.0, 50.0]
    assert agg["population_sans_structure_accessible"].tolist() == [0, 500]
    # weighted by population, over the units reaching a structure
    assert agg["distance_moyenne_m"].tolist() == pytest.approx([4500.0, 2000.0])
    assert agg["distance_mediane_m"].tolist() == [0.0, 2000.0]
    assert agg["n_structures"].tolist() == [2, 2]
    assert agg["n_structures_cs"].tolist() == [1, 1]
    assert agg["n_structures_evs"].tolist() == [1, 1]
    assert agg["structures_pour_10000_hab"].tolist() == pytest.approx([2.0, 20.0])
    assert agg["accessibilite_2sfca_moyenne_ponderee"].tolist() == pytest.approx(
        [(6000 * 2e-4 + 3000 * 1e-4) / 10_000, 500 * 4e-4 / 1000]
    )
    assert agg.attrs["unites"]["population"] == "habitants"
    assert "mètres" in agg.attrs["unites"]["distance_moyenne_m"]


def test_aggregate_whole_territory_and_total_row():
    agg = aggregate(units(), indicators(), structures=structures())
    assert list(agg.index) == ["Ensemble"]
    row = agg.loc["Ensemble"]
    assert row["population"] == 11_000
    assert row["population_couverte"] + row["population_non_couverte"] == 11_000
    assert row["distance_moyenne_m"] == pytest.approx((3000 * 10_000 + 1000 * 15_000 + 500 * 2000) / 10_500)
    assert row["distance_mediane_m"] == 0.0
    assert row["n_structures"] == 4
    both = aggregate(units(), indicators(), "epci", structures=structures(), total=True)
    assert list(both.index) == ["e1", "e2", "Ensemble"]
    pd.testing.assert_series_equal(both.loc["Ensemble"], agg.loc["Ensemble"], check_names=False)
    # conservation at every level
    assert (both["population_couverte"] + both["population_non_couverte"] == both["population"]).all()


def test_aggregate_user_level_and_missing_values():
    terr = pd.Series(["T1", "T2", "T1", None, "T2", "T2"], index=units().index, name="tas")
    agg = aggregate(units(), indicators(), terr)
    assert list(agg.index) == ["T1", "T2", "(non renseigné)"]
    assert agg.index.name == "tas"
    assert agg["population"].tolist() == [7000, 4000, 0]
    assert agg["population"].sum() == units()["population"].sum()
    # a group with no population: shares and means are NaN, not errors
    assert np.isnan(agg.loc["(non renseigné)", "taux_couverture_pct"])
    assert np.isnan(agg.loc["(non renseigné)", "distance_moyenne_m"])
    # the level column may come from the indicators
    ind = indicators().assign(zone=["a", "a", "b", "b", "b", "b"])
    assert aggregate(units(), ind, "zone")["population"].tolist() == [9000, 2000]


def test_aggregate_radius_labels_and_cost_column():
    ind = indicators()
    agg = aggregate(units(), ind, None, radius=2500)
    assert agg["population_sans_structure_2500m"].tolist() == [4500]  # u1, u2 + u3, u4
    ind = ind.rename(columns={"distance_m": "cout"})
    agg = aggregate(units(), ind, "epci", distance_col="cout", radius=12)
    assert "population_sans_structure_12" in agg.columns
    assert agg["cout_moyen"].tolist() == pytest.approx([4500.0, 2000.0])
    assert "distance_moyenne_m" not in agg.columns


def test_aggregate_only_population():
    agg = aggregate(units(), None, "epci")
    assert agg.columns.tolist() == ["population", "n_unites"]


def test_aggregate_does_not_modify_inputs():
    u, ind, s = units(), indicators(), structures()
    u0, ind0, s0 = u.copy(), ind.copy(), s.copy()
    aggregate(u, ind, "epci", structures=s, total=True)
    pd.testing.assert_frame_equal(u, u0)
    pd.testing.assert_frame_equal(ind, ind0)
    pd.testing.assert_frame_equal(s, s0)


def test_aggregate_errors():
    with pytest.raises(InputError, match="mêmes unités"):
        aggregate(units(), indicators().iloc[:2], "epci")
    with pytest.raises(InputError, match="rayon positif"):
        aggregate(units(), indicators(), radius=-5)
    with pytest.raises(InputError, match="colonne « inconnue » : colonne absente"):
        aggregate(units(), indicators(), mean_cols=["inconnue"])
    with pytest.raises(InputError, match="colonne « canton » : colonne de niveau absente"):
        aggregate(units(), indicators(), "canton")
    with pytest.raises(InputError, match="dictionnaire de Series"):
        aggregate(units(), [1, 2], "epci")


def test_weighted_median_brute_force():
    rng = np.random.default_rng(3)
    values = rng.integers(0, 50, 200).astype(float)
    weights = rng.integers(0, 6, 200)
    groups = rng.integers(0, 5, 200)
    got = weighted_median(values, weights, groups, 5)
    for g in range(5):
        sel = groups == g
        expanded = np.sort(np.repeat(values[sel], weights[sel]))
        w = len(expanded)
        assert got[g] == expanded[int(np.ceil(w / 2)) - 1]
