"""Interactive maps (folium / Leaflet) that work without any tile server.

:func:`interactive` draws one or several indicators of the units as
switchable choropleths (one radio button per indicator in the layer control;
the geometry is embedded once, as TopoJSON decoded by a few lines of inline
JavaScript), tooltips and popups in French, the structures (CS and EVS as
coloured circles, no icon images), the zones de vie sociale, the outline of
the département, a legend, a layer control and a full-screen button (the
browser's Fullscreen API, inline). With the
default ``tiles=None`` the page needs no network for its data: only Leaflet
and folium's default scripts (see :func:`asset_urls`), which the atlas serves
from local copies.

Every text of the data is HTML-escaped before it reaches the page, and the
elements get deterministic ids, so the same inputs give the same bytes.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> g = gpd.GeoDataFrame({"code_insee": ["13001", "13002"], "nom": ["Aix", "Allauch"],
...                       "taux": [12.5, 80.0]},
...                      geometry=[box(890000, 6270000, 900000, 6280000),
...                                box(900000, 6270000, 910000, 6280000)], crs=2154)
>>> m = interactive(g, "taux", k=2, unit="%", title="Couverture")
>>> html = m.get_root().render()
>>> "12,5\u202f%" in html and "couvertureTopo" in html
True
"""

from __future__ import annotations

import contextlib
import html as _html
import itertools
import logging
import os
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import require_columns, require_crs
from ..errors import InputError
from ._format import format_value, sources_line
from .classify import MISSING_COLOR, Classification
from .static import STRUCTURE_STYLES
from .style import styled
from .web import TOPOJSON_DECODER_JS, dumps_for_script, to_geojson, to_topojson, web_geometries

__all__ = ["interactive", "save_map", "render_map", "asset_urls", "freeze_ids", "WEB_STRUCTURE_STYLES"]

log = logging.getLogger(__name__)

#: Circle markers of the structures on the web map, by type.
WEB_STRUCTURE_STYLES: dict[str, dict[str, Any]] = {
    "CS": {"label": "Centres sociaux (CS)", "color": STRUCTURE_STYLES["CS"]["color"], "radius": 7},
    "EVS": {"label": "Espaces de vie sociale (EVS)", "color": STRUCTURE_STYLES["EVS"]["color"], "radius": 5},
    "autre": {"label": "Autres structures", "color": STRUCTURE_STYLES["autre"]["color"], "radius": 5},
}
_TYPE_NAMES = {"CS": "Centre social", "EVS": "Espace de vie sociale", "autre": "Structure"}
ZONE_WEB_STYLE = {"color": "#252525", "weight": 1.6, "dashArray": "5 4", "fill": False, "opacity": 0.9}
OUTLINE_WEB_STYLE = {"color": "#1a1a1a", "weight": 2.2, "fill": False, "opacity": 1}
EXTRA_WEB_STYLE = {"color": "#b2182b", "weight": 2, "fillColor": "#b2182b", "fillOpacity": 0.12}

_CSS = """
{% macro header(this, kwargs) %}
<style>
#{{ this._parent.get_name() }} { background: {{ this.background }}; }
.cv-legend { background: rgba(255,255,255,0.93); padding: 8px 10px; border-radius: 4px;
  box-shadow: 0 1px 5px rgba(0,0,0,0.3); font: 12px/1.35 "DejaVu Sans", Arial, sans-serif; color: #222;
  max-width: 300px; max-height: 70vh; overflow-y: auto; }
.cv-legend h4 { margin: 0 0 4px; font-size: 12.5px; }
.cv-legend .cv-row { display: flex; align-items: center; margin: 2px 0; white-space: nowrap; }
.cv-legend .cv-sw { width: 16px; height: 12px; margin-right: 6px; border: 1px solid #777; flex: none; }
.cv-legend .cv-dot { width: 12px; height: 12px; border-radius: 50%; margin: 0 8px 0 2px; border: 1.5px solid #fff;
  box-shadow: 0 0 0 1px #777; flex: none; }
.cv-legend .cv-line { width: 18px; height: 0; margin-right: 6px; flex: none; }
.cv-legend .cv-src { margin-top: 6px; font-size: 10.5px; color: #555; white-space: normal; }
.cv-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 800;
  background: rgba(255,255,255,0.93); padding: 5px 12px; border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.3);
  font: bold 15px "DejaVu Sans", Arial, sans-serif; color: #111; pointer-events: none; max-width: 60%; text-align: center; }
.leaflet-control-layers { font: 12.5px/1.45 "DejaVu Sans", Arial, sans-serif; }
.cv-tip b { font-size: 12.5px; }
.cv-tip table { border-collapse: collapse; margin-top: 2px; }
.cv-tip td { padding: 0 6px 0 0; }
.cv-tip td.cv-v { text-align: right; font-variant-numeric: tabular-nums; }
</style>
{% endmacro %}
"""


