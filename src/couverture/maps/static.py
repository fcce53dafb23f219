"""Print-ready static maps (matplotlib): choropleths and proportional symbols.

Each map has a title, a legend with units and class bounds, a scale bar in
km, a north arrow, the outline of the département, optional labels of the
main communes (greedy placement, no overlaps), the structures (CS and EVS
with distinct symbols), the zones de vie sociale, an inset for Marseille (or
any zoom box) and the sources line. Figures are built without pyplot (Agg
canvas), in DejaVu Sans, at A4 or A3 size, and :func:`save_figure` writes
byte-reproducible PNG, SVG and PDF files.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> g = gpd.GeoDataFrame({"code_insee": ["13001", "13002"], "nom": ["A", "B"],
...                       "population": [1000, 250]},
...                      geometry=[box(0, 0, 5000, 5000), box(5000, 0, 10000, 5000)], crs=2154)
>>> fig = choropleth(g, "population", scheme="manuel", bins=[500], unit="hab.",
...                  title="Population", sources="essai")
>>> fig.get_size_inches().round(2).tolist()
[11.69, 8.27]
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .. import codes
from .._validate import require_columns, require_crs
from ..errors import InputError
from ._format import NNBSP, format_number, format_value, nice_number, sources_line
from .classify import MISSING_COLOR, Classification
from .style import styled

__all__ = [
    "choropleth",
    "proportional_symbols",
    "save_figure",
    "PAPER_SIZES",
    "STRUCTURE_STYLES",
    "RC_PARAMS",
    "map_style",
]

log = logging.getLogger(__name__)

#: Paper sizes in inches (portrait).
PAPER_SIZES: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}

#: Symbols of the structures, by type: (label, marker, colour, size in points²).
STRUCTURE_STYLES: dict[str, dict[str, Any]] = {
    "CS": {"label": "Centre social (CS)", "marker": "^", "color": "#e66101", "size": 46},
    "EVS": {"label": "Espace de vie sociale (EVS)", "marker": "o", "color": "#5e3c99", "size": 26},
    "autre": {"label": "Autre structure", "marker": "s", "color": "#636363", "size": 22},
}
#: Legend note of a proportional-symbol map with an inset: its circles mean the same values as the main map's.
SAME_SCALE_NOTE = "Encadré « {name} » :\ncercles à la même échelle"
_UNIT_FILL, _UNIT_EDGE = "#f0f0f0", "#bdbdbd"  # background units under proportional circles
ZONE_STYLE = {"color": "#252525", "linewidth": 0.7, "linestyle": (0, (3, 2))}
OUTLINE_STYLE = {"color": "#252525", "linewidth": 1.1}

#: matplotlib settings used for every map (fonts always available, reproducible SVG).
RC_PARAMS: dict[str, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "svg.fonttype": "path",
    "svg.hashsalt": "couverture",
    "pdf.fonttype": 42,
    "path.simplify": True,
    "axes.unicode_minus": True,
}

_PLM_NAMES = {"13055": "Marseille", "75056": "Paris", "69123": "Lyon"}
_INSETS = {"marseille": "13055", "paris": "75056", "lyon": "69123"}


@contextlib.contextmanager
def map_style() -> Iterator[None]:
    """Context in which maps are drawn: DejaVu Sans, deterministic SVG ids."""
    import matplotlib as mpl

    with mpl.rc_context(RC_PARAMS):
        yield


# --------------------------------------------------------------------------- helpers


def _check_frame(gdf: Any, column: str | None, name: str = "gdf") -> gpd.GeoDataFrame:
    require_crs(gdf, name)
    if column is not None:
        require_columns(gdf, [column], name)
    if len(gdf) == 0:
        raise InputError(f"{name} : la table est vide, rien à cartographier")
    if gdf.crs.is_geographic:
        raise InputError(
            f"{name} : coordonnées géographiques ({gdf.crs.to_string()}) ; une projection métrique est attendue "
            "pour les cartes imprimables (par exemple gdf.to_crs(2154))"
        )
    return gdf


def _same_crs(layer: gpd.GeoDataFrame | None, crs, name: str) -> gpd.GeoDataFrame | None:
    if layer is None:
        return None
    require_crs(layer, name)
    return layer.to_crs(crs) if not layer.crs.equals(crs) else layer


def _points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Label / symbol point of each unit: the ``point`` column, else a representative point."""
    geoms = gdf.geometry.to_numpy()
    rep = shapely.point_on_surface(geoms)
    if "point" in gdf.columns:
        pts = np.asarray(gpd.GeoSeries(gdf["point"]).to_numpy(), dtype=object)
        ok = ~shapely.is_missing(pts) & ~shapely.is_empty(pts)
        rep = np.where(ok, pts, rep)
    return rep


