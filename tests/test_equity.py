"""Tests of couverture.analysis.equity.

Independent references: PySAL ``inequality`` (Gini, Theil, TheilD, atkinson)
on unweighted data, the same on data expanded by integer weights
(``np.repeat``), numpy (std, quantile) and small cases computed by hand.
"""

from __future__ import annotations

import math
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from inequality.atkinson import atkinson as pysal_atkinson
from inequality.gini import Gini
from inequality.theil import Theil, TheilD

from couverture.analysis.equity import (
    LIBELLES,
    TheilDecomposition,
    atkinson,
    coefficient_variation,
    equity_report,
    gini,
    hoover,
    lorenz,
    ratio_deciles,
    share_below,
    theil,
    theil_decomposition,
    weighted_quantile,
)
from couverture.errors import InputError

TOL = 1e-9


def _data(seed: int, n: int = 60, zeros: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.gamma(2.0, 1500.0, size=n)
    if zeros:
        x[rng.choice(n, zeros, replace=False)] = 0.0
    w = rng.integers(0, 25, size=n)
    groups = rng.choice(np.array(["e1", "e2", "e3", "e4"]), size=n)
    return x, w, groups


# ---------------------------------------------------------------------------
# unweighted: PySAL inequality
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gini_matches_pysal(seed):
    x, _, _ = _data(seed)
    assert gini(x) == pytest.approx(Gini(x).g, abs=TOL)


@pytest.mark.parametrize("seed,zeros", [(0, 0), (1, 0), (3, 7)])
def test_theil_matches_pysal(seed, zeros):
    # PySAL replaces zeros by a tiny number: same value as 0 ln 0 = 0
    x, _, _ = _data(seed, zeros=zeros)
    assert theil(x) == pytest.approx(float(np.squeeze(Theil(x).T)), abs=TOL)


@pytest.mark.parametrize("epsilon", [0.0, 0.5, 1.0, 1.5, 2.0])
def test_atkinson_matches_pysal(epsilon):
    x, _, _ = _data(4)
    assert atkinson(x, epsilon=epsilon) == pytest.approx(pysal_atkinson(x, epsilon), abs=TOL)


@pytest.mark.parametrize("seed,zeros", [(5, 0), (6, 5)])
def test_theil_decomposition_matches_pysal(seed, zeros):
    x, _, groups = _data(seed, zeros=zeros)
    ref = TheilD(x, groups)
    d = theil_decomposition(x, groups)
    assert d.total == pytest.approx(float(np.squeeze(ref.T)), abs=TOL)
    assert d.between == pytest.approx(float(np.squeeze(ref.bg)), abs=TOL)
    assert d.within == pytest.approx(float(np.squeeze(ref.wg)), abs=TOL)


# ---------------------------------------------------------------------------
# weighted == unweighted on the data expanded by integer weights
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [10, 11])
def test_weighted_indices_equal_expanded_data(seed):
    x, w, groups = _data(seed, zeros=4)
    xe = np.repeat(x, w)
    assert gini(x, weights=w) == pytest.approx(Gini(xe).g, abs=TOL)
    assert theil(x, weights=w) == pytest.approx(float(np.squeeze(Theil(xe).T)), abs=TOL)
    pos = x > 0
    for eps in (0.5, 1.0, 2.0):
        assert atkinson(x[pos], eps, weights=w[pos]) == pytest.approx(
            pysal_atkinson(np.repeat(x[pos], w[pos]), eps), abs=TOL
        )
    assert coefficient_variation(x, weights=w) == pytest.approx(xe.std() / xe.mean(), abs=TOL)
    # Hoover as half the sum of gaps between value share and population share
    hoover_ref = 0.5 * np.abs(xe / xe.sum() - 1.0 / len(xe)).sum()
    assert hoover(x, weights=w) == pytest.approx(hoover_ref, abs=TOL)
    ref = TheilD(xe, np.repeat(groups, w))
    d = theil_decomposition(x, groups, weights=w)
    assert d.between == pytest.approx(float(np.squeeze(ref.bg)), abs=TOL)
    assert d.within == pytest.approx(float(np.squeeze(ref.wg)), abs=TOL)