def _element(template: str, name: str, **attrs):
    from branca.element import MacroElement, Template

    el = MacroElement()
    el._name = name
    el._template = Template(template)
    for k, v in attrs.items():
        setattr(el, k, v)
    return el


_DECODER_TEMPLATE = (
    "{% macro script(this, kwargs) %}\n"
    + TOPOJSON_DECODER_JS
    + "\nL.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});\n{% endmacro %}"
)

_CHOROPLETH_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }}_data = {{ this.data }};
var {{ this.get_name() }}_colors = {{ this.colors }};
var {{ this.get_name() }}_labels = {{ this.labels }};
var {{ this.get_name() }}_extra = {{ this.extra }};
var {{ this.get_name() }}_groups = [{% for g in this.groups %}{{ g.get_name() }}{{ "," if not loop.last }}{% endfor %}];
var {{ this.get_name() }}_active = 0;
function {{ this.get_name() }}_style(f) {
  var c = f.properties.k[{{ this.get_name() }}_active];
  return {fillColor: c < 0 ? {{ this.missing }} : {{ this.get_name() }}_colors[{{ this.get_name() }}_active][c],
          fillOpacity: {{ this.opacity }}, color: "#ffffff", weight: {{ this.weight }}, opacity: 0.9};
}
function {{ this.get_name() }}_html(p, full) {
  var h = '<div class="cv-tip"><b>' + p.n + '</b>' + (p.c ? ' <span style="color:#666">(' + p.c + ')</span>' : '') + '<table>';
  var labels = {{ this.get_name() }}_labels, extra = {{ this.get_name() }}_extra;
  for (var i = 0; i < labels.length; i++) {
    var on = i === {{ this.get_name() }}_active;
    h += '<tr' + (on ? ' style="font-weight:bold"' : '') + '><td>' + labels[i] + '</td><td class="cv-v">' + p.v[i] + '</td></tr>';
  }
  for (var j = 0; j < extra.length; j++) {
    if (full || j < {{ this.n_tooltip_extra }}) h += '<tr><td>' + extra[j] + '</td><td class="cv-v">' + p.t[j] + '</td></tr>';
  }
  return h + '</table></div>';
}
var {{ this.get_name() }} = L.geoJson(couvertureTopo({{ this.get_name() }}_data, "unites"), {
  style: {{ this.get_name() }}_style,
  onEachFeature: function (f, layer) {
    layer.bindTooltip(function () { return {{ this.get_name() }}_html(f.properties, false); }, {sticky: true});
    layer.bindPopup(function () { return {{ this.get_name() }}_html(f.properties, true); });
    layer.on({
      mouseover: function (e) { e.target.setStyle({weight: 2.5, color: "#111111"}); e.target.bringToFront(); },
      mouseout: function (e) { {{ this.get_name() }}.resetStyle(e.target); }
    });
  }
}).addTo({{ this._parent.get_name() }});
{{ this._parent.get_name() }}.on("baselayerchange", function (e) {
  var i = {{ this.get_name() }}_groups.indexOf(e.layer);
  if (i < 0) return;
  {{ this.get_name() }}_active = i;
  {{ this.get_name() }}.setStyle({{ this.get_name() }}_style);
  var items = document.querySelectorAll(".cv-ind-{{ this.token }}");
  for (var j = 0; j < items.length; j++) items[j].style.display = (String(i) === items[j].getAttribute("data-i")) ? "" : "none";
});
{{ this.get_name() }}.bringToBack();
{% endmacro %}
"""

_LEGEND_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.control({position: {{ this.position }}});
{{ this.get_name() }}.onAdd = function (map) {
  var div = L.DomUtil.create("div", "cv-legend");
  div.innerHTML = {{ this.html }};
  L.DomEvent.disableClickPropagation(div);
  L.DomEvent.disableScrollPropagation(div);
  return div;
};
{{ this.get_name() }}.addTo({{ this._parent.get_name() }});
{% endmacro %}
"""