def _outline(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """Boundaries of the départements (dissolve of the units)."""
    geoms = gdf.geometry.to_numpy()
    if "departement" in gdf.columns and gdf["departement"].nunique() > 1:
        groups = gdf["departement"].astype(str).to_numpy()
        return np.array([shapely.union_all(geoms[groups == d], grid_size=1.0) for d in np.unique(groups)], dtype=object)
    return np.array([shapely.union_all(geoms, grid_size=1.0)], dtype=object)


def _figsize(figsize: str | Sequence[float], aspect: float) -> tuple[float, float]:
    if isinstance(figsize, str):
        key = figsize.upper()
        if key not in PAPER_SIZES:
            raise InputError(
                f"format de page inconnu : « {figsize} » ; formats possibles : A4, A3 ou (largeur, hauteur) en pouces"
            )
        w, h = PAPER_SIZES[key]
        return (h, w) if aspect > 1.05 else (w, h)
    w, h = figsize
    return float(w), float(h)


def _base_map(gdf, fill, *, ax, figsize, outline, zones, edgecolor, linewidth):
    """Page (or the caller's axes), filled units, département outline and ZVS outlines.

    Shared by :func:`choropleth` and :func:`proportional_symbols`; returns
    ``fig, ax, legend_axes, outline_geometries, zone_legend_handles``.
    """
    bounds = gdf.total_bounds
    if ax is None:
        aspect = (bounds[2] - bounds[0]) / max(bounds[3] - bounds[1], 1.0)
        fig = _new_figure(_figsize(figsize, aspect * 0.75 / 0.9))
        ax, pax = _layout(fig)
    else:
        fig, pax = ax.figure, None
    _plot_units(ax, gdf, fill, edgecolor=edgecolor, linewidth=linewidth)
    outline_geoms = _outline(gdf) if outline else None
    if outline_geoms is not None:
        gpd.GeoSeries(shapely.boundary(outline_geoms), crs=gdf.crs).plot(ax=ax, zorder=9, **OUTLINE_STYLE)
    return fig, ax, pax, outline_geoms, _draw_zones(ax, zones)


def _extent(bounds: np.ndarray, pad: float = 0.03, bottom: float = 0.08) -> tuple[float, float, float, float]:
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    w, h = xmax - xmin, ymax - ymin
    size = max(w, h, 1.0)
    return xmin - pad * size, ymin - bottom * size, xmax + pad * size, ymax + pad * size


def _new_figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _layout(fig, *, panel: bool = True) -> tuple[Any, Any | None]:
    """Map axes and side panel axes (figure fractions computed from inches)."""
    w, h = fig.get_size_inches()
    top, bottom = 0.95 / h, 0.55 / h
    left = 0.25 / w
    panel_w = 0.27 if panel else 0.0
    ax = fig.add_axes((left, bottom, 1 - left - panel_w - 0.2 / w, 1 - top - bottom))
    pax = None
    if panel:
        pax = fig.add_axes((1 - panel_w, bottom, panel_w - 0.25 / w, 1 - top - bottom))
        pax.set_axis_off()
    return ax, pax


def _renderer(fig):
    """Renderer to measure texts; a figure made without pyplot (base canvas) gets an Agg canvas."""
    if not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    return fig.canvas.get_renderer()


def _decorate_axes(ax) -> None:
    ax.set_aspect("equal")
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def _scale_bar(ax, *, loc: str = "lower left") -> None:
    """Scale bar in km (two alternating segments), in the lower band of the map."""
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = x1 - x0
    length = nice_number(width / 5.0)
    half = length / 2.0
    hbar = (y1 - y0) * 0.008
    bx = x0 + 0.03 * width if loc == "lower left" else x1 - 0.03 * width - length
    by = y0 + 0.035 * (y1 - y0)
    for i, colour in enumerate(("#252525", "white")):
        ax.add_patch(
            Rectangle((bx + i * half, by), half, hbar, facecolor=colour, edgecolor="#252525", linewidth=0.6, zorder=20)
        )
    km = length / 1000.0
    dec = 0 if km >= 1 else 1
    for x, value in ((bx, 0.0), (bx + half, km / 2), (bx + length, km)):
        label = format_number(value, 0 if value == int(value) else max(dec, 1))
        if x == bx + length:
            label = f"{label}{NNBSP}km"
        ax.text(x, by + hbar * 1.8, label, ha="center", va="bottom", fontsize=7, zorder=20)


def _north_arrow(ax, *, xy: tuple[float, float] = (0.96, 0.9)) -> None:
    """North arrow (grid north of the metric projection) in axes fraction."""
    x, y = xy
    ax.annotate(
        "",
        xy=(x, y + 0.07),
        xytext=(x, y),
        xycoords="axes fraction",
        arrowprops={"arrowstyle": "-|>,head_length=0.8,head_width=0.35", "color": "#252525", "linewidth": 1.4},
        zorder=20,
    )
    ax.text(
        x, y + 0.075, "N", transform=ax.transAxes, ha="center", va="bottom", fontsize=10, fontweight="bold", zorder=20
    )


def _draw_structures(ax, structures: gpd.GeoDataFrame | None, *, scale: float = 1.0) -> list:
    from matplotlib.lines import Line2D

    handles = []
    if structures is None or len(structures) == 0:
        return handles
    types = (
        structures["type"].astype(str).str.upper()
        if "type" in structures.columns
        else pd.Series("autre", index=structures.index)
    )
    types = types.where(types.isin(["CS", "EVS"]), "autre").to_numpy()
    pts = structures.geometry.to_numpy()
    xy = shapely.get_coordinates(shapely.point_on_surface(pts))
    for key in ("CS", "EVS", "autre"):
        mask = types == key
        if not mask.any():
            continue
        st = STRUCTURE_STYLES[key]
        ax.scatter(
            xy[mask, 0],
            xy[mask, 1],
            s=st["size"] * scale,
            marker=st["marker"],
            facecolor=st["color"],
            edgecolor="white",
            linewidth=0.6,
            zorder=12,
        )
        handles.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker=st["marker"],
                markersize=np.sqrt(st["size"]),
                markerfacecolor=st["color"],
                markeredgecolor="white",
                label=f"{st['label']} ({format_number(mask.sum())})",
            )
        )
    return handles


