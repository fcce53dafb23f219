"""Maps of drive-time areas (from :func:`couverture.analysis.travel.drive_time_areas`).

:func:`drive_time_map` draws them with matplotlib (print), :func:`drive_time_folium`
with folium (web, offline-capable tiles left to the caller). Both only draw:
the areas are computed in the analysis layer.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> areas = gpd.GeoDataFrame({"minutes": [20, 10]},
...     geometry=[Point(0, 0).buffer(2000), Point(0, 0).buffer(1000)], crs=2154)
>>> fig = drive_time_map(areas, title="Essai")
>>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
['≤ 10 min', '≤ 20 min']
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np

__all__ = ["drive_time_map", "drive_time_folium", "BAND_COLOURS"]

#: Colours of the bands, nearest first (ColorBrewer YlGnBu, 3 classes reversed, then lighter).
BAND_COLOURS = ["#2c7fb8", "#7fcdbb", "#edf8b1", "#ffffd9", "#f7f7f7"]


def _label(minutes: Any) -> str:
    m = float(minutes)
    return f"≤ {int(m) if m.is_integer() else str(m).replace('.', ',')} min"


def _colours(bands: np.ndarray) -> dict[float, str]:
    order = np.sort(np.unique(bands))
    return {b: BAND_COLOURS[min(k, len(BAND_COLOURS) - 1)] for k, b in enumerate(order)}


def drive_time_map(
    areas: gpd.GeoDataFrame,
    *,
    structures: gpd.GeoDataFrame | None = None,
    background: gpd.GeoDataFrame | None = None,
    ax=None,
    title: str | None = None,
    sources: str | None = None,
):
    """Static map of drive-time areas, widest band below.

    Parameters
    ----------
    areas : GeoDataFrame
        Column ``minutes``; its ``attrs["unite"]`` names the network (used in
        the sources line when ``sources`` is not given).
    structures, background : GeoDataFrame, optional
        Points drawn on top; polygons (communes) drawn below in grey outline.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if ax is None:
        fig, ax = plt.subplots(figsize=(8.27, 8.27))
    else:
        fig = ax.figure
    if background is not None:
        background.to_crs(areas.crs).boundary.plot(ax=ax, color="#999999", linewidth=0.4)
    colours = _colours(areas["minutes"].to_numpy(dtype=float))
    for band in sorted(colours, reverse=True):
        part = areas[areas["minutes"].astype(float) == band]
        part.plot(ax=ax, color=colours[band], alpha=0.75, edgecolor="#555555", linewidth=0.3)
    if structures is not None and len(structures):
        structures.to_crs(areas.crs).plot(ax=ax, color="#b2182b", markersize=12, zorder=5)
    handles = [Patch(facecolor=colours[b], edgecolor="#555555", label=_label(b)) for b in sorted(colours)]
    ax.legend(handles=handles, title="Temps en voiture", loc="upper right", frameon=False)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    text = sources or (f"Temps : {areas.attrs['unite']} ; sans congestion" if areas.attrs.get("unite") else None)
    if text:
        fig.text(0.01, 0.01, text, fontsize=7, color="#444444")
    return fig


def drive_time_folium(
    areas: gpd.GeoDataFrame,
    *,
    structures: gpd.GeoDataFrame | None = None,
    m=None,
    name: str = "Temps en voiture",
):
    """Interactive (folium) layer of drive-time areas; returns the Map.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> areas = gpd.GeoDataFrame({"minutes": [10]}, geometry=[Point(850000, 6250000).buffer(500)], crs=2154)
    >>> "10 min" in drive_time_folium(areas).get_root().render()
    True
    """
    import html

    import folium

    web = areas.to_crs(4326)
    if m is None:
        c = web.union_all().centroid
        m = folium.Map(location=[c.y, c.x], zoom_start=10, tiles=None)
    colours = _colours(web["minutes"].to_numpy(dtype=float))
    for band in sorted(colours, reverse=True):
        part = web[web["minutes"].astype(float) == band][["minutes", "geometry"]].copy()
        part["bande"] = _label(band)
        cols = ["bande"] + (["structure_id"] if "structure_id" in web.columns else [])
        if "structure_id" in web.columns:
            part["structure_id"] = web.loc[part.index, "structure_id"].astype(str)
        folium.GeoJson(
            part.to_json(),
            name=f"{name} {_label(band)}",
            style_function=lambda _f, col=colours[band]: {
                "fillColor": col,
                "color": "#555555",
                "weight": 0.5,
                "fillOpacity": 0.6,
            },
            tooltip=folium.GeoJsonTooltip(fields=cols, aliases=["Bande", "Structure"][: len(cols)]),
        ).add_to(m)
    if structures is not None and len(structures):
        for p in structures.to_crs(4326).geometry:
            folium.CircleMarker([p.y, p.x], radius=4, color="#b2182b", fill=True).add_to(m)
    if areas.attrs.get("unite"):
        m.get_root().html.add_child(
            folium.Element(
                f"<div style='position:absolute;bottom:4px;left:4px;z-index:9999;font-size:11px;background:#fff'>"
                f"Temps : {html.escape(str(areas.attrs['unite']))} ; sans congestion</div>"
            )
        )
    return m