_TITLE_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var d = L.DomUtil.create("div", "cv-title", {{ this._parent.get_name() }}.getContainer());
  d.innerHTML = {{ this.html }};
})();
{% endmacro %}
"""

_FULLSCREEN_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
  var map = {{ this._parent.get_name() }};
  var ctl = L.control({position: "topleft"});
  ctl.onAdd = function () {
    var bar = L.DomUtil.create("div", "leaflet-bar leaflet-control");
    var a = L.DomUtil.create("a", "cv-fullscreen", bar);
    a.href = "#"; a.title = "Plein écran"; a.setAttribute("role", "button"); a.setAttribute("aria-label", "Plein écran");
    a.innerHTML = '<svg width="14" height="14" viewBox="0 0 14 14" style="margin-top:8px"><path d="M1 5V1h4M9 1h4v4M13 9v4H9M5 13H1V9" fill="none" stroke="#333" stroke-width="2"/></svg>';
    L.DomEvent.on(a, "click", function (e) {
      L.DomEvent.preventDefault(e);
      var c = map.getContainer();
      if (document.fullscreenElement) { document.exitFullscreen(); }
      else if (c.requestFullscreen) { c.requestFullscreen(); }
    });
    document.addEventListener("fullscreenchange", function () {
      var on = document.fullscreenElement === map.getContainer();
      a.title = on ? "Quitter le plein écran" : "Plein écran";
      a.setAttribute("aria-label", a.title);
      map.invalidateSize();
    });
    return bar;
  };
  ctl.addTo(map);
})();
{% endmacro %}
"""

_BRING_TO_FRONT_TEMPLATE = """
{% macro script(this, kwargs) %}
{{ this._parent.get_name() }}.on("overlayadd", function () {
  {% for layer in this.layers %}if ({{ this._parent.get_name() }}.hasLayer({{ layer.get_name() }})) {{ layer.get_name() }}.bringToFront();
  {% endfor %}
});
{% endmacro %}
"""