def _draw_zones(ax, zones: gpd.GeoDataFrame | None) -> list:
    from matplotlib.lines import Line2D

    if zones is None or len(zones) == 0:
        return []
    gpd.GeoSeries(zones.geometry.boundary, crs=zones.crs).plot(ax=ax, zorder=10, **ZONE_STYLE)
    return [Line2D([], [], label=f"Zone de vie sociale ({format_number(len(zones))})", **ZONE_STYLE)]


def _plot_units(ax, gdf: gpd.GeoDataFrame, colours: list[str] | str, *, edgecolor: str, linewidth: float) -> None:
    gpd.GeoSeries(gdf.geometry.to_numpy(), crs=gdf.crs).plot(
        ax=ax, color=colours, edgecolor=edgecolor, linewidth=linewidth, zorder=2
    )


def _place_labels(
    ax,
    xy: np.ndarray,
    texts: Sequence[str],
    *,
    fontsize: float = 7.0,
    bold: Sequence[bool] | None = None,
    dot: bool = True,
) -> int:
    """Greedy label placement: in order, the first position whose box overlaps no placed label.

    Returns the number of labels placed.
    """
    import matplotlib.patheffects as pe

    fig = ax.figure
    renderer = _renderer(fig)
    ax_box = ax.get_window_extent(renderer)
    placed: list = []
    n = 0
    offsets = (
        (0, 4, "center", "bottom"),
        (5, 0, "left", "center"),
        (-5, 0, "right", "center"),
        (0, -4, "center", "top"),
    )
    for i, ((x, y), text) in enumerate(zip(xy, texts)):
        weight = "bold" if bold is not None and bold[i] else "normal"
        for dx, dy, ha, va in offsets:
            artist = ax.annotate(
                text,
                (x, y),
                xytext=(dx, dy),
                textcoords="offset points",
                ha=ha,
                va=va,
                fontsize=fontsize,
                fontweight=weight,
                color="#111111",
                zorder=15,
                path_effects=[pe.withStroke(linewidth=2.2, foreground="white")],
            )
            box = artist.get_window_extent(renderer).expanded(1.06, 1.15)
            inside = ax_box.contains(box.x0, box.y0) and ax_box.contains(box.x1, box.y1)
            if inside and not any(box.overlaps(other) for other in placed):
                placed.append(box)
                if dot:
                    ax.plot([x], [y], marker="o", markersize=2.2, color="#111111", zorder=14)
                n += 1
                break
            artist.remove()
    return n