def test_unweighted_cv_and_hoover_against_numpy():
    x, _, _ = _data(12)
    assert coefficient_variation(x) == pytest.approx(np.std(x) / np.mean(x), abs=TOL)
    assert hoover(x) == pytest.approx(0.5 * np.abs(x / x.sum() - 1 / len(x)).sum(), abs=TOL)


def _exact_quantile(expanded: np.ndarray, p: str) -> float:
    """Inverted-cdf quantile with exact arithmetic: the ceil(p N)-th smallest value."""
    k = max(math.ceil(Fraction(p) * len(expanded)), 1)
    return float(np.sort(expanded)[k - 1])


@pytest.mark.parametrize("seed", [20, 21, 22])
def test_ratio_deciles_against_exact_order_statistics(seed):
    x, w, _ = _data(seed, n=40)
    w = w + 1  # no zero weight, so that D1 > 0 is likely but exercised below anyway
    xe = np.repeat(x, w)
    expected = _exact_quantile(xe, "0.9") / _exact_quantile(xe, "0.1")
    assert ratio_deciles(x, weights=w) == pytest.approx(expected, rel=1e-12)
    assert ratio_deciles(x) == pytest.approx(_exact_quantile(x, "0.9") / _exact_quantile(x, "0.1"), rel=1e-12)


def test_deciles_on_exact_boundary():
    # N = 30: 0.1 * 30 is 3.0000000000000004 in floating point; D1 is the 3rd value
    x = np.arange(1.0, 31.0)
    assert weighted_quantile(x, 0.1) == 3.0
    assert weighted_quantile(x, 0.9) == 27.0
    # same with weights: 10 units of weight 3 -> D1 is the first unit
    assert weighted_quantile(np.arange(1.0, 11.0), 0.1, weights=np.full(10, 3)) == 1.0


def test_weighted_quantile_matches_numpy_weighted():
    x, w, _ = _data(23)
    q = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    mine = weighted_quantile(x, q, weights=w)
    ref = np.quantile(x, q, weights=w, method="inverted_cdf")
    np.testing.assert_array_equal(mine, ref)


def test_share_below_equals_expanded():
    x, w, _ = _data(24)
    t = float(np.median(x))
    xe = np.repeat(x, w)
    assert share_below(x, t, weights=w) == pytest.approx(np.mean(xe < t), abs=TOL)
    assert share_below(x, x[3], weights=w, inclusive=True) == pytest.approx(np.mean(xe <= x[3]), abs=TOL)


def test_lorenz_equals_expanded_curve_and_gini_area():
    x, w, _ = _data(25, n=30)
    w = w + 1
    curve = lorenz(x, weights=w)
    assert curve.columns.tolist() == ["part_population", "part_valeur"]
    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == pytest.approx([1.0, 1.0])
    assert len(curve) == len(x) + 1
    # each point is a point of the expanded data's curve at a unit boundary
    xe = np.sort(np.repeat(x, w))
    ends = np.cumsum(w[np.argsort(x, kind="stable")])
    np.testing.assert_allclose(curve["part_population"].to_numpy()[1:], ends / len(xe))
    np.testing.assert_allclose(curve["part_valeur"].to_numpy()[1:], np.cumsum(xe)[ends - 1] / xe.sum())
    # Gini = 1 - 2 * area under the curve (trapezoids)
    f, l_ = curve["part_population"].to_numpy(), curve["part_valeur"].to_numpy()
    area = np.sum(np.diff(f) * (l_[1:] + l_[:-1]) / 2)
    assert gini(x, weights=w) == pytest.approx(1 - 2 * area, abs=TOL)


def test_zero_weight_units_are_ignored():
    x, w, groups = _data(26)
    assert (w == 0).any()
    keep = w > 0
    assert gini(x, weights=w) == pytest.approx(gini(x[keep], weights=w[keep]), abs=TOL)
    assert theil(x, weights=w) == pytest.approx(theil(x[keep], weights=w[keep]), abs=TOL)
    # a zero value with a zero weight does not make Atkinson(eps >= 1) equal to 1
    xz = np.r_[x[keep], 0.0]
    wz = np.r_[w[keep], 0]
    assert atkinson(xz, 2.0, weights=wz) < 1.0


