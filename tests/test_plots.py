"""Tests of couverture.maps.plots (Agg backend, set in conftest)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import io

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from couverture.analysis.equity import lorenz
from couverture.errors import InputError
from couverture.maps.plots import (
    _format_fr,
    plot_coverage_bars,
    plot_distance_distribution,
    plot_lorenz,
)

NNBSP = "\u202f"


def _legend(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_format_fr():
    assert _format_fr(1234.5, 1) == f"1{NNBSP}234,5"
    assert _format_fr(0.126, 2) == "0,13"
    assert _format_fr(1_000_000) == f"1{NNBSP}000{NNBSP}000"


def test_lorenz_plot_curve_legend_and_labels():
    # (1, 3) weights (3, 1): points (0, 0), (0.75, 0.5), (1, 1); Gini 0.25
    fig = plot_lorenz(lorenz([1, 3], weights=[3, 1]), label="Distance")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    equality, curve = ax.get_lines()
    assert equality.get_xydata().tolist() == [[0, 0], [1, 1]]
    assert curve.get_xydata().tolist() == [[0.0, 0.0], [0.75, 0.5], [1.0, 1.0]]
    assert _legend(ax) == ["Égalité parfaite", "Distance (Gini = 0,25)"]
    assert ax.get_xlabel() == "Part cumulée de la population"
    assert ax.get_ylabel() == "Part cumulée de l'indicateur"
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert f"40{NNBSP}%" in ticks and f"100{NNBSP}%" in ticks
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_lorenz_plot_on_given_axes_twice_draws_equality_once():
    fig0 = Figure()
    ax = fig0.add_subplot()
    fig = plot_lorenz(lorenz([1, 1, 1, 1]), ax=ax, label="Égal")
    fig2 = plot_lorenz(lorenz([0, 0, 0, 4]), ax=ax, label="Concentré", title="Accès")
    assert fig is fig0 and fig2 is fig0
    assert len(ax.get_lines()) == 3
    assert _legend(ax) == ["Égalité parfaite", "Égal (Gini = 0,00)", "Concentré (Gini = 0,75)"]
    assert ax.get_title() == "Accès"
    assert plot_lorenz(lorenz([1, 2])).axes[0].get_xlabel() == "Part cumulée des unités"


def test_lorenz_plot_refuses_bad_values():
    with pytest.raises(InputError, match="négative"):
        plot_lorenz(lorenz([1, -1]))
    with pytest.raises(InputError, match="retirez weights"):
        plot_lorenz(lorenz([1, 2]), weights=[1, 1])


def test_lorenz_plot_of_values_is_deprecated_and_draws_the_same_curve():
    with pytest.warns(DeprecationWarning, match="plot_lorenz"):
        old = plot_lorenz([1, 3], weights=[3, 1], label="Distance")
    new = plot_lorenz(lorenz([1, 3], weights=[3, 1]), label="Distance")
    assert old.axes[0].get_lines()[1].get_xydata().tolist() == new.axes[0].get_lines()[1].get_xydata().tolist()
    assert _legend(old.axes[0]) == _legend(new.axes[0])


def test_distance_distribution_classes():
    # classes [0,1) [1,2) [2,5) [5,10) [10,20) [20,+inf) km; 1000 m exactly is in [1, 2)
    d = [0, 999, 1000, 4999, 5000, 25000]
    w = [1, 2, 4, 8, 16, 32]
    fig = plot_distance_distribution(d, weights=w, title="Distances")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert heights == [3, 4, 8, 16, 0, 32]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["0 à 1 km", "1 à 2 km", "2 à 5 km", "5 à 10 km", "10 à 20 km", "20 km et plus"]
    shares = [t.get_text() for t in ax.texts]
    assert shares[0] == f"4,8{NNBSP}%"  # 3 / 63
    assert shares[-1] == f"50,8{NNBSP}%"  # 32 / 63
    assert ax.get_ylabel() == "Population (habitants)"
    assert ax.get_xlabel().startswith("Distance à la structure la plus proche")


def test_distance_distribution_unweighted_custom_bins_and_ax():
    fig0 = Figure()
    ax = fig0.add_subplot()
    fig = plot_distance_distribution(np.array([100.0, 2500.0, 2600.0]), ax=ax, bins_km=(0, 0.5, 3))
    assert fig is fig0
    assert [p.get_height() for p in ax.patches] == [1, 2, 0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0 à 0,5 km", "0,5 à 3 km", "3 km et plus"]
    assert ax.get_ylabel() == "Nombre d'unités"


def test_distance_distribution_errors():
    with pytest.raises(InputError, match="bins_km : des bornes croissantes commençant à 0"):
        plot_distance_distribution([1.0], bins_km=(1, 2))
    with pytest.raises(InputError, match="bins_km"):
        plot_distance_distribution([1.0], bins_km=(0, 5, 2))
    with pytest.raises(InputError, match=r"distances_m : 1 valeur\(s\) manquante\(s\)"):
        plot_distance_distribution([1.0, np.nan])


def test_coverage_bars_sorted_with_reference():
    table = pd.DataFrame(
        {"taux_couverture_pct": [55.0, 92.26, 10.0]},
        index=pd.Index(["CA Arles", "Métropole", "CC Alpilles"], name="epci"),
    )
    fig = plot_coverage_bars(table, reference=70.0, title="Couverture par EPCI")
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == [10.0, 55.0, 92.26]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["CC Alpilles", "CA Arles", "Métropole"]
    assert [t.get_text() for t in ax.texts] == [f"10,0{NNBSP}%", f"55,0{NNBSP}%", f"92,3{NNBSP}%"]
    assert _legend(ax) == [f"Ensemble du territoire : 70,0{NNBSP}%"]
    assert ax.get_xlim() == (0.0, 100.0)
    assert ax.get_xlabel() == "Taux de couverture (% de la population)"
    assert ax.get_title() == "Couverture par EPCI"


def test_coverage_bars_label_column_unsorted_and_ax():
    table = pd.DataFrame({"nom": ["B", "A"], "taux": [80.0, 20.0]})
    fig0 = Figure()
    ax = fig0.add_subplot()
    fig = plot_coverage_bars(table, label="nom", rate="taux", sort=False, ax=ax)
    assert fig is fig0
    assert [p.get_width() for p in ax.patches] == [80.0, 20.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["B", "A"]
    assert ax.get_legend() is None
    assert table.columns.tolist() == ["nom", "taux"]


def test_coverage_bars_errors():
    with pytest.raises(InputError, match="colonne « taux_couverture_pct » absente"):
        plot_coverage_bars(pd.DataFrame({"x": [1]}))
    with pytest.raises(InputError, match="colonne « nom » absente"):
        plot_coverage_bars(pd.DataFrame({"taux_couverture_pct": [1.0]}), label="nom")
    with pytest.raises(InputError, match=r"1 taux manquant\(s\) ou hors de 0 à 100"):
        plot_coverage_bars(pd.DataFrame({"taux_couverture_pct": [50.0, 120.0]}))
    with pytest.raises(InputError, match="un tableau \\(DataFrame\\) est attendu"):
        plot_coverage_bars([50.0])