def _main_places(gdf: gpd.GeoDataFrame, n: int, label_col: str) -> tuple[np.ndarray, list[str]]:
    """The ``n`` most populated communes; PLM arrondissements merged into their city."""
    pts = _points(gdf)
    code = gdf["code_insee"].astype(str) if "code_insee" in gdf.columns else pd.Series([""] * len(gdf), index=gdf.index)
    parent = codes.plm_parent(code.reset_index(drop=True)).astype(str).to_numpy()
    names = gdf[label_col].astype(str).to_numpy() if label_col in gdf.columns else code.to_numpy()
    pop = gdf["population"].to_numpy(dtype=float) if "population" in gdf.columns else np.zeros(len(gdf))
    frame = pd.DataFrame(
        {
            "parent": parent,
            "nom": names,
            "population": pop,
            "x": shapely.get_x(pts),
            "y": shapely.get_y(pts),
            "code": code.to_numpy(),
        }
    )
    is_arm = frame["parent"] != frame["code"]
    frame.loc[is_arm, "nom"] = frame.loc[is_arm, "parent"].map(_PLM_NAMES).fillna(frame.loc[is_arm, "nom"])
    # the city's label sits at its first arrondissement (historic centre)
    frame = frame.sort_values(["parent", "code"], kind="stable")
    agg = frame.groupby("parent", sort=False).agg(
        nom=("nom", "first"), population=("population", "sum"), x=("x", "first"), y=("y", "first")
    )
    top = agg.sort_values("population", ascending=False, kind="stable").head(int(n))
    return top[["x", "y"]].to_numpy(), top["nom"].tolist()


def _arrondissement_label(code: str) -> str:
    num = int(code[-1]) if code.startswith("6938") else int(code[-2:])
    return "1er" if num == 1 else f"{num}e"


def _inset_box(gdf: gpd.GeoDataFrame, inset) -> tuple[tuple[float, float, float, float], str] | None:
    if inset is None or inset is False:
        return None
    if isinstance(inset, str):
        key = inset.strip().lower()
        if key not in _INSETS:
            raise InputError(
                f"encadré inconnu : « {inset} » ; possibles : marseille, paris, lyon, ou (xmin, ymin, xmax, ymax)"
            )
        if "code_insee" not in gdf.columns:
            return None
        mask = gdf["code_insee"].astype(str).isin(codes.PLM_ARRONDISSEMENTS[_INSETS[key]]).to_numpy()
        if not mask.any():
            log.debug("pas d'arrondissements de %s dans la couche : pas d'encadré", key)
            return None
        b = shapely.total_bounds(gdf.geometry.to_numpy()[mask])
        return _extent(b, pad=0.04, bottom=0.04), _PLM_NAMES[_INSETS[key]]
    try:
        xmin, ymin, xmax, ymax = (float(v) for v in inset)
    except (TypeError, ValueError):
        raise InputError(f"encadré : (xmin, ymin, xmax, ymax) attendu, reçu {inset!r}") from None
    if not (xmax > xmin and ymax > ymin):
        raise InputError(f"encadré : boîte vide ou inversée {inset!r}")
    return (xmin, ymin, xmax, ymax), "Zoom"


def _draw_inset(
    fig,
    ax,
    rect,
    gdf,
    colours,
    box,
    title,
    *,
    structures,
    zones,
    outline,
    edgecolor,
    linewidth,
    symbols: tuple[np.ndarray, np.ndarray, dict] | None = None,
) -> Any:
    """Inset map of ``box`` in figure rectangle ``rect`` (or inside ``ax`` when rect is None).

    ``symbols`` = (xy, sizes in points², scatter style) are drawn with the same
    sizes as in the main map (same symbol scale).
    """
    from matplotlib.patches import Rectangle

    (xmin, ymin, xmax, ymax) = box
    if rect is None:
        iax = ax.inset_axes((0.66, 0.02, 0.33, 0.36))
    else:
        iax = fig.add_axes(rect)
    sel = gdf.geometry.intersects(shapely.box(xmin, ymin, xmax, ymax)).to_numpy()
    cols = np.asarray(colours, dtype=object)[sel].tolist() if not isinstance(colours, str) else colours
    _plot_units(iax, gdf[sel], cols, edgecolor=edgecolor, linewidth=max(linewidth, 0.4))
    if outline is not None:
        gpd.GeoSeries(shapely.boundary(outline), crs=gdf.crs).plot(ax=iax, zorder=9, **OUTLINE_STYLE)
    _draw_zones(iax, zones if zones is None else zones[zones.intersects(shapely.box(*box))])
    if symbols is not None:
        sxy, ssize, style = symbols
        # circles centred just outside the box can still show in it (clipped by the axes)
        mx, my = 0.25 * (xmax - xmin), 0.25 * (ymax - ymin)
        near = (sxy[:, 0] >= xmin - mx) & (sxy[:, 0] <= xmax + mx) & (sxy[:, 1] >= ymin - my) & (sxy[:, 1] <= ymax + my)
        if near.any():
            iax.scatter(sxy[near, 0], sxy[near, 1], s=ssize[near], **style)
    _draw_structures(
        iax, structures if structures is None else structures[structures.intersects(shapely.box(*box))], scale=1.2
    )
    if "code_insee" in gdf.columns:
        code = gdf["code_insee"].astype(str)
        arm = (code.isin(codes.PLM_ARRONDISSEMENTS.get(_INSETS.get(title.lower(), ""), ())) & sel).to_numpy()
        if arm.any():
            pts = _points(gdf[arm])
            _place_labels(
                iax,
                shapely.get_coordinates(pts),
                [_arrondissement_label(c) for c in code[arm]],
                fontsize=6.5,
                dot=False,
            )
    iax.set_xlim(xmin, xmax)
    iax.set_ylim(ymin, ymax)
    _decorate_axes(iax)
    for spine in iax.spines.values():
        spine.set_visible(True)
        spine.set_linewidth(0.8)
    iax.set_title(title, fontsize=8, loc="left", pad=3)
    ax.add_patch(
        Rectangle((xmin, ymin), xmax - xmin, ymax - ymin, fill=False, edgecolor="#252525", linewidth=0.8, zorder=16)
    )
    return iax