# ---------------------------------------------------------------------------
# hand-checked cases
# ---------------------------------------------------------------------------


def test_perfect_equality_gives_zero():
    for f in (gini, theil, coefficient_variation, hoover):
        assert f([7, 7, 7, 7]) == 0.0
        assert f([7, 7], weights=[1, 100]) == 0.0
    assert atkinson([7, 7, 7], 0.5) == pytest.approx(0.0, abs=1e-15)
    assert atkinson([7, 7, 7], 1.0) == pytest.approx(0.0, abs=1e-15)
    assert ratio_deciles([7, 7, 7]) == 1.0


def test_two_units_by_hand():
    # x = (1, 3), mean 2: sum of |xi - xj| over ordered pairs = 4, 2 n^2 mu = 16
    assert gini([1, 3]) == 0.25
    # Theil = 1/2 (1/2 ln 1/2 + 3/2 ln 3/2)
    assert theil([1, 3]) == pytest.approx(0.5 * (0.5 * math.log(0.5) + 1.5 * math.log(1.5)), abs=1e-15)
    # Atkinson 0.5: EDE = ((1 + sqrt 3) / 2)^2
    assert atkinson([1, 3], 0.5) == pytest.approx(1 - ((1 + math.sqrt(3)) / 2) ** 2 / 2, abs=1e-15)
    # Atkinson 1: geometric mean sqrt 3
    assert atkinson([1, 3], 1) == pytest.approx(1 - math.sqrt(3) / 2, abs=1e-15)
    # std 1, mean 2
    assert coefficient_variation([1, 3]) == 0.5
    # |1 - 2| + |3 - 2| over 2 * 2 * 2
    assert hoover([1, 3]) == 0.25


def test_two_units_weighted_by_hand():
    # (1, 3) with weights (3, 1) is (1, 1, 1, 3): mean 1.5, 12 / (2 * 16 * 1.5)
    assert gini([1, 3], weights=[3, 1]) == pytest.approx(0.25, abs=1e-15)
    assert hoover([1, 3], weights=[3, 1]) == pytest.approx((3 * 0.5 + 1.5) / (2 * 4 * 1.5), abs=1e-15)
    assert share_below([1, 3], 2, weights=[3, 1]) == 0.75


@pytest.mark.parametrize("n", [2, 4, 10])
def test_one_unit_holds_everything(n):
    x = np.zeros(n)
    x[-1] = 5.0
    assert gini(x) == pytest.approx((n - 1) / n, abs=1e-15)
    assert theil(x) == pytest.approx(math.log(n), abs=1e-12)
    assert hoover(x) == pytest.approx((n - 1) / n, abs=1e-15)
    assert coefficient_variation(x) == pytest.approx(math.sqrt(n - 1), abs=1e-12)
    assert atkinson(x, 0.5) == pytest.approx(1 - 1 / n, abs=1e-12)  # EDE = mu / n
    # epsilon >= 1 with a zero: zero welfare -> 1 (documented)
    assert atkinson(x, 1.0) == 1.0
    assert atkinson(x, 3.0) == 1.0


def test_atkinson_epsilon_zero_is_zero():
    assert atkinson([0, 1, 10], 0) == 0.0


def test_deciles_and_share_by_hand():
    assert ratio_deciles(range(1, 11)) == 9.0
    assert ratio_deciles([1, 2], weights=[1, 9]) == 2.0  # D1 = 1, D9 = 2
    assert ratio_deciles([0, 0, 5]) == np.inf
    assert np.isnan(ratio_deciles([0] * 19 + [1]))  # D1 = D9 = 0
    assert share_below([1, 2, 3, 4], 3, weights=[10, 20, 30, 40]) == 0.3
    assert share_below([1, 2, 3, 4], 3, weights=[10, 20, 30, 40], inclusive=True) == 0.6
    assert share_below([-1, 2], 0) == 0.5  # negative values allowed here


