"""Small year-by-year charts of the atlas's « Évolution » page.

Pure presentation: the functions draw the numbers they are given (the
diagnostic's ``evolution`` table) and compute nothing. Figures are plain
:class:`matplotlib.figure.Figure` objects (not registered with pyplot), drawn
with the map style of :func:`couverture.maps.static.map_style` (fonts, hash
salt) so :func:`couverture.maps.static.save_figure` writes the same bytes
for the same numbers. Labels are in French (decimal comma, narrow no-break
space before units and between thousands). Series differ by line style and
marker as well as by colour, for readers who do not see colours.

Examples
--------
>>> fig = year_chart([2020, 2021, 2022], [Serie("Taux", [10.0, 50.5, 90.0])], title="Essai", unit="%",
...                  decimals=0, ymax=100)
>>> fig.axes[0].get_title(loc="left")
'Essai'
>>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
['Taux']
>>> fig = year_chart([2001, 2002], [Serie("Taux", [1.0, 2.0])], title="Essai", repere=(2002, "Convention"))
>>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
['Taux', 'Convention']
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..maps._format import NNBSP, format_number

__all__ = ["Serie", "year_chart"]

#: Size of the charts in inches (at 150 dpi: 1 125 x 510 pixels).
CHART_SIZE = (7.5, 3.4)


@dataclass(frozen=True)
class Serie:
    """One series of a chart: label, values (one per year) and style.

    ``kind`` is ``"ligne"`` or ``"barre"`` (bars are stacked in order).
    """

    libelle: str
    valeurs: Sequence[float]
    couleur: str = "#2166ac"
    trait: str = "-"
    marqueur: str = "o"
    kind: str = "ligne"


def year_chart(
    years: Sequence[int],
    series: Sequence[Serie],
    *,
    title: str,
    unit: str | None = None,
    decimals: int = 0,
    ymax: float | None = None,
    repere: tuple[int, str] | None = None,
    sources: str | None = None,
):
    """Lines and stacked bars of a few series by year.

    Parameters
    ----------
    years : sequence of int
        The x axis (one value per year).
    series : sequence of Serie
        What to draw; missing values (NaN) leave gaps.
    title : str
        Title (top left).
    unit : str, optional
        Unit written after the numbers of the y axis (``"%"``).
    decimals : int, default 0
        Decimals of the y axis labels.
    ymax : float, optional
        Top of the y axis (the axis always starts at 0).
    repere : (year, label), optional
        A dotted vertical line (the year of the convention), labelled in the legend.
    sources : str, optional
        Sources line written under the chart.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = year_chart([2001, 2002], [Serie("CS", [1, 2], kind="barre"), Serie("EVS", [0, 1], kind="barre")],
    ...                  title="Structures", repere=(2002, "Convention"), sources="essai")
    >>> len(fig.axes[0].patches)
    4
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    from ..maps.static import map_style

    x = np.asarray(years, dtype=float)
    with map_style():
        fig = Figure(figsize=CHART_SIZE, layout="constrained")
        ax = fig.add_subplot()
        bottom = np.zeros(len(x))
        top = 0.0
        for s in series:
            v = np.asarray(s.valeurs, dtype=float)
            if s.kind == "barre":
                filled = np.nan_to_num(v)
                ax.bar(
                    x,
                    filled,
                    bottom=bottom,
                    width=0.8,
                    color=s.couleur,
                    edgecolor="white",
                    linewidth=0.4,
                    label=s.libelle,
                    zorder=3,
                )
                bottom = bottom + filled
                top = max(top, float(bottom.max(initial=0.0)))
            else:
                ax.plot(
                    x,
                    v,
                    color=s.couleur,
                    linestyle=s.trait,
                    marker=s.marqueur,
                    markersize=3.2,
                    linewidth=1.6,
                    label=s.libelle,
                    zorder=4,
                )
                if np.isfinite(v).any():
                    top = max(top, float(np.nanmax(v)))
        ax.set_ylim(0, ymax if ymax is not None else (top * 1.12 if top > 0 else 1.0))
        if len(x):
            ax.set_xlim(x.min() - 0.7, x.max() + 0.7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=12))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{int(round(v))}"))
        suffix = f"{NNBSP}{unit}" if unit else ""
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{format_number(v, decimals)}{suffix}"))
        ax.grid(axis="y", color="#d9d9d9", linewidth=0.6, zorder=0)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        if repere is not None:
            year, label = repere
            ax.axvline(year, color="#52606d", linestyle=(0, (1, 1.5)), linewidth=1.4, zorder=2, label=label)
        ax.set_title(title, loc="left", fontsize=10, fontweight="bold", color="#1f2933")
        handles, labels = ax.get_legend_handles_labels()
        ncols = len(labels) if sum(len(t) for t in labels) <= 95 else 2
        ax.legend(
            handles,
            labels,
            loc="upper left",
            bbox_to_anchor=(0.0, -0.1),
            ncols=max(ncols, 1),
            frameon=False,
            fontsize=7.5,
        )
        if sources:
            text = textwrap.fill(sources, 160)
            lines = text.count("\n") + 1
            fig.text(0.01, 0.01, text, fontsize=6, color="#52606d", ha="left", va="bottom")
            fig.get_layout_engine().set(rect=(0.0, 0.035 * lines + 0.01, 1.0, 1.0 - 0.035 * lines - 0.01))
    return fig