def _finish(
    fig,
    ax,
    pax,
    *,
    title,
    subtitle,
    sources,
    handles,
    legend_title,
    inset_spec,
    draw_inset,
    legend_kw: dict | None = None,
) -> None:
    """Title, sources line, legend in the side panel (or in the axes) and the inset below it.

    ``legend_kw`` overrides the legend's settings (spacing of proportional circles).
    """
    w, h = fig.get_size_inches()
    legend_kw = legend_kw or {}
    if pax is not None:
        if title:
            fig.text(0.25 / w, 1 - 0.3 / h, title, fontsize=15, fontweight="bold", va="top", ha="left")
        if subtitle:
            fig.text(0.25 / w, 1 - 0.62 / h, subtitle, fontsize=10, va="top", ha="left", color="#444444")
        fig.text(0.25 / w, 0.2 / h, sources, fontsize=6.5, va="bottom", ha="left", color="#444444", wrap=True)
        kw = {"handlelength": 1.6, "handleheight": 1.1, **legend_kw}
        legend = pax.legend(
            handles=handles,
            title=legend_title,
            loc="upper left",
            bbox_to_anchor=(0, 1),
            frameon=False,
            alignment="left",
            fontsize=8,
            title_fontproperties={"weight": "bold", "size": 8.5},
            borderaxespad=0,
            **kw,
        )
        if inset_spec is not None:
            renderer = _renderer(fig)
            lbox = legend.get_window_extent(renderer).transformed(fig.transFigure.inverted())
            pbox = pax.get_position()
            top = lbox.y0 - 0.35 / h
            if top - pbox.y0 > 1.2 / h:
                draw_inset((pbox.x0, pbox.y0, pbox.width, top - pbox.y0))
            else:
                draw_inset(None)
    else:
        if title:
            ax.set_title(title if not subtitle else f"{title}\n{subtitle}", fontsize=11, fontweight="bold", loc="left")
        ax.annotate(
            sources,
            (0, 0),
            xycoords="axes fraction",
            xytext=(0, -4),
            textcoords="offset points",
            va="top",
            fontsize=6,
            color="#444444",
        )
        ax.legend(
            handles=handles,
            title=legend_title,
            loc="upper left",
            fontsize=7,
            title_fontsize=7.5,
            framealpha=0.85,
            alignment="left",
            **legend_kw,
        )
        if inset_spec is not None:
            draw_inset(None)


# --------------------------------------------------------------------------- public API