def test_lorenz_by_hand():
    curve = lorenz([3, 1], weights=[1, 3])
    # sorted: 1 (weight 3, value 3), 3 (weight 1, value 3)
    assert curve.values.tolist() == [[0.0, 0.0], [0.75, 0.5], [1.0, 1.0]]


def test_accepts_series_bool_and_lists():
    s = pd.Series([True, False, True, True], index=list("abcd"))
    assert gini(s) == pytest.approx(0.25)  # (1, 0, 1, 1): 6 / (2 * 16 * 0.75)
    assert gini(pd.Series([1, 3], dtype="Int64")) == 0.25
    assert gini((1, 3)) == 0.25


# ---------------------------------------------------------------------------
# Theil decomposition
# ---------------------------------------------------------------------------


def test_decomposition_by_hand():
    d = theil_decomposition([1, 1, 3, 3], ["a", "a", "b", "b"])
    assert isinstance(d, TheilDecomposition)
    assert d.within == 0.0
    assert d.between == pytest.approx(theil([1, 3]), abs=1e-15)
    assert d.share_between == 1.0
    g = d.groups
    assert g.index.tolist() == ["a", "b"]
    assert g["part_population"].tolist() == [0.5, 0.5]
    assert g["part_valeur"].tolist() == [0.25, 0.75]
    assert g["moyenne"].tolist() == [1.0, 3.0]
    assert g["contribution_inter"].tolist() == pytest.approx([0.25 * math.log(0.5), 0.75 * math.log(1.5)])
    assert "entre groupes" in str(d) and "100,0 %" in str(d)


def test_decomposition_groups_consistent():
    x, w, groups = _data(30, zeros=3)
    d = theil_decomposition(x, groups, weights=w)
    g = d.groups
    assert d.total == pytest.approx(theil(x, weights=w), abs=TOL)
    assert d.between + d.within == pytest.approx(d.total, abs=1e-15)
    assert g["contribution"].sum() == pytest.approx(d.total, abs=TOL)
    assert g["part_contribution"].sum() == pytest.approx(1.0, abs=TOL)
    assert g["part_population"].sum() == pytest.approx(1.0, abs=TOL)
    assert g["n_unites"].sum() == len(x)
    for label in g.index:
        sel = groups == label
        assert g.loc[label, "theil_intra"] == pytest.approx(theil(x[sel], weights=w[sel]), abs=TOL)
        assert g.loc[label, "moyenne"] == pytest.approx(np.average(x[sel], weights=w[sel]), abs=1e-9)
    assert d.share_between == pytest.approx(d.between / d.total)
    assert d.share_within == pytest.approx(d.within / d.total)


def test_decomposition_zero_group_and_missing_label():
    x = [0.0, 0.0, 2.0, 4.0, 3.0]
    groups = pd.Series(["z", "z", "a", "a", None], name="epci")
    d = theil_decomposition(x, groups)
    g = d.groups
    assert g.index.tolist() == ["a", "z", "(non renseigné)"]
    assert g.index.name == "epci"
    assert np.isnan(g.loc["z", "theil_intra"])  # mean 0: undefined, contributes 0
    assert g.loc["z", "contribution"] == 0.0
    assert d.total == pytest.approx(theil(x), abs=1e-15)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("f", [gini, theil, atkinson, coefficient_variation, hoover, ratio_deciles, lorenz])
def test_negative_values_refused(f):
    with pytest.raises(InputError, match=r"1 valeur\(s\) négative\(s\).*suppose des valeurs positives ou nulles"):
        f([1.0, -2.0, 3.0])


@pytest.mark.parametrize("f", [gini, theil, atkinson, coefficient_variation, hoover, ratio_deciles, lorenz])
def test_all_zero_refused(f):
    with pytest.raises(InputError, match="toutes les valeurs .* sont nulles ; .* suppose une moyenne non nulle"):
        f([0, 0, 0])


def test_all_zero_where_weighted():
    with pytest.raises(InputError, match="sont nulles"):
        gini([0, 5], weights=[3, 0])
    with pytest.raises(InputError, match="sont nulles"):
        theil_decomposition([0, 0], ["a", "b"])


