"""The map of a what-if scenario: before and after side by side, with the same classes.

:func:`whatif_map` draws a :class:`~couverture.analysis.whatif.WhatIf`
(``WhatIf.carte`` is its deprecated alias): nothing is computed here, the
numbers are the two diagnostics'.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import shapely
from matplotlib.figure import Figure

from ..errors import InputError, Probleme
from .classify import Classification
from .static import choropleth

__all__ = ["whatif_map"]


def whatif_map(
    whatif: Any,
    column: str = "distance_km",
    *,
    scheme: str = "quantiles",
    k: int = 5,
    palette: str | None = None,
    title: str | None = None,
    unit: str | None = None,
    figsize: tuple[float, float] = (16.0, 8.5),
    inset: str | None = None,
) -> Figure:
    """Two maps side by side (before, after) of a :class:`~couverture.analysis.whatif.WhatIf`, same classes.

    Parameters
    ----------
    whatif : WhatIf
        The result of :func:`couverture.analysis.whatif.what_if`.
    column : str, default "distance_km"
        A column of the diagnostic's units (``distance_km``, ``n_zones``,
        ``acces_2sfca``, ``distance_cs_km``...).
    scheme, k, palette
        Classification of the values of both maps together (so that a
        colour means the same on both sides).
    title, unit : str, optional
        Default: the diagnostic's title and unit of the indicator.
    figsize : (width, height) in inches
    inset : str, optional
        Inset of :func:`couverture.maps.static.choropleth` (``"marseille"``...).

    Returns
    -------
    matplotlib.figure.Figure
        Two axes; added structures are starred, closed ones crossed and
        moves drawn as arrows on the right-hand map.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.lines import Line2D

    a, b = whatif.avant.unites, whatif.apres.unites
    if column not in a.columns:
        raise InputError(Probleme(f"colonne absente des unités du diagnostic : « {column} »", fichier="column"))
    ind = next((i for i in whatif.avant.indicateurs if i.colonne == column), None)
    title = title or (ind.titre if ind else column)
    unit = unit if unit is not None else (ind.unite if ind else None)
    palette = palette or (ind.palette if ind else None)
    values = pd.concat([a[column], b[column]], ignore_index=True).astype(float)
    if ind is not None and ind.schema == "manuel" and column == "n_zones":
        bins = [0, 1, 2, max(3.0, float(values.max()))]
    else:
        bins = list(Classification(values, scheme, k).bins)
    sources = " ; ".join(str(v) for v in whatif.avant.territory.sources.values()) or "non précisées"
    fig = Figure(figsize=figsize, dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.9, bottom=0.1, wspace=0.03)
    legend_title = f"{unit}" if unit else None
    for ax, diag, label in ((axes[0], whatif.avant, "Avant"), (axes[1], whatif.apres, "Après (scénario)")):
        choropleth(
            diag.unites,
            column,
            "manuel",
            bins=bins,
            palette=palette,
            unit=unit,
            title=label,
            legend_title=legend_title,
            structures=diag.structures,
            zones=None,
            sources="Sources :",
            ax=ax,
            inset=inset,
        )
        for text in list(ax.texts):  # one sources line for the figure, below
            if text.get_text() == "Sources :":
                text.remove()
    fig.suptitle(title, fontsize=14, fontweight="bold", x=0.01, ha="left")
    fig.text(
        0.01,
        0.01,
        sources if sources.lower().startswith("source") else f"Sources : {sources}",
        fontsize=7,
        color="#444444",
        ha="left",
        va="bottom",
        wrap=True,
    )
    # the changes, on the right-hand map
    ax = axes[1]
    ch = whatif.changements
    handles = []
    before = whatif.avant.structures.set_index("structure_id").geometry
    after = whatif.apres.structures.set_index("structure_id").geometry
    added = ch.loc[ch["action"] == "ajout", "structure_id"]
    if len(added):
        xy = shapely.get_coordinates(after.loc[added.to_numpy()].values)
        ax.scatter(xy[:, 0], xy[:, 1], marker="*", s=220, c="#d7191c", edgecolors="black", linewidths=0.6, zorder=30)
        handles.append(Line2D([], [], marker="*", ls="", ms=13, mfc="#d7191c", mec="black", label="Structure ajoutée"))
    closed = ch.loc[ch["action"] == "fermeture", "structure_id"]
    if len(closed):
        xy = shapely.get_coordinates(before.loc[closed.to_numpy()].values)
        ax.scatter(xy[:, 0], xy[:, 1], marker="X", s=110, c="black", zorder=30)
        handles.append(Line2D([], [], marker="X", ls="", ms=9, mfc="black", mec="black", label="Structure fermée"))
    moved = ch.loc[ch["action"] == "déplacement", "structure_id"]
    if len(moved):
        p0 = shapely.get_coordinates(before.loc[moved.to_numpy()].values)
        p1 = shapely.get_coordinates(after.loc[moved.to_numpy()].values)
        ax.quiver(
            p0[:, 0],
            p0[:, 1],
            p1[:, 0] - p0[:, 0],
            p1[:, 1] - p0[:, 1],
            angles="xy",
            scale_units="xy",
            scale=1,
            color="#d7191c",
            width=0.004,
            zorder=30,
        )
        handles.append(Line2D([], [], color="#d7191c", marker=">", label="Structure déplacée"))
    if handles:
        fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.04), ncol=len(handles), frameon=False)
    return fig