@styled
def choropleth(
    gdf: gpd.GeoDataFrame,
    column: str,
    scheme: str = "quantiles",
    k: int = 5,
    *,
    bins: Sequence[float] | None = None,
    palette: str | None = None,
    reverse: bool = False,
    scale: float = 1.0,
    decimals: int | None = None,
    title: str | None = None,
    subtitle: str | None = None,
    unit: str | None = None,
    legend_title: str | None = None,
    legend_counts: bool = True,
    structures: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    outline: bool = True,
    labels: int | None = None,
    label_col: str = "nom",
    inset: str | tuple[float, float, float, float] | None = "marseille",
    sources: str | None = None,
    ax: Any = None,
    figsize: str | tuple[float, float] = "A4",
    edgecolor: str = "white",
    linewidth: float = 0.25,
):
    """Choropleth map of ``column``, ready to print (A4/A3) or to insert in a report.

    Parameters
    ----------
    gdf : GeoDataFrame
        Units (communes, arrondissements...) in a metric CRS; ``code_insee``,
        ``nom``, ``population`` and ``point`` are used when present (labels,
        Marseille inset).
    column : str
        Numeric column to map.
    scheme, k, bins, palette, reverse
        Classification (see :class:`couverture.maps.Classification`):
        ``quantiles``, ``jenks``, ``intervalles_egaux``, ``ecart_type``, ``manuel``.
    scale : float, default 1
        Factor applied to the values before classifying (``1e-3`` to show
        metres in km).
    decimals : int, optional
        Decimals of the legend bounds (default: automatic).
    title, subtitle : str, optional
        Title (default: the column name) and subtitle.
    unit : str, optional
        Unit written in the legend (``"km"``, ``"%"``, ``"hab."``).
    legend_title : str, optional
        Legend title (default: ``title`` and unit).
    legend_counts : bool, default True
        Number of units of each class in the legend.
    structures : GeoDataFrame, optional
        Points with a ``type`` column (``CS``, ``EVS``): drawn with one symbol per type.
    zones : GeoDataFrame, optional
        Zones de vie sociale: outlines drawn dashed.
    outline : bool, default True
        Outline of the département(s), dissolved from the units.
    labels : int, optional
        Label the ``labels`` most populated communes (arrondissements merged
        into their city); a label overlapping one already placed is skipped.
    label_col : str, default "nom"
        Column holding the names.
    inset : "marseille", "paris", "lyon", (xmin, ymin, xmax, ymax) or None
        Zoomed inset; ``"marseille"`` (default) is drawn only when Marseille's
        arrondissements are in the layer, with their numbers.
    sources : str, optional
        Sources and vintage line; default from the layers' ``attrs["source"]``.
    ax : matplotlib Axes, optional
        Draw into this axes (legend and inset inside it) instead of a new page.
    figsize : "A4", "A3" or (width, height) in inches
        Page size; portrait or landscape after the shape of the territory.
    edgecolor, linewidth
        Unit borders.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        Missing column or CRS, geographic CRS, empty layer, non-numeric values,
        unknown scheme, palette, page size or inset.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, Point
    >>> g = gpd.GeoDataFrame({"nom": ["A", "B", "C"], "taux": [10.0, 55.5, 90.0]},
    ...                      geometry=[box(i * 1000, 0, (i + 1) * 1000, 1000) for i in range(3)], crs=2154)
    >>> s = gpd.GeoDataFrame({"type": ["CS", "EVS"]}, geometry=[Point(500, 500), Point(2500, 500)], crs=2154)
    >>> fig = choropleth(g, "taux", "intervalles_egaux", k=2, unit="%", structures=s, sources="essai")
    >>> [t.get_text() for t in fig.axes[1].get_legend().get_texts()][:2] == [
    ...     "≤\u202f50\u202f% (1)", ">\u202f50\u202f% (2)"]
    True
    """
    gdf = _check_frame(gdf, column)
    structures = _same_crs(structures, gdf.crs, "structures")
    zones = _same_crs(zones, gdf.crs, "zones")
    values = pd.to_numeric(gdf[column], errors="coerce") * float(scale) if scale != 1 else gdf[column]
    cls = Classification(values, scheme, k, bins=bins, palette=palette, reverse=reverse)
    colours = cls.value_colors()
    title = column if title is None else title
    if legend_title is None:
        legend_title = f"{title} ({unit})" if unit else title

    with map_style():
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        bounds = gdf.total_bounds
        fig, ax, pax, outline_geoms, zone_handles = _base_map(
            gdf, colours, ax=ax, figsize=figsize, outline=outline, zones=zones, edgecolor=edgecolor, linewidth=linewidth
        )
        struct_handles = _draw_structures(ax, structures)
        x0, y0, x1, y1 = _extent(bounds)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        _decorate_axes(ax)
        _scale_bar(ax)
        _north_arrow(ax)

        class_labels = cls.labels(unit, decimals=decimals, counts=legend_counts)
        handles: list = [
            Patch(facecolor=c, edgecolor="#737373", linewidth=0.4, label=lab)
            for c, lab in zip(cls.colors, class_labels)
        ]
        if cls.n_missing:
            handles.append(
                Patch(
                    facecolor=MISSING_COLOR,
                    edgecolor="#737373",
                    linewidth=0.4,
                    label=cls.missing_label(counts=legend_counts),
                )
            )
        extra = struct_handles + zone_handles
        if outline_geoms is not None:
            extra.append(Line2D([], [], label="Limite départementale", **OUTLINE_STYLE))
        if extra:
            handles.append(Patch(visible=False, label=" "))
            handles += extra

        inset_spec = _inset_box(gdf, inset)
        if labels:
            xy, names = _main_places(gdf, labels, label_col)
            _place_labels(ax, xy, names)

        def draw_inset(rect):
            box, name = inset_spec
            return _draw_inset(
                fig,
                ax,
                rect,
                gdf,
                colours,
                box,
                name,
                structures=structures,
                zones=zones,
                outline=outline_geoms,
                edgecolor=edgecolor,
                linewidth=linewidth,
            )

        _finish(
            fig,
            ax,
            pax,
            title=title,
            subtitle=subtitle,
            sources=sources_line(sources, gdf, structures, zones),
            handles=handles,
            legend_title=legend_title,
            inset_spec=inset_spec,
            draw_inset=draw_inset,
        )
    fig.couverture_classification = cls  # the classes drawn, for reuse (tests, legends elsewhere)
    return fig


