"""Classification (mapclassify breaks), palettes and French number formatting."""

from __future__ import annotations

import mapclassify
import numpy as np
import pytest
from matplotlib import colormaps
from matplotlib.colors import to_hex

from couverture.errors import InputError
from couverture.maps._format import auto_decimals, format_number, format_value, nice_number
from couverture.maps.classify import (
    DIVERGING_PALETTES,
    JENKS_MAX_N,
    MISSING_COLOR,
    SEQUENTIAL_PALETTES,
    Classification,
    classify,
    palette,
)

pytestmark = pytest.mark.filterwarnings("ignore:Numba not installed:UserWarning")

NN = "\u202f"  # narrow no-break space: the one separator used everywhere


@pytest.fixture(scope="module")
def population(communes13):
    return communes13["population"].to_numpy(dtype=float)


@pytest.mark.parametrize(
    "scheme, mc_name",
    [
        ("quantiles", "Quantiles"),
        ("jenks", "FisherJenks"),
        ("seuils_naturels", "FisherJenks"),
        ("intervalles_egaux", "EqualInterval"),
        ("equal_interval", "EqualInterval"),
    ],
)
@pytest.mark.parametrize("k", [3, 5, 7])
def test_breaks_match_mapclassify(population, scheme, mc_name, k):
    expected = getattr(mapclassify, mc_name)(population, k=k)
    c = Classification(population, scheme, k)
    np.testing.assert_allclose(c.bins, expected.bins)
    np.testing.assert_array_equal(c.counts, expected.counts)
    np.testing.assert_array_equal(c.yb, expected.yb)
    assert c.k == len(expected.bins)
    assert c.counts.sum() == len(population)


def test_std_mean_matches_mapclassify(population):
    expected = mapclassify.StdMean(population)
    c = Classification(population, "ecart_type")
    np.testing.assert_allclose(c.bins, expected.bins)
    np.testing.assert_array_equal(c.counts, expected.counts)
    # mean - 2 sd, mean - sd, mean + sd, mean + 2 sd, max: computed by hand
    m, s = population.mean(), population.std(ddof=1)
    np.testing.assert_allclose(c.bins[:4], [m - 2 * s, m - s, m + s, m + 2 * s])
    assert c.palette_name == "RdBu"  # diverging by default


def test_manual_breaks(population):
    c = Classification(population, "manuel", bins=[1000, 10000, 50000])
    expected = mapclassify.UserDefined(population, bins=[1000, 10000, 50000])
    np.testing.assert_allclose(c.bins, expected.bins)
    # hand count of the classes
    assert c.counts.tolist() == [
        int((population <= 1000).sum()),
        int(((population > 1000) & (population <= 10000)).sum()),
        int(((population > 10000) & (population <= 50000)).sum()),
        int((population > 50000).sum()),
    ]
    assert c.bins[-1] == population.max()


def test_jenks_on_large_data_uses_a_quantile_sample():
    rng = np.random.default_rng(42)
    y = rng.lognormal(3, 1, size=JENKS_MAX_N * 3)
    c = Classification(y, "jenks", 4)
    sample = np.quantile(y, np.linspace(0, 1, JENKS_MAX_N))
    fj = mapclassify.FisherJenks(sample, k=4)
    np.testing.assert_allclose(c.bins[:-1], fj.bins[:-1])
    assert c.bins[-1] == y.max()
    assert c.counts.sum() == y.size
    # deterministic
    np.testing.assert_array_equal(Classification(y, "jenks", 4).bins, c.bins)


def test_missing_values_are_kept_apart():
    c = Classification([1.0, None, 3.0, float("nan"), 5.0, 7.0], "intervalles_egaux", k=2)
    assert c.n_missing == 2
    assert c.yb.tolist() == [0, -1, 0, -1, 1, 1]
    colours = c.value_colors()
    assert colours[1] == colours[3] == MISSING_COLOR
    assert colours[0] == c.colors[0] and colours[4] == c.colors[1]
    assert c.missing_label(counts=True) == "Donnée manquante (2)"


def test_ties_give_fewer_quantile_classes():
    c = Classification([0, 0, 0, 0, 0, 0, 1, 2], "quantiles", 5)
    assert c.k < 5
    assert c.counts.sum() == 8
    assert len(c.colors) == len(c.labels()) == c.k


