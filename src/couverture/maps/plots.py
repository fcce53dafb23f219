"""Statistical charts for the diagnostic: Lorenz curve, distances, coverage bars.

Every function draws with matplotlib (imported here, never by the analysis
modules), takes ``ax=`` to draw into an existing axes, and returns the
Figure. New figures are plain :class:`matplotlib.figure.Figure` objects, not
registered with pyplot: they display in Jupyter when returned, save with
``fig.savefig(...)`` and need no ``plt.close``. Labels are in French with a decimal comma and a narrow no-break space
as thousands separator.

Examples
--------
>>> from couverture.analysis.equity import lorenz
>>> fig = plot_lorenz(lorenz([1, 2, 3, 10], weights=[10, 20, 30, 40]))
>>> fig.axes[0].get_xlabel()
'Part cumulée de la population'
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .._validate import values_and_weights
from ..analysis.equity import lorenz
from ..errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["plot_lorenz", "plot_distance_distribution", "plot_coverage_bars"]

_NNBSP = "\u202f"  # narrow no-break space: French thousands separator and before %
_EQUALITY_GID = "couverture-egalite"


def _format_fr(value: float, decimals: int = 0) -> str:
    """A number written the French way: decimal comma, narrow space every 3 digits.

    Same rule as ``couverture.maps._format.format_number`` (kept local: no NaN here).

    Examples
    --------
    >>> _format_fr(1234567.891, 2)
    '1\\u202f234\\u202f567,89'
    >>> _format_fr(0.25, 2)
    '0,25'
    """
    text = f"{value:,.{decimals}f}"
    return text.replace(",", _NNBSP).replace(".", ",")


def _figure_axes(ax: Any, figsize: Any) -> tuple[Figure, Any]:
    """A new Figure (not registered with pyplot: no leak in loops) or ``ax``'s."""
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    try:
        fig = ax.get_figure(root=True)  # matplotlib >= 3.10: the root figure of a subfigure
    except TypeError:  # pragma: no cover - older matplotlib
        fig = ax.figure
    return fig, ax


def _percent_formatter(scale: float = 100.0) -> FuncFormatter:
    return FuncFormatter(lambda v, _pos: f"{_format_fr(v * scale, 0)}{_NNBSP}%")


def plot_lorenz(
    curve: Any,
    weights: Any | None = None,
    *,
    gini: float | None = None,
    ax: Any = None,
    label: str = "Répartition observée",
    color: str | None = None,
    title: str | None = None,
) -> Figure:
    """Lorenz curve of an indicator, with the equality line and the Gini.

    Call it several times on the same ``ax`` to compare distributions (the
    equality line is drawn once). Nothing is computed here: the curve is
    that of :func:`couverture.lorenz`.

    Parameters
    ----------
    curve : DataFrame
        The result of :func:`couverture.lorenz` (``part_population``,
        ``part_valeur``; its ``attrs["gini"]`` is shown in the legend).
        Deprecated: the values of the indicator (with ``weights``), the curve
        being computed here.
    weights : array-like, optional
        Deprecated, with values in place of ``curve``.
    gini : float, optional
        Gini index shown in the legend (default ``curve.attrs["gini"]``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure otherwise.
    label : str
        Legend of the curve; the Gini index is appended, e.g.
        ``"Répartition observée (Gini = 0,32)"``.
    color : str, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from couverture.analysis.equity import lorenz
    >>> fig = plot_lorenz(lorenz([0, 0, 0, 4]), label="Accès")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['Égalité parfaite', 'Accès (Gini = 0,75)']
    """
    if not (isinstance(curve, pd.DataFrame) and {"part_population", "part_valeur"} <= set(curve.columns)):
        warnings.warn(
            "plot_lorenz(valeurs, poids) est obsolète : passez la courbe, plot_lorenz(cv.lorenz(valeurs, poids))",
            DeprecationWarning,
            stacklevel=2,
        )
        curve = lorenz(curve, weights)
    elif weights is not None:
        raise InputError(
            "plot_lorenz : avec une courbe de Lorenz, les poids sont déjà pris en compte (retirez weights=)"
        )
    g = gini if gini is not None else curve.attrs.get("gini")
    weighted = bool(curve.attrs.get("pondere", True))
    fig, ax = _figure_axes(ax, (5.5, 5.0))
    if not any(line.get_gid() == _EQUALITY_GID for line in ax.get_lines()):
        ax.plot([0, 1], [0, 1], color="0.5", linestyle="--", linewidth=1, label="Égalité parfaite", gid=_EQUALITY_GID)
    ax.plot(
        curve["part_population"].to_numpy(),
        curve["part_valeur"].to_numpy(),
        color=color,
        linewidth=2,
        label=label if g is None else f"{label} (Gini = {_format_fr(g, 2)})",
    )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.xaxis.set_major_formatter(_percent_formatter())
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set_xlabel("Part cumulée de la population" if weighted else "Part cumulée des unités")
    ax.set_ylabel("Part cumulée de l'indicateur")
    ax.grid(True, color="0.9")
    ax.legend(loc="upper left", frameon=False)
    if title:
        ax.set_title(title)
    return fig