_TOPO_LAYER_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJson(couvertureTopo({{ this.data }}, "o"), {
  style: function (f) { return {{ this.style }}; },
  interactive: {{ "true" if this.interactive else "false" }},
  onEachFeature: function (f, layer) { if (f.properties && f.properties.tip) layer.bindTooltip(f.properties.tip, {sticky: true}); }
});
{% endmacro %}
"""


def _topo_layer(
    name: str,
    frame: gpd.GeoDataFrame,
    style: Mapping[str, Any],
    *,
    interactive: bool,
    show: bool = True,
    control: bool = True,
):
    """An overlay of polygons embedded as TopoJSON (listed in the layer control)."""
    from branca.element import Template
    from folium.map import Layer

    layer = Layer(name=name, overlay=True, control=control, show=show)
    layer._name = "CouvertureLayer"
    layer._template = Template(_TOPO_LAYER_TEMPLATE)
    props = ["tip"] if "tip" in frame.columns else []
    layer.data = dumps_for_script(to_topojson(frame.to_crs(4326), name="o", properties=props))
    layer.style = dumps_for_script(dict(style))
    layer.interactive = interactive
    return layer


def _esc(value: Any) -> str:
    return _html.escape("" if value is None or (isinstance(value, float) and np.isnan(value)) else str(value))


def _per(param: Any, column: str, index: int, default: Any = None) -> Any:
    """A parameter given once for all indicators, as a dict by column, or as a list."""
    if isinstance(param, Mapping):
        return param.get(column, default)
    if isinstance(param, (list, tuple)) and not isinstance(param, str):
        return param[index] if index < len(param) else default
    return default if param is None else param


def _metric_frame(gdf: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    require_crs(gdf, name)
    if len(gdf) == 0:
        raise InputError(f"{name} : la table est vide, rien à cartographier")
    if gdf.crs.is_geographic:
        crs = gdf.estimate_utm_crs()
        log.info("%s : reprojection de %s vers %s pour simplifier les contours", name, gdf.crs.to_string(), crs)
        gdf = gdf.to_crs(crs)
    return gdf


def _swatch_rows(colors: Sequence[str], labels: Sequence[str]) -> str:
    return "".join(
        f'<div class="cv-row"><span class="cv-sw" style="background:{_esc(c)}"></span>{_esc(label)}</div>'
        for c, label in zip(colors, labels)
    )


def _format_column(values: pd.Series, unit: str | None, decimals: int | None, scale: float = 1.0) -> list[str]:
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().sum() == 0 and values.notna().any():
        return [_esc(v) for v in values]
    arr = num.to_numpy(dtype=float, na_value=np.nan) * scale
    if decimals is None:
        finite = np.abs(arr[np.isfinite(arr)])
        if finite.size == 0 or np.all(np.abs(finite - np.round(finite)) < 1e-9) or finite.max() >= 100:
            decimals = 0
        else:
            decimals = 2 if finite.max() < 1 else 1
    return [_esc(format_value(v, unit, decimals=decimals)) for v in arr]


@styled
def interactive(
    gdf: gpd.GeoDataFrame,
    column: str | Sequence[str],
    *,
    scheme: str | Mapping[str, str] = "quantiles",
    k: int | Mapping[str, int] = 5,
    bins: Sequence[float] | Mapping[str, Sequence[float]] | None = None,
    palette: str | Mapping[str, str] | None = None,
    reverse: bool | Mapping[str, bool] = False,
    scale: float | Mapping[str, float] = 1.0,
    unit: str | Mapping[str, str] | None = None,
    labels: Mapping[str, str] | Sequence[str] | None = None,
    decimals: int | Mapping[str, int] | None = None,
    title: str | None = None,
    structures: gpd.GeoDataFrame | None = None,
    zones: gpd.GeoDataFrame | None = None,
    extra_layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    tooltip_cols: Sequence[str] | None = None,
    popup_cols: Sequence[str] | None = None,
    aliases: Mapping[str, str] | None = None,
    units: Mapping[str, str] | None = None,
    name_col: str = "nom",
    code_col: str = "code_insee",
    outline: bool = True,
    sources: str | None = None,
    m: Any = None,
    tiles: str | None = None,
    attr: str | None = None,
    tolerance: float | str | None = "auto",
    fullscreen: bool = True,
    legend_position: str = "bottomleft",
    opacity: float = 0.8,
    background: str = "#eef1f4",
    width: str | int = "100%",
    height: str | int = "100%",
):
    """Interactive choropleth map(s) of ``column`` with structures, ZVS and legend.

    Parameters
    ----------
    gdf : GeoDataFrame
        Units (metric CRS; a geographic one is projected to UTM to simplify).
    column : str or list of str
        Indicator(s) to map; several give switchable layers (radio buttons).
    scheme, k, bins, palette, reverse, scale, unit, decimals
        Classification and display of each indicator (see
        :class:`couverture.maps.Classification`), given once for all or as a
        dict keyed by column. ``scale`` multiplies the values (``1e-3`` for
        metres shown in km).
    labels : dict or list, optional
        Display name of each indicator (default: the column name).
    title : str, optional
        Title shown on top of the map.
    structures : GeoDataFrame, optional
        Points with ``type`` (CS / EVS), ``nom`` and ``structure_id``: one
        toggleable layer per type, circles of distinct colours.
    zones : GeoDataFrame, optional
        Zones de vie sociale (``structure_id``): dashed outlines.
    extra_layers : dict of name -> GeoDataFrame, optional
        More overlays (zones blanches...): tooltips show their columns.
    tooltip_cols, popup_cols : list of str, optional
        Further columns of ``gdf`` in the tooltip / in the popup (the popup
        shows the tooltip's too).
    aliases, units : dict, optional
        Display names and units of those columns.
    name_col, code_col : str
        Columns naming the units in tooltips.
    outline : bool, default True
        Outline of the département(s).
    sources : str, optional
        Sources line of the legend (default from ``attrs["source"]``).
    m : folium.Map, optional
        Add to this map instead of a new one.
    tiles : str, optional
        Tile layer URL or folium name (needs the network); default None: a
        plain background, so the map works offline.
    attr : str, optional
        Attribution of the tiles.
    tolerance : float, "auto" or None
        Simplification of the unit borders in metres (see
        :func:`couverture.maps.web.web_geometries`).
    fullscreen : bool, default True
        Full-screen button.
    legend_position : {"bottomleft", "bottomright", "topleft", "topright"}
        Corner of the legend.
    opacity : float
        Fill opacity of the choropleth.
    background : str
        Background colour when there are no tiles.
    width, height
        Size of a new map.

    Returns
    -------
    folium.Map

    Raises
    ------
    InputError
        Missing columns or CRS, empty layer, non-numeric indicator, bad classification.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box, Point
    >>> g = gpd.GeoDataFrame({"code_insee": ["1", "2"], "nom": ["A <b>", "B"], "x": [1.0, 2.0], "y": [5, 6]},
    ...                      geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=2154)
    >>> s = gpd.GeoDataFrame({"structure_id": ["S1"], "nom": ["Centre"], "type": ["CS"]},
    ...                      geometry=[Point(500, 500)], crs=2154)
    >>> html = interactive(g, ["x", "y"], k=2, structures=s, title="Essai").get_root().render()
    >>> "lt;b" in html and "A <b>" not in html, "Centres sociaux (CS)" in html
    (True, True)
    """
    import folium

    columns = [column] if isinstance(column, str) else list(column)
    if not columns:
        raise InputError("aucun indicateur à cartographier (column=[])")
    if legend_position not in ("bottomleft", "bottomright", "topleft", "topright"):
        raise InputError(
            f"position de légende inconnue : « {legend_position} » (bottomleft, bottomright, topleft, topright)"
        )
    gdf = _metric_frame(gdf, "gdf")
    tooltip_cols = list(tooltip_cols or [])
    popup_cols = [c for c in (popup_cols or []) if c not in tooltip_cols]
    require_columns(gdf, columns + tooltip_cols + popup_cols, "gdf")
    aliases = dict(aliases or {})
    units = dict(units or {})

    # classes and formatted values of each indicator
    classes: list[Classification] = []
    names: list[str] = []
    shown_values: list[list[str]] = []
    for i, col in enumerate(columns):
        sc = float(_per(scale, col, i, 1.0))
        vals = pd.to_numeric(gdf[col], errors="coerce") * sc if sc != 1 else gdf[col]
        cls = Classification(
            vals,
            _per(scheme, col, i, "quantiles"),
            int(_per(k, col, i, 5)),
            bins=bins.get(col) if isinstance(bins, Mapping) else bins,
            palette=_per(palette, col, i, None),
            reverse=bool(_per(reverse, col, i, False)),
        )
        classes.append(cls)
        names.append(str(_per(labels, col, i, col)))
        u = _per(unit, col, i, None)
        d = _per(decimals, col, i, None)
        shown_values.append(_format_column(pd.Series(cls.values), u, d))

    extra_cols = tooltip_cols + popup_cols
    extra_values = [_format_column(gdf[c], units.get(c), None) for c in extra_cols]
    code = (
        gdf[code_col].astype(str).map(_esc) if code_col in gdf.columns else pd.Series([""] * len(gdf), index=gdf.index)
    )
    nom = gdf[name_col].map(_esc) if name_col in gdf.columns else code

    props = pd.DataFrame(
        {
            "n": nom.to_numpy(),
            "c": code.to_numpy(),
            "v": [list(t) for t in zip(*shown_values)],
            "k": [list(t) for t in zip(*[cls.yb.tolist() for cls in classes])],
            "t": [list(t) for t in zip(*extra_values)] if extra_values else [[] for _ in range(len(gdf))],
        },
        index=gdf.index,
    )
    web = web_geometries(gdf, tolerance=tolerance)
    web = gpd.GeoDataFrame(props, geometry=web.geometry.to_numpy(), crs=web.crs, index=gdf.index)
    topo = to_topojson(web, name="unites", properties=["n", "c", "v", "k", "t"])

    # the map
    if m is None:
        xmin, ymin, xmax, ymax = web.total_bounds
        m = folium.Map(
            location=[(ymin + ymax) / 2, (xmin + xmax) / 2],
            tiles=None,
            control_scale=False,
            prefer_canvas=len(gdf) > 3000,
            width=width,
            height=height,
            zoom_snap=0.25,
        )
        m.fit_bounds([[ymin, xmin], [ymax, xmax]])
    if not any(getattr(ch, "_name", "") == "CouvertureStyle" for ch in m._children.values()):
        m.add_child(_element(_CSS, "CouvertureStyle", background=background))
        m.add_child(_element(_DECODER_TEMPLATE, "CouvertureTopo"))
    if tiles is not None:
        folium.TileLayer(tiles, attr=attr, name="Fond de carte", overlay=True, control=True).add_to(m)

    groups = []
    for i, name in enumerate(names):
        g = folium.FeatureGroup(name=name, overlay=False, control=True, show=i == 0)
        g.add_to(m)
        groups.append(g)
    choro = _element(
        _CHOROPLETH_TEMPLATE,
        "CouvertureChoropleth",
        data=dumps_for_script(topo),
        colors=dumps_for_script([cls.colors for cls in classes]),
        labels=dumps_for_script([_esc(n) for n in names]),
        extra=dumps_for_script([_esc(aliases.get(c, c)) for c in extra_cols]),
        n_tooltip_extra=len(tooltip_cols),
        groups=groups,
        missing=dumps_for_script(MISSING_COLOR),
        opacity=float(opacity),
        weight=0.7 if len(gdf) <= 3000 else 0.2,  # thin borders when units are tiny on screen
        token=f"{sum(getattr(ch, '_name', '') == 'CouvertureChoropleth' for ch in m._children.values())}",
    )
    m.add_child(choro)

    overlays = []
    web_units = web
    if outline:
        overlays.append(_outline_layer(web_units, gdf).add_to(m))
    zone_layer = None
    if zones is not None and len(zones):
        zone_layer = _zones_layer(zones, structures).add_to(m)
        overlays.append(zone_layer)
    for name, layer in (extra_layers or {}).items():
        overlays.append(_extra_layer(name, layer).add_to(m))
    struct_counts: dict[str, int] = {}
    if structures is not None and len(structures):
        for key, layer, n in _structure_layers(structures, gdf):
            overlays.append(layer.add_to(m))
            struct_counts[key] = n
    if overlays:
        m.add_child(_element(_BRING_TO_FRONT_TEMPLATE, "CouvertureOrder", layers=overlays))

    # legend, title, controls
    legend_html = _legend_html(
        classes,
        names,
        columns,
        unit,
        choro,
        struct_counts,
        zone_layer is not None,
        outline,
        extra_layers,
        sources_line(sources, gdf, structures, zones),
        decimals,
    )
    m.add_child(
        _element(
            _LEGEND_TEMPLATE,
            "CouvertureLegend",
            html=dumps_for_script(legend_html),
            position=dumps_for_script(legend_position),
        )
    )
    if title:
        m.add_child(_element(_TITLE_TEMPLATE, "CouvertureTitle", html=dumps_for_script(_esc(title))))
    if fullscreen and not any(getattr(ch, "_name", "") == "CouvertureFullscreen" for ch in m._children.values()):
        # the browser's Fullscreen API, inline: no plugin script to fetch or vendor
        m.add_child(_element(_FULLSCREEN_TEMPLATE, "CouvertureFullscreen"))
    for key in [key for key, ch in m._children.items() if isinstance(ch, folium.LayerControl)]:
        del m._children[key]  # one control, listing every layer, added last
    folium.LayerControl(collapsed=len(columns) + len(overlays) > 8, position="topright").add_to(m)
    freeze_ids(m)
    return m


def _legend_html(
    classes, names, columns, unit, choro, struct_counts, has_zones, outline, extra_layers, sources, decimals
) -> str:
    parts = []
    for i, (cls, name, col) in enumerate(zip(classes, names, columns)):
        u = _per(unit, col, i, None)
        d = _per(decimals, col, i, None)
        head = f"{name} ({u})" if u else name
        labels = cls.labels(u, decimals=d, counts=True)
        rows = _swatch_rows(cls.colors, labels)
        if cls.n_missing:
            rows += _swatch_rows([MISSING_COLOR], [cls.missing_label(counts=True)])
        style = "" if i == 0 else ' style="display:none"'
        parts.append(f'<div class="cv-ind-{choro.token}" data-i="{i}"{style}><h4>{_esc(head)}</h4>{rows}</div>')
    symbols = []
    for key, n in struct_counts.items():
        st = WEB_STRUCTURE_STYLES[key]
        symbols.append(
            f'<div class="cv-row"><span class="cv-dot" style="background:{st["color"]}"></span>'
            f"{_esc(st['label'])} ({n})</div>"
        )
    if has_zones:
        symbols.append(
            '<div class="cv-row"><span class="cv-line" style="border-top:2px dashed #252525"></span>'
            "Zone de vie sociale</div>"
        )
    if outline:
        symbols.append(
            '<div class="cv-row"><span class="cv-line" style="border-top:2.5px solid #1a1a1a"></span>'
            "Limite départementale</div>"
        )
    for name in extra_layers or {}:
        symbols.append(
            f'<div class="cv-row"><span class="cv-sw" style="background:rgba(178,24,43,0.15);'
            f'border-color:#b2182b"></span>{_esc(name)}</div>'
        )
    if symbols:
        parts.append('<div style="margin-top:6px">' + "".join(symbols) + "</div>")
    parts.append(f'<div class="cv-src">{_esc(sources)}</div>')
    return "".join(parts)


def _on_each_feature_tip():
    from folium.utilities import JsCode

    return JsCode(
        "function (f, layer) { if (f.properties && f.properties.tip) layer.bindTooltip(f.properties.tip, {sticky: true}); }"
    )


def _tip_table(title: str, rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f"<tr><td>{_esc(k)}</td><td class='cv-v'>{_esc(v)}</td></tr>" for k, v in rows if v not in (None, "")
    )
    return f"<div class='cv-tip'><b>{_esc(title)}</b><table>{body}</table></div>"


def _outline_layer(web: gpd.GeoDataFrame, gdf: gpd.GeoDataFrame):

    geoms = web.geometry.to_numpy()
    if "departement" in gdf.columns and gdf["departement"].nunique() > 1:
        dep = gdf["departement"].astype(str).to_numpy()
        keys = np.unique(dep)
        shapes = [shapely.coverage_union_all(geoms[dep == d]) for d in keys]
    else:
        shapes = [shapely.coverage_union_all(geoms)]
    frame = gpd.GeoDataFrame(geometry=np.asarray(shapes, dtype=object), crs=web.crs)
    return _topo_layer("Limite départementale", frame, OUTLINE_WEB_STYLE, interactive=False)


def _zones_layer(zones: gpd.GeoDataFrame, structures: gpd.GeoDataFrame | None):

    require_crs(zones, "zones")
    z = zones.copy()
    sid = z["structure_id"].astype(str) if "structure_id" in z.columns else pd.Series([""] * len(z), index=z.index)
    nom = pd.Series([""] * len(z), index=z.index)
    if structures is not None and "structure_id" in structures.columns and "nom" in structures.columns:
        names = dict(zip(structures["structure_id"].astype(str), structures["nom"].astype(str)))
        nom = sid.map(names).fillna("")
    z["tip"] = [_tip_table("Zone de vie sociale", [("Structure", s), ("Nom", n)]) for s, n in zip(sid, nom)]
    # zones are unions of units: their common borders are identical and become shared arcs
    z = z[["tip", z.geometry.name]]
    return _topo_layer("Zones de vie sociale (ZVS)", z, ZONE_WEB_STYLE, interactive=True)


def _extra_layer(name: str, layer: gpd.GeoDataFrame):
    import folium

    require_crs(layer, name)
    lay = layer.copy()
    cols = [c for c in lay.columns if c != lay.geometry.name and not isinstance(lay[c].dtype, gpd.array.GeometryDtype)][
        :6
    ]
    lay["tip"] = (
        [
            _tip_table(name, [(c, _format_column(pd.Series([v]), None, None)[0]) for c, v in zip(cols, row)])
            for row in lay[cols].itertuples(index=False, name=None)
        ]
        if cols
        else [_tip_table(name, [])] * len(lay)
    )
    lay = lay[["tip", lay.geometry.name]]
    if bool(np.isin(shapely.get_type_id(lay.geometry.to_numpy()), [3, 6]).all()):
        return _topo_layer(name, lay, EXTRA_WEB_STYLE, interactive=True)
    lay = lay.to_crs(4326)
    return folium.GeoJson(
        to_geojson(lay, properties=["tip"]),
        name=name,
        style_function=lambda f: dict(EXTRA_WEB_STYLE),
        marker=folium.CircleMarker(radius=5, color="#b2182b", fill=True, fill_opacity=0.8, weight=1),
        on_each_feature=_on_each_feature_tip(),
    )


def _structure_layers(structures: gpd.GeoDataFrame, communes: gpd.GeoDataFrame):
    import folium

    require_crs(structures, "structures")
    s = structures.to_crs(4326)
    types = s["type"].astype(str).str.upper() if "type" in s.columns else pd.Series("autre", index=s.index)
    types = types.where(types.isin(["CS", "EVS"]), "autre")
    commune_names = {}
    if "code_insee" in communes.columns and "nom" in communes.columns:
        commune_names = dict(zip(communes["code_insee"].astype(str), communes["nom"].astype(str)))
    if "commune" in s.columns:
        commune = s["commune"].astype(str)
    elif "code_insee" in s.columns:
        commune = s["code_insee"].astype(str).map(commune_names).fillna(s["code_insee"].astype(str))
    else:
        commune = pd.Series([""] * len(s), index=s.index)
    nom = s["nom"].astype(str) if "nom" in s.columns else pd.Series([""] * len(s), index=s.index)
    sid = s["structure_id"].astype(str) if "structure_id" in s.columns else pd.Series([""] * len(s), index=s.index)
    s = gpd.GeoDataFrame(
        {
            "tip": [
                _tip_table(n or i, [("Type", _TYPE_NAMES[t]), ("Identifiant", i), ("Commune", c)])
                for n, i, t, c in zip(nom, sid, types, commune)
            ],
            "type": types.to_numpy(),
        },
        geometry=shapely.point_on_surface(s.geometry.to_numpy()),
        crs=4326,
        index=s.index,
    )
    out = []
    for key in ("CS", "EVS", "autre"):
        part = s[s["type"] == key]
        if not len(part):
            continue
        st = WEB_STRUCTURE_STYLES[key]
        layer = folium.GeoJson(
            to_geojson(part, properties=["tip"]),
            name=f"{st['label']} ({len(part)})",
            marker=folium.CircleMarker(
                radius=st["radius"],
                color="#ffffff",
                weight=1.5,
                fill=True,
                fill_color=st["color"],
                fill_opacity=1.0,
                opacity=1.0,
            ),
            on_each_feature=_on_each_feature_tip(),
        )
        out.append((key, layer, len(part)))
    return out


# --------------------------------------------------------------------------- output


def freeze_ids(m) -> Any:
    """Give every element of the page a deterministic id (``cv00000``...) in tree order.

    folium draws random ids; freezing them makes the HTML of the same map
    byte-for-byte identical from one run to the next. Scripts left in the
    page by an earlier rendering are renamed or dropped with their element.

    Examples
    --------
    >>> import folium
    >>> freeze_ids(folium.Map(tiles=None)).get_name()
    'map_cv00000'
    """
    from folium.elements import ElementAddToElement

    root = m.get_root()
    counter = itertools.count()
    renamed: dict[str, str] = {}
    dropped: set[str] = set()

    def visit(el) -> None:
        new: OrderedDict = OrderedDict()
        for key, child in list(el._children.items()):
            if isinstance(child, ElementAddToElement):
                # "X.addTo(map)" is rebuilt at each rendering with the current names
                dropped.add(child.get_name())
                continue
            old_name = child.get_name()
            child._id = f"cv{next(counter):05d}"
            renamed[old_name] = child.get_name()
            new[child.get_name() if key == old_name else key] = child
            visit(child)
        el._children = new

    root._id = "cvroot"
    visit(root)
    # outputs of an earlier rendering are keyed by element name
    for part in (getattr(root, "header", None), getattr(root, "html", None), getattr(root, "script", None)):
        if part is None:
            continue
        part._children = OrderedDict(
            (renamed.get(key, key), child) for key, child in part._children.items() if key not in dropped
        )
    return m


@contextlib.contextmanager
def _render_ids() -> Iterator[None]:
    """Deterministic ids for the elements that folium creates while rendering."""
    from branca.element import Element

    counter = itertools.count()
    original = Element.__dict__["_generate_id"]
    Element._generate_id = classmethod(lambda cls: f"cvr{next(counter):05d}")
    try:
        yield
    finally:
        Element._generate_id = original


def render_map(m) -> str:
    """The standalone HTML page of a map, reproducibly (same map, same bytes).

    Examples
    --------
    >>> import folium
    >>> m = folium.Map(tiles=None)
    >>> render_map(m) == render_map(m)
    True
    """
    freeze_ids(m)
    with _render_ids():
        return m.get_root().render()


def save_map(m, path: str | os.PathLike) -> Path:
    """Write a folium map as a standalone HTML file, atomically and reproducibly.

    Examples
    --------
    >>> import folium, tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = save_map(folium.Map(tiles=None), pathlib.Path(d) / "carte.html")
    ...     p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    True
    """
    path = Path(path)
    text = render_map(m)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def asset_urls(m=None) -> dict[str, str]:
    """Scripts and style sheets that a map's page loads from the network, name -> URL.

    They are folium's defaults for a Map (Leaflet, jQuery, Bootstrap, Leaflet
    awesome-markers, Font Awesome...): the maps of couverture add nothing
    else (their data, TopoJSON decoder, legend and full-screen button are
    inline) and only need Leaflet itself (``leaflet``, ``leaflet_css``). The
    atlas serves local copies of these files instead.

    Parameters
    ----------
    m : folium.Map, optional
        The map to inspect; default: a map as :func:`interactive` builds it.

    Examples
    --------
    >>> urls = asset_urls()
    >>> urls["leaflet"]
    'https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js'
    >>> all(u.startswith("https://") for u in urls.values())
    True
    """
    import folium

    if m is None:
        m = folium.Map(tiles=None)
        folium.LayerControl().add_to(m)
    out: dict[str, str] = {}

    def visit(el) -> None:
        for attr in ("default_js", "default_css"):
            for name, url in getattr(el, attr, []) or []:
                out.setdefault(name, url)
        for child in el._children.values():
            visit(child)

    visit(m.get_root() if m.get_root() is not None else m)
    return out