def test_labels_french_format_by_hand():
    c = Classification([0.4, 1.2, 2.0, 3.5, 12.0], "manuel", bins=[2, 5])
    labels = c.labels(unit="km", decimals=0)
    assert labels == [f"≤{NN}2{NN}km", f"2{NN}–{NN}5{NN}km", f">{NN}5{NN}km"]
    assert c.labels(unit="km", decimals=0, counts=True)[0] == f"≤{NN}2{NN}km (3)"
    pct = Classification([1.25, 3.5, 60.0, 99.0], "manuel", bins=[3.5, 50]).labels(unit="%", decimals=1)
    assert pct == [f"≤{NN}3,5{NN}%", f"3,5{NN}–{NN}50,0{NN}%", f">{NN}50,0{NN}%"]
    big = Classification([100, 12345, 2_500_000], "manuel", bins=[12345]).labels(unit="hab.")
    assert big == [f"≤{NN}12{NN}345{NN}hab.", f">{NN}12{NN}345{NN}hab."]


def test_labels_automatic_decimals():
    c = Classification([0.1, 0.12, 0.5, 0.9], "manuel", bins=[0.15, 0.6])
    assert c.labels() == [f"≤{NN}0,15", f"0,15{NN}–{NN}0,60", f">{NN}0,60"]


def test_legend_table(population):
    c = Classification(population, "quantiles", 4)
    legend = c.legend(unit="hab.")
    assert list(legend.columns) == ["couleur", "libelle", "borne_sup", "effectif"]
    assert legend["effectif"].sum() == len(population)
    assert legend["libelle"].str.endswith("hab.").all()


def test_format_number():
    assert format_number(1234567.891, 2) == f"1{NN}234{NN}567,89"
    assert format_number(999) == "999"
    assert format_number(-12345.5, 1) == f"-12{NN}345,5"
    assert format_number(-0.01, 1) == "0,0"
    assert format_number(None) == format_number(float("nan")) == "n.d."
    assert format_value(3.5, "%", decimals=1) == f"3,5{NN}%"
    assert format_value(12345, "hab.") == f"12{NN}345{NN}hab."
    assert format_value(float("inf"), "km") == "n.d."


def test_auto_decimals_and_nice_numbers():
    assert auto_decimals([0, 5000, 12000]) == 0
    assert auto_decimals([2.5, 3.0]) == 1
    assert auto_decimals([0.01, 0.02]) == 2
    assert auto_decimals([]) == 0
    assert [nice_number(x) for x in (1, 3, 7, 12, 24.9, 99, 1234)] == [1, 2.5, 5, 10, 20, 50, 1000]


@pytest.mark.parametrize("name", SEQUENTIAL_PALETTES[:3] + DIVERGING_PALETTES[:2])
def test_palettes_come_from_colorbrewer_colormaps(name):
    colours = palette(name, 5)
    assert len(set(colours)) == 5
    cmap = colormaps[name]
    lo, hi = (0.08, 0.92) if name in DIVERGING_PALETTES else (0.12, 0.95)
    assert colours == [to_hex(cmap(p)) for p in np.linspace(lo, hi, 5)]
    assert palette(name, 5, reverse=True) == colours[::-1]


def test_classification_uses_palette(population):
    c = Classification(population, "quantiles", 4, palette="PuBu", reverse=True)
    assert c.colors == palette("PuBu", 4)[::-1]


def test_classify_shortcut_equals_class(population):
    a = classify(population, "jenks", 4)
    b = Classification(population, "jenks", 4)
    np.testing.assert_array_equal(a.bins, b.bins)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"scheme": "kmeans"}, "méthode de discrétisation inconnue : « kmeans »"),
        ({"scheme": "manuel"}, "indiquez les bornes des classes"),
        ({"scheme": "manuel", "bins": [5, 2]}, "les bornes doivent être croissantes"),
        ({"k": 0}, "nombre de classes invalide : 0"),
        ({"palette": "Arc-en-ciel"}, "palette inconnue : « Arc-en-ciel »"),
    ],
)
def test_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        Classification([1, 2, 3, 4], **kwargs)


def test_error_non_numeric_and_all_missing():
    with pytest.raises(InputError, match="valeurs non numériques impossibles à classer : 'douze'"):
        Classification([1, "douze", 3])
    with pytest.raises(InputError, match="aucune valeur numérique à classer"):
        Classification([None, float("nan")])


def test_labels_of_small_counts_list_integers():
    c = Classification([0, 0, 1, 2, 3, 7], "manuel", bins=[0, 1, 3])
    assert c.labels(unit="zones") == [f"0{NN}zones", f"1{NN}zones", f"2 à 3{NN}zones", f"4 ou plus{NN}zones"]
    assert c.labels(counts=True) == ["0 (2)", "1 (1)", "2 à 3 (2)", "4 ou plus (1)"]
    # large whole numbers (populations) keep the usual bounds
    assert Classification([100, 2000, 90_000], "manuel", bins=[2000]).labels()[0] == f"≤{NN}2{NN}000"