def test_nan_inf_and_empty_refused():
    with pytest.raises(InputError, match=r"1 valeur\(s\) manquante\(s\) \(NaN\) \(positions 1\)"):
        gini([1.0, np.nan])
    with pytest.raises(InputError, match=r"manquante\(s\) \(NaN\) \(index b\)"):
        theil(pd.Series([1.0, None], index=["a", "b"]))
    with pytest.raises(InputError, match=r"valeur\(s\) infinie\(s\)"):
        hoover([1.0, np.inf])
    with pytest.raises(InputError, match="aucune valeur"):
        gini([])
    with pytest.raises(InputError, match="valeurs non numériques"):
        gini(["a", "b"])
    with pytest.raises(InputError, match="valeurs non numériques"):
        gini(pd.Series(["a", "b"]))
    with pytest.raises(InputError, match="nombre seul"):
        gini(3.0)
    with pytest.raises(InputError, match="une dimension"):
        gini([[1, 2], [3, 4]])


def test_bad_weights_refused():
    with pytest.raises(InputError, match=r"poids : 3 poids pour 2 valeurs"):
        gini([1, 2], weights=[1, 2, 3])
    with pytest.raises(InputError, match=r"poids : 1 poids négatif\(s\)"):
        theil([1, 2], weights=[1, -2])
    with pytest.raises(InputError, match=r"poids : 1 valeur\(s\) manquante\(s\)"):
        atkinson([1, 2], weights=[1, np.nan])
    with pytest.raises(InputError, match="somme des poids .* est nulle"):
        hoover([1, 2], weights=[0, 0])


def test_bad_parameters_refused():
    with pytest.raises(InputError, match="epsilon : l'aversion à l'inégalité doit être positive"):
        atkinson([1, 2], epsilon=-1)
    with pytest.raises(InputError, match="epsilon : un nombre positif"):
        atkinson([1, 2], epsilon="beaucoup")
    with pytest.raises(InputError, match="seuil : un nombre est attendu"):
        share_below([1, 2], "x")
    with pytest.raises(InputError, match="q : des probabilités entre 0 et 1"):
        weighted_quantile([1, 2], 1.5)
    with pytest.raises(InputError, match="groupes : 1 groupes pour 2 valeurs"):
        theil_decomposition([1, 2], ["a"])


# ---------------------------------------------------------------------------
# equity_report
# ---------------------------------------------------------------------------


@pytest.fixture
def units():
    x, w, groups = _data(40, n=24, zeros=2)
    return pd.DataFrame(
        {"distance_m": x, "population": w, "epci": groups, "couvert": x < 2500},
        index=pd.RangeIndex(100, 124),
    )


def test_report_overall_and_per_group(units):
    rep = equity_report(units, "distance_m", by="epci", threshold=2000.0)
    x, w = units["distance_m"].to_numpy(), units["population"].to_numpy()
    assert rep.index.name == "indice"
    assert rep.columns.tolist() == ["unite", "Ensemble", "e1", "e2", "e3", "e4"]
    assert rep.index.tolist() == [
        "Nombre d'unités",
        "Population",
        "Moyenne",
        "Gini",
        "Theil",
        "Atkinson (ε = 0,5)",
        "Coefficient de variation",
        "Indice de Hoover",
        "Rapport interdécile D9/D1",
        "Part de la population sous le seuil",
        "Part de l'inégalité entre groupes (Theil)",
    ]
    col = rep["Ensemble"]
    assert col["Nombre d'unités"] == len(units)
    assert col["Population"] == w.sum()
    assert col["Moyenne"] == pytest.approx(np.average(x, weights=w))
    assert col["Gini"] == pytest.approx(gini(x, weights=w), abs=TOL)
    assert col["Theil"] == pytest.approx(theil(x, weights=w), abs=TOL)
    assert col["Atkinson (ε = 0,5)"] == pytest.approx(atkinson(x, 0.5, weights=w), abs=TOL)
    assert col["Coefficient de variation"] == pytest.approx(coefficient_variation(x, weights=w), abs=TOL)
    assert col["Indice de Hoover"] == pytest.approx(hoover(x, weights=w), abs=TOL)
    assert col["Rapport interdécile D9/D1"] == pytest.approx(ratio_deciles(x, weights=w), abs=TOL)
    assert col["Part de la population sous le seuil"] == pytest.approx(100 * share_below(x, 2000.0, weights=w))
    dec = theil_decomposition(x, units["epci"], weights=w)
    assert col["Part de l'inégalité entre groupes (Theil)"] == pytest.approx(100 * dec.share_between)
    for label in ["e1", "e2", "e3", "e4"]:
        sel = (units["epci"] == label).to_numpy()
        assert rep.loc["Gini", label] == pytest.approx(gini(x[sel], weights=w[sel]), abs=TOL)
        assert rep.loc["Theil", label] == pytest.approx(theil(x[sel], weights=w[sel]), abs=TOL)
        assert rep.loc["Nombre d'unités", label] == sel.sum()
        assert np.isnan(rep.loc["Part de l'inégalité entre groupes (Theil)", label])
    assert rep.loc["Moyenne", "unite"] == "m"
    assert rep.loc["Part de la population sous le seuil", "unite"] == "% de la population"
    assert rep.attrs["indicateur"] == "distance_m"
    assert rep.attrs["seuil"] == 2000.0
    assert rep.attrs["par"] == "epci"
    assert rep.attrs["ponderation"] == "population"
    assert "Gini" in LIBELLES.values()
    assert units.columns.tolist() == ["distance_m", "population", "epci", "couvert"]  # not modified