def _reference_values(vmax: float, n: int = 3) -> list[float]:
    """2-3 round reference values for the circle legend: about max, max/4, max/16."""
    refs = []
    for f in (1.0, 0.25, 0.0625)[:n]:
        v = nice_number(vmax * f)
        if v > 0 and v not in refs:
            refs.append(v)
    return refs


@styled
def proportional_symbols(
    gdf: gpd.GeoDataFrame,
    column: str,
    *,
    title: str | None = None,
    subtitle: str | None = None,
    unit: str | None = None,
    legend_title: str | None = None,
    color: str = "#2c7fb8",
    max_size: float = 30.0,
    reference_values: Sequence[float] | None = None,
    structures: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    outline: bool = True,
    labels: int | None = None,
    label_col: str = "nom",
    inset: str | tuple[float, float, float, float] | None = "marseille",
    sources: str | None = None,
    ax: Any = None,
    figsize: str | tuple[float, float] = "A4",
):
    """Map of counts as circles whose area is proportional to the value.

    Parameters
    ----------
    gdf : GeoDataFrame
        Units in a metric CRS (circles at their ``point``, else a point inside).
    column : str
        Counts to show (population, number of structures...): non-negative.
    title, subtitle, unit, legend_title
        Texts (``unit`` written after the reference values: ``"hab."``).
    color : str
        Fill colour of the circles.
    max_size : float, default 30
        Diameter, in points, of the circle of the largest value.
    reference_values : sequence of float, optional
        Values of the 2-3 reference circles of the legend (default: round
        values near the maximum, a quarter and a sixteenth of it).
    inset : "marseille", "paris", "lyon", (xmin, ymin, xmax, ymax) or None
        Zoomed inset, as in :func:`choropleth` (``"marseille"``, the default,
        is drawn only when Marseille's arrondissements are in the layer). Its
        circles have the same sizes as in the main map (same area for the same
        value, so the legend holds for both), as a legend note says.
    structures, zones, outline, labels, label_col, sources, ax, figsize
        As in :func:`choropleth`; the structures, the zones and the outline
        are drawn in the inset too.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    InputError
        Missing column or CRS, geographic CRS, empty layer, non-numeric or
        negative values, no positive value, unknown page size or inset.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"population": [100, 400]},
    ...                      geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=2154)
    >>> fig = proportional_symbols(g, "population", unit="hab.", sources="essai")
    >>> sizes = fig.axes[0].collections[-1].get_sizes()   # areas in points², largest drawn first
    >>> float(sizes[0] / sizes[1])
    4.0
    >>> fig = proportional_symbols(g, "population", inset=(400, 0, 2000, 1000), sources="essai")
    >>> zoom = fig.axes[-1]
    >>> zoom.get_title(loc="left"), zoom.collections[-1].get_sizes().tolist() == sizes.tolist()
    ('Zoom', True)
    """
    gdf = _check_frame(gdf, column)
    structures = _same_crs(structures, gdf.crs, "structures")
    zones = _same_crs(zones, gdf.crs, "zones")
    raw = gdf[column]
    values = pd.to_numeric(raw, errors="coerce")
    if (raw.notna() & values.isna()).any():
        raise InputError(f"colonne « {column} » : valeurs non numériques")
    v = values.to_numpy(dtype=float, na_value=np.nan)
    if np.nanmin(v) < 0 if np.isfinite(v).any() else False:
        raise InputError(
            f"colonne « {column} » : des valeurs négatives ne peuvent pas être représentées par des cercles"
        )
    vmax = float(np.nanmax(v)) if np.isfinite(v).any() else 0.0
    if not vmax > 0:
        raise InputError(f"colonne « {column} » : aucune valeur positive à représenter")
    title = column if title is None else title
    legend_title = legend_title or (f"{title} ({unit})" if unit else title)
    refs = list(reference_values) if reference_values is not None else _reference_values(vmax)
    area_max = max_size**2  # scatter sizes are marker areas in points²

    def sizes(x):
        return area_max * np.asarray(x, dtype=float) / vmax

    with map_style():
        from matplotlib.lines import Line2D

        bounds = gdf.total_bounds
        fig, ax, pax, outline_geoms, zone_handles = _base_map(
            gdf, _UNIT_FILL, ax=ax, figsize=figsize, outline=outline, zones=zones, edgecolor=_UNIT_EDGE, linewidth=0.3
        )
        xy = shapely.get_coordinates(_points(gdf))
        ok = np.isfinite(v) & (v > 0)
        order = np.argsort(-np.where(ok, v, 0), kind="stable")
        order = order[ok[order]]
        circle_style = {"facecolor": color, "alpha": 0.75, "edgecolor": "white", "linewidth": 0.5, "zorder": 11}
        # one symbol scale for the map and its inset: sizes (points²) depend on the value only
        circles = (xy[order], sizes(v[order]), circle_style)
        ax.scatter(circles[0][:, 0], circles[0][:, 1], s=circles[1], **circle_style)
        struct_handles = _draw_structures(ax, structures)
        x0, y0, x1, y1 = _extent(bounds)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        _decorate_axes(ax)
        _scale_bar(ax)
        _north_arrow(ax)
        inset_spec = _inset_box(gdf, inset)
        if labels:
            lxy, names = _main_places(gdf, labels, label_col)
            _place_labels(ax, lxy, names)
        dec = 0 if all(float(r).is_integer() for r in refs) else 1
        handles = [
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=float(np.sqrt(sizes(r))),
                markerfacecolor=color,
                alpha=0.75,
                markeredgecolor="white",
                label=format_value(r, unit, decimals=dec),
            )
            for r in refs
        ]
        if inset_spec is not None:
            handles.append(Line2D([], [], linestyle="", label=SAME_SCALE_NOTE.format(name=inset_spec[1])))
        extra = struct_handles + zone_handles
        if outline_geoms is not None:
            extra.append(Line2D([], [], label="Limite départementale", **OUTLINE_STYLE))
        if extra:
            handles.append(Line2D([], [], linestyle="", label=" "))
            handles += extra
        spacing = max(0.6, 0.75 * max_size / 8.0)
        legend_kw = {
            "labelspacing": spacing,
            "handletextpad": 1.2,
            "handlelength": max(2.0, max_size / 8.0),
            "handleheight": 0.7,
        }

        def draw_inset(rect):
            box, name = inset_spec
            return _draw_inset(
                fig,
                ax,
                rect,
                gdf,
                _UNIT_FILL,
                box,
                name,
                structures=structures,
                zones=zones,
                outline=outline_geoms,
                edgecolor=_UNIT_EDGE,
                linewidth=0.3,
                symbols=circles,
            )

        _finish(
            fig,
            ax,
            pax,
            title=title,
            subtitle=subtitle,
            sources=sources_line(sources, gdf, structures, zones),
            handles=handles,
            legend_title=legend_title,
            inset_spec=inset_spec,
            draw_inset=draw_inset,
            legend_kw=legend_kw,
        )
    return fig