def plot_distance_distribution(
    distances_m: Any,
    weights: Any | None = None,
    *,
    ax: Any = None,
    bins_km: Sequence[float] = (0, 1, 2, 5, 10, 20),
    color: str = "#2c7fb8",
    title: str | None = None,
) -> Figure:
    """Bar chart of the population by class of distance (in km) to the nearest structure.

    Classes are ``[b_i, b_{i+1})`` km, the last one open ("20 km et plus");
    each bar is labelled with its share of the population.

    Parameters
    ----------
    distances_m : array-like
        Distances in metres, one per unit (non-negative).
    weights : array-like, optional
        Population of each unit; without it, units are counted.
    ax : matplotlib Axes, optional
    bins_km : sequence of float
        Increasing class bounds in km, starting at 0.
    color : str
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_distance_distribution([500, 1500, 30000], weights=[100, 50, 10])
    >>> [float(p.get_height()) for p in fig.axes[0].patches]
    [100.0, 50.0, 0.0, 0.0, 0.0, 10.0]
    """
    edges = np.asarray(bins_km, dtype="float64")
    if edges.ndim != 1 or len(edges) < 1 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise InputError(f"bins_km : des bornes croissantes commençant à 0 sont attendues, reçu {list(bins_km)!r}")
    x, w = values_and_weights(
        distances_m, weights, index="le graphique des distances", name="distances_m", drop_zero_weight=False
    )
    km = x / 1000.0
    cls = np.searchsorted(edges, km, side="right") - 1  # class i: edges[i] <= km < edges[i+1]
    counts = np.bincount(cls, weights=w, minlength=len(edges))
    total = counts.sum()
    labels = [
        f"{_format_fr(a, 0 if a == int(a) else 1)} à {_format_fr(b, 0 if b == int(b) else 1)} km"
        for a, b in zip(edges[:-1], edges[1:])
    ] + [f"{_format_fr(edges[-1], 0 if edges[-1] == int(edges[-1]) else 1)} km et plus"]
    fig, ax = _figure_axes(ax, (7.0, 4.0))
    pos = np.arange(len(labels))
    bars = ax.bar(pos, counts, color=color, width=0.8)
    for rect, c in zip(bars, counts):
        share = 100.0 * c / total if total > 0 else 0.0
        ax.annotate(
            f"{_format_fr(share, 1)}{_NNBSP}%",
            (rect.get_x() + rect.get_width() / 2, rect.get_height()),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(pos, labels, rotation=0, fontsize=8)
    ax.set_xlabel("Distance à la structure la plus proche (à vol d'oiseau)")
    ax.set_ylabel("Population (habitants)" if weights is not None else "Nombre d'unités")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: _format_fr(v, 0)))
    ax.spines[["top", "right"]].set_visible(False)
    ax.margins(y=0.12)
    if title:
        ax.set_title(title)
    return fig


def plot_coverage_bars(
    table: pd.DataFrame,
    *,
    label: str | None = None,
    rate: str = "taux_couverture_pct",
    ax: Any = None,
    reference: float | None = None,
    reference_label: str = "Ensemble du territoire",
    sort: bool = True,
    color: str = "#41b6c4",
    title: str | None = None,
) -> Figure:
    """Horizontal bars of a coverage rate (%) per group, e.g. per EPCI.

    Parameters
    ----------
    table : DataFrame
        One row per group.
    label : str, optional
        Column holding the group names; the index when omitted.
    rate : str, default "taux_couverture_pct"
        Column holding the rate in percent (0 to 100).
    ax : matplotlib Axes, optional
    reference : float, optional
        A rate (%) drawn as a vertical line, e.g. the département's.
    reference_label : str
        Legend of the reference line.
    sort : bool, default True
        Highest rate at the top.
    color : str
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> t = pd.DataFrame({"nom": ["CA Arles", "Métropole"], "taux_couverture_pct": [42.5, 88.0]})
    >>> fig = plot_coverage_bars(t, label="nom", reference=80.1)
    >>> [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    ['CA Arles', 'Métropole']
    """
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"table : un tableau (DataFrame) est attendu, reçu {type(table).__name__}")
    for col in [rate] + ([label] if label is not None else []):
        if col not in table.columns:
            present = ", ".join(map(str, table.columns)) or "aucune"
            raise InputError(f"table : colonne « {col} » absente (colonnes présentes : {present})")
    values = pd.to_numeric(table[rate], errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(values) | (values < 0) | (values > 100)
    if bad.any():
        raise InputError(
            f"table, colonne « {rate} » : {int(bad.sum())} taux manquant(s) ou hors de 0 à 100 ; "
            "un pourcentage est attendu"
        )
    names = (table[label] if label is not None else table.index.to_series()).astype(str).to_numpy()
    if sort:
        order = np.argsort(values, kind="stable")  # barh draws bottom-up: highest at the top
        values, names = values[order], names[order]
    fig, ax = _figure_axes(ax, (7.0, 0.6 + 0.35 * max(len(values), 1)))
    pos = np.arange(len(values))
    bars = ax.barh(pos, values, color=color, height=0.7)
    for rect, v in zip(bars, values):
        ax.annotate(
            f"{_format_fr(v, 1)}{_NNBSP}%",
            (rect.get_width(), rect.get_y() + rect.get_height() / 2),
            xytext=(3, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(pos, names)
    ax.set_xlim(0, 100)
    ax.xaxis.set_major_formatter(_percent_formatter(scale=1.0))
    ax.set_xlabel("Taux de couverture (% de la population)")
    ax.spines[["top", "right"]].set_visible(False)
    if reference is not None:
        ax.axvline(
            reference,
            color="0.3",
            linestyle="--",
            linewidth=1,
            label=f"{reference_label} : {_format_fr(reference, 1)}{_NNBSP}%",
        )
        ax.legend(loc="lower right", frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    return fig