def test_report_accepts_territory_series_and_arrays(units):
    ref = equity_report(units, "distance_m", by="epci")
    territory = SimpleNamespace(communes=units)
    pd.testing.assert_frame_equal(equity_report(territory, "distance_m", by="epci"), ref)
    shuffled = units["distance_m"].sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(equity_report(units, shuffled, by="epci"), ref)
    arr = equity_report(
        units,
        units["distance_m"].to_numpy(),
        by=units["epci"].to_numpy(),
        weights=units["population"].to_numpy(),
        unit="m",
    )
    np.testing.assert_allclose(arr[["Ensemble", "e1"]].to_numpy(), ref[["Ensemble", "e1"]].to_numpy())
    direct = equity_report(units["distance_m"], by=units["epci"], weights=units["population"].to_numpy())
    np.testing.assert_allclose(direct["Ensemble"].to_numpy(), ref["Ensemble"].to_numpy())


def test_report_unweighted_and_epsilon(units):
    rep = equity_report(units, "distance_m", weights=None, epsilon=1.0)
    x = units["distance_m"].to_numpy()
    assert "Population" not in rep.index
    assert rep.columns.tolist() == ["unite", "Ensemble"]
    assert rep.loc["Gini", "Ensemble"] == pytest.approx(Gini(x).g, abs=TOL)
    assert rep.loc["Atkinson (ε = 1)", "Ensemble"] == 1.0  # zeros in the data and epsilon >= 1
    assert rep.attrs["ponderation"] is None


def test_report_undefined_figures_are_nan_with_remarks():
    units = pd.DataFrame(
        {
            "couvert": [True, True, False, False, True],
            "population": [10, 10, 10, 10, 0],
            "epci": ["a", "a", "b", "b", "c"],
        }
    )
    rep = equity_report(units, "couvert", by="epci")
    assert rep.loc["Gini", "a"] == 0.0
    assert np.isnan(rep.loc["Gini", "b"])  # nobody covered: undefined
    assert np.isnan(rep.loc["Gini", "c"])  # nobody lives there
    assert rep.loc["Gini", "Ensemble"] == pytest.approx(0.5)
    assert np.isnan(rep.loc["Rapport interdécile D9/D1", "Ensemble"])  # D1 = 0
    remarks = " | ".join(rep.attrs["remarques"])
    assert "groupe b : toutes les valeurs sont nulles" in remarks
    assert "groupe c : population nulle" in remarks
    assert "Ensemble : premier décile D1 nul" in remarks
    # a département where the indicator is 0 everywhere: a table, not an error
    zero = equity_report(units.assign(couvert=False), "couvert")
    assert np.isnan(zero.loc["Gini", "Ensemble"]) and zero.loc["Moyenne", "Ensemble"] == 0.0