def save_figure(fig, path: str | os.PathLike, *, dpi: int = 300, format: str | None = None) -> Path:
    """Write a map to PNG (``dpi``, default 300), SVG or PDF, byte-reproducibly and atomically.

    Dates and software versions are left out of the files' metadata and SVG
    ids are salted with a fixed string, so the same map gives the same bytes.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : path
        Output file; its suffix gives the format unless ``format`` is given.
    dpi : int, default 300
        Resolution of PNG files (the page size is the figure's: A4 or A3).
    format : {"png", "svg", "pdf"}, optional

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 2))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_figure(fig, pathlib.Path(d) / "carte.svg")
    ...     p.read_bytes() == save_figure(fig, pathlib.Path(d) / "copie.svg").read_bytes()
    True
    """
    path = Path(path)
    fmt = (format or path.suffix.lstrip(".")).lower()
    metadata = {
        "png": {"Software": None},
        "svg": {"Date": None, "Creator": None},
        "pdf": {"CreationDate": None, "ModDate": None, "Creator": None, "Producer": None},
    }
    if fmt not in metadata:
        raise InputError(f"format d'export non pris en charge : « {fmt} » ; formats possibles : png, svg, pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".{fmt}", dir=path.parent)
    os.close(fd)
    try:
        with map_style():
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=metadata[fmt], facecolor="white")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
