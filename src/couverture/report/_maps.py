"""Vector maps of the PDF report, as SVG text (no file, no date, same bytes every time).

The indicator and territory maps are :func:`couverture.maps.static.choropleth`
figures written to SVG by :func:`couverture.maps.static.save_figure`
(reproducible: no date, salted ids, text as paths); the locator map is a
tiny SVG drawn here from two dissolved outlines.

Examples
--------
>>> from shapely import box
>>> svg = locator_svg(box(0, 0, 10, 10), box(0, 0, 5, 5))
>>> svg.startswith("<svg") and svg.count("<path") == 2
True
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

#: Geometries are simplified to this tolerance (metres) before drawing: invisible at A4 scale.
PRINT_TOLERANCE_M = 40.0


def _ring_path(coords: np.ndarray, x0: float, y1: float, s: float) -> str:
    xy = np.column_stack([(coords[:, 0] - x0) * s, (y1 - coords[:, 1]) * s])
    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    return f"M{pts}Z"


def _path_data(geom, x0: float, y1: float, s: float) -> str:
    parts = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon":
            continue
        parts.append(_ring_path(np.asarray(poly.exterior.coords), x0, y1, s))
        parts += [_ring_path(np.asarray(r.coords), x0, y1, s) for r in poly.interiors]
    return " ".join(parts)


def locator_svg(whole, part, *, width: float = 240.0) -> str:
    """A locator map: ``whole`` (the département) in grey, ``part`` (the territory) in dark blue."""
    x0, y0, x1, y1 = shapely.bounds(whole).tolist()
    s = width / max(x1 - x0, 1e-9)
    height = (y1 - y0) * s
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}">'
        f'<path d="{_path_data(whole, x0, y1, s)}" fill="#e4e7eb" stroke="#7b8794" stroke-width="0.8" fill-rule="evenodd"/>'
        f'<path d="{_path_data(part, x0, y1, s)}" fill="#2166ac" stroke="#102a43" stroke-width="0.8" fill-rule="evenodd"/>'
        "</svg>"
    )


def data_uri(svg: str | bytes) -> str:
    """``data:`` URI of an SVG document, for an ``<img>`` of the report."""
    raw = svg.encode("utf-8") if isinstance(svg, str) else svg
    return "data:image/svg+xml;base64," + base64.b64encode(raw).decode("ascii")


def print_frame(units) -> Any:
    """The units with simplified geometries (for drawing only)."""
    frame = units.copy()
    frame["geometry"] = shapely.simplify(units.geometry.to_numpy(), PRINT_TOLERANCE_M, preserve_topology=True)
    return frame


def classified(ind, values: pd.Series) -> tuple[pd.Series, dict[str, Any], str | None]:
    """Values to classify, classification keywords and legend unit of an indicator."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype(int), {"scheme": "manuel", "bins": [0.0]}, None
    if str(ind.schema).lower() in (
        "manuel",
        "manual",
    ) and pd.api.types.is_integer_dtype(values):
        return values.astype(int), {"scheme": "manuel", "bins": [0.0, 1.0, 2.0]}, None
    v = pd.to_numeric(values, errors="coerce").astype(float)
    scheme = "quantiles" if str(ind.schema).lower() in ("manuel", "manual") else ind.schema
    return v, {"scheme": scheme, "k": int(ind.k)}, ind.unite


def choropleth_svg(frame, column: str, *, figsize: str | tuple[float, float], **kwargs) -> tuple[str, Any]:
    """SVG text of a :func:`~couverture.maps.static.choropleth` and its classification."""
    import matplotlib.pyplot as plt

    from ..maps.static import choropleth, save_figure

    fig = choropleth(frame, column, figsize=figsize, **kwargs)
    cls = fig.couverture_classification
    with tempfile.TemporaryDirectory(prefix="couverture-rapport-") as tmp:
        path = save_figure(fig, Path(tmp) / "carte.svg")
        svg = path.read_bytes().decode("utf-8")
    plt.close(fig)
    return svg, cls