def test_report_errors(units):
    with pytest.raises(InputError, match=r"colonne « acces » : indicateur : colonne absente"):
        equity_report(units, "acces")
    with pytest.raises(InputError, match="colonne « pop » : poids : colonne absente ; passez weights=None"):
        equity_report(units, "distance_m", weights="pop")
    with pytest.raises(InputError, match="colonne « canton » : par \\(groupes\\) : colonne absente"):
        equity_report(units, "distance_m", by="canton")
    with pytest.raises(InputError, match="indiquez la colonne de l'indicateur"):
        equity_report(units)
    with pytest.raises(InputError, match="les données ne sont pas une table"):
        equity_report([1.0, 2.0])
    with pytest.raises(InputError, match=r"distance_m : 1 valeur\(s\) négative\(s\).*rapport d'équité"):
        equity_report(units.assign(distance_m=units["distance_m"].where(units.index != 105, -1.0)), "distance_m")
    with pytest.raises(InputError, match=r"la série n'est pas alignée sur les unités \(1 unité"):
        equity_report(units, units["distance_m"].iloc[1:])
    with pytest.raises(InputError, match="3 valeurs pour 24 unités"):
        equity_report(units, [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="epsilon"):
        equity_report(units, "distance_m", epsilon=-0.5)


def test_report_group_labels(units):
    named = units.assign(epci_nom=units["epci"].map({"e1": "CA Un", "e2": "CC Deux", "e3": "Trois"}))
    rep = equity_report(named, "distance_m", by="epci", group_labels="epci_nom")
    assert rep.columns.tolist() == ["unite", "Ensemble", "CA Un", "CC Deux", "Trois", "e4"]
    ref = equity_report(units, "distance_m", by="epci")
    np.testing.assert_array_equal(rep["CA Un"].to_numpy(), ref["e1"].to_numpy())
    rep2 = equity_report(units, "distance_m", by="epci", group_labels={"e4": "Quatre"})
    assert rep2.columns.tolist()[-1] == "Quatre"
    same = equity_report(units, "distance_m", by="epci", group_labels={"e1": "X", "e2": "X"})
    assert same.columns.tolist()[2:4] == ["X", "X (e2)"]
    with pytest.raises(InputError, match="group_labels : une colonne n'est utilisable"):
        equity_report(units, "distance_m", group_labels="epci")


# ----------------------------------------------------------------------------- pandas alignment (issue 12)


def test_series_weights_align_on_the_index_not_the_position():
    from couverture.analysis.equity import atkinson, gini, lorenz, theil, theil_decomposition

    rng = np.random.default_rng(7)
    idx = [f"u{i}" for i in range(20)]
    values = pd.Series(rng.gamma(2.0, 1000.0, 20), index=idx)
    weights = pd.Series(rng.integers(100, 5000, 20).astype(float), index=idx)
    shuffled = weights.sample(frac=1.0, random_state=3)
    assert not shuffled.index.equals(values.index)
    for f in (gini, theil, atkinson):
        assert f(values, weights=shuffled) == pytest.approx(f(values, weights=weights), rel=1e-12)
    pd.testing.assert_frame_equal(lorenz(values, weights=shuffled), lorenz(values, weights=weights))
    groups = pd.Series(["a", "b"] * 10, index=idx)
    d1 = theil_decomposition(values, groups.sample(frac=1.0, random_state=1), weights=shuffled)
    d0 = theil_decomposition(values, groups, weights=weights)
    assert d1.between == pytest.approx(d0.between, rel=1e-12)


def test_misaligned_series_weights_are_refused():
    values = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    with pytest.raises(
        InputError, match=r"poids : l.index des poids ne correspond pas .*1 étiquette\(s\) absente\(s\) : c"
    ):
        gini(values, weights=pd.Series([1.0, 1.0, 1.0], index=["a", "b", "d"]))
    with pytest.raises(InputError, match="étiquettes répétées"):
        gini(values, weights=pd.Series([1.0, 1.0, 1.0], index=["a", "a", "b"]))
    # numpy weights stay positional
    assert gini(values, weights=np.array([1.0, 1.0, 1.0])) == pytest.approx(gini(values))
