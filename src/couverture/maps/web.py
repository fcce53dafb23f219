"""Light geometries for web pages: clean coverage, shared-border simplification, TopoJSON.

Commune layers as published do not tile perfectly (slivers of overlap, hair
gaps, vertices that differ on each side of a border). Before simplifying,
:func:`clean_coverage` repairs the coverage with GEOS' coverage cleaner
(overlaps given to the neighbour with the longest shared border, narrow gaps
filled, shared edges made identical); :func:`simplify_coverage` then simplifies
with :func:`shapely.coverage_simplify`, which simplifies each shared edge once,
so neighbours keep sharing their border: no gap, no overlap.

For the page, :func:`to_topojson` encodes the units as TopoJSON: each shared
border is stored once as an arc, coordinates are quantised to 1e-5 degree
(about a metre) and delta-encoded. The page decodes it with
:data:`TOPOJSON_DECODER_JS`, about twenty lines of inline JavaScript, so no
extra library has to be loaded or vendored.

Examples
--------
>>> import geopandas as gpd
>>> from shapely import box
>>> g = gpd.GeoDataFrame({"code_insee": ["A", "B"]},
...                      geometry=[box(0, 0, 1000, 1000), box(999, 0, 2000, 1000)], crs=2154)
>>> coverage_defects(g)["overlap_m2"]
1000.0
>>> coverage_defects(clean_coverage(g))["overlap_m2"]
0.0
"""

from __future__ import annotations

import json
import logging
from typing import Any, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._validate import require_crs
from ..errors import InputError

__all__ = [
    "clean_coverage",
    "simplify_coverage",
    "coverage_defects",
    "web_geometries",
    "to_topojson",
    "topojson_features",
    "to_geojson",
    "dumps_for_script",
    "TOPOJSON_DECODER_JS",
    "QUANTUM",
]

log = logging.getLogger(__name__)

#: Quantisation step of the web coordinates, in degrees (1e-5 ° ≈ 1.1 m of latitude).
QUANTUM = 1e-5


def _metric(gdf: gpd.GeoDataFrame, name: str = "gdf") -> None:
    require_crs(gdf, name)
    if gdf.crs.is_geographic:
        raise InputError(
            f"{name} : coordonnées géographiques ({gdf.crs.to_string()}) ; une projection métrique est attendue "
            "(par exemple gdf.to_crs(2154))"
        )


def coverage_defects(gdf: gpd.GeoDataFrame | Sequence[Any]) -> dict[str, float]:
    """Measure how far polygons are from a clean coverage.

    Returns
    -------
    dict
        ``overlap_m2``: area counted twice (sum of the areas minus the area of
        their union); ``gap_m2``: area of the holes of the union (gaps between
        neighbours, enclosed); ``invalid_edges_m``: length of the edges that do
        not match their neighbour's exactly (:func:`shapely.coverage_invalid_edges`).
        Areas are in the CRS units (m² in a metric CRS).

    Examples
    --------
    >>> from shapely import box
    >>> d = coverage_defects([box(0, 0, 10, 30), box(20, 0, 30, 30), box(10, 0, 20, 10), box(10, 11, 20, 30)])
    >>> d["gap_m2"], d["overlap_m2"]
    (10.0, 0.0)
    """
    geoms = np.asarray(gdf.geometry.to_numpy() if hasattr(gdf, "geometry") else gdf, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    union = shapely.union_all(geoms)
    holes = shapely.get_parts(union)
    n_int = shapely.get_num_interior_rings(holes)
    gap = 0.0
    for poly, n in zip(holes, n_int):
        if n:
            gap += float(shapely.area(shapely.polygons(shapely.get_interior_ring(poly, np.arange(n)))).sum())
    edges = shapely.coverage_invalid_edges(geoms)
    return {
        "overlap_m2": round(float(shapely.area(geoms).sum() - shapely.area(union)), 6),
        "gap_m2": round(gap, 6),
        "invalid_edges_m": round(float(shapely.length(edges[~shapely.is_empty(edges)]).sum()), 6),
    }


def clean_coverage(gdf: gpd.GeoDataFrame, *, gap_width: float = 300.0) -> gpd.GeoDataFrame:
    """Repair a polygon coverage: no overlap, narrow gaps filled, shared edges identical.

    Uses :func:`shapely.coverage_clean` (GEOS >= 3.14): an overlap goes to the
    neighbour with the longest shared border, a gap narrower than
    ``gap_width`` is merged into its neighbour with the longest border, and
    vertices closer than a small snapping distance are snapped together.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons in a metric CRS.
    gap_width : float, default 300
        Width (metres) under which a gap between units is filled.

    Returns
    -------
    GeoDataFrame
        A copy with repaired geometries.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(9, 0, 20, 10)], crs=2154)
    >>> round(float(g.area.sum()), 1), round(float(clean_coverage(g).area.sum()), 1)
    (210.0, 200.0)
    """
    _metric(gdf)
    if not hasattr(shapely, "coverage_clean"):  # pragma: no cover - shapely < 2.2
        raise InputError("le nettoyage des contours demande shapely >= 2.2 (GEOS >= 3.14)")
    out = gdf.copy()
    geoms = out.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    cleaned = geoms.copy()
    cleaned[~missing] = shapely.coverage_clean(geoms[~missing], gap_width=float(gap_width))
    out[out.geometry.name] = gpd.GeoSeries(cleaned, index=out.index, crs=out.crs)
    return out


def simplify_coverage(
    gdf: gpd.GeoDataFrame,
    tolerance: float,
    *,
    clean: bool = True,
    gap_width: float = 300.0,
) -> gpd.GeoDataFrame:
    """Simplify polygons that tile a territory, keeping shared borders shared.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons in a metric CRS.
    tolerance : float
        Simplification tolerance in metres (:func:`shapely.coverage_simplify`,
        Visvalingam-Whyatt on each shared edge).
    clean : bool, default True
        Repair the coverage first (:func:`clean_coverage`); simplifying an
        invalid coverage would open gaps and overlaps.
    gap_width : float, default 300
        See :func:`clean_coverage`.

    Returns
    -------
    GeoDataFrame
        A copy with simplified geometries.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Polygon
    >>> a = Polygon([(0, 0), (5, 0.1), (10, 0), (10, 10), (0, 10)])
    >>> b = Polygon([(0, 0), (0, -10), (10, -10), (10, 0), (5, 0.1)])
    >>> s = simplify_coverage(gpd.GeoDataFrame(geometry=[a, b], crs=2154), 1.0)
    >>> coverage_defects(s)["overlap_m2"], coverage_defects(s)["gap_m2"]
    (0.0, 0.0)
    """
    out = clean_coverage(gdf, gap_width=gap_width) if clean else gdf.copy()
    _metric(out)
    geoms = out.geometry.to_numpy()
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    simplified = geoms.copy()
    if tolerance and tolerance > 0:
        simplified[ok] = shapely.coverage_simplify(geoms[ok], float(tolerance))
    out[out.geometry.name] = gpd.GeoSeries(simplified, index=out.index, crs=out.crs)
    return out


def auto_tolerance(gdf: gpd.GeoDataFrame) -> float:
    """Default simplification tolerance: 1/2500 of the larger side of the extent (metres).

    About 50 m for a département, 400 m for metropolitan France: below what
    the screen shows at the zoom where the whole territory fits.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> auto_tolerance(gpd.GeoDataFrame(geometry=[box(0, 0, 100_000, 50_000)], crs=2154))
    40.0
    """
    xmin, ymin, xmax, ymax = gdf.total_bounds
    return round(float(max(xmax - xmin, ymax - ymin)) / 2500.0, 1)


def web_geometries(
    gdf: gpd.GeoDataFrame,
    *,
    columns: Sequence[str] | None = None,
    tolerance: float | str | None = "auto",
    gap_width: float = 300.0,
) -> gpd.GeoDataFrame:
    """Units ready for a web page: cleaned, simplified, WGS84, only the needed columns.

    Parameters
    ----------
    gdf : GeoDataFrame
        Units tiling a territory, in a metric CRS.
    columns : sequence of str, optional
        Columns to keep (default: none but the geometry).
    tolerance : float, "auto" or None
        Simplification tolerance in metres (``"auto"``: :func:`auto_tolerance`;
        None or 0: clean only).
    gap_width : float
        See :func:`clean_coverage`.

    Returns
    -------
    GeoDataFrame
        In EPSG:4326, on the input's index.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"nom": ["A"], "x": [1]}, geometry=[box(800000, 6300000, 801000, 6301000)], crs=2154)
    >>> w = web_geometries(g, columns=["nom"])
    >>> list(w.columns), w.crs.to_epsg()
    (['nom', 'geometry'], 4326)
    """
    _metric(gdf)
    tol = auto_tolerance(gdf) if tolerance == "auto" else float(tolerance or 0)
    cols = list(columns or [])
    missing = [c for c in cols if c not in gdf.columns]
    if missing:
        raise InputError(f"colonne(s) absente(s) de la couche : {', '.join(missing)}")
    base = gpd.GeoDataFrame(gdf[cols].copy(), geometry=gdf.geometry.to_numpy(), crs=gdf.crs, index=gdf.index)
    out = simplify_coverage(base, tol, gap_width=gap_width)
    return out.to_crs(4326)


# --------------------------------------------------------------------------- TopoJSON


def _ring_table(geoms: np.ndarray, quantum: float):
    """Quantised ring vertices (closing vertex dropped, repeated vertices removed)."""
    parts, part_feat = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    parts, part_feat = parts[poly], part_feat[poly]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    # exterior rings come first for each polygon
    first = np.r_[True, ring_part[1:] != ring_part[:-1]]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    if coords.size == 0:
        return None
    x0, y0 = float(coords[:, 0].min()), float(coords[:, 1].min())
    q = np.rint((coords - (x0, y0)) / quantum).astype(np.int64)
    # drop the closing vertex of each ring, then consecutive duplicates (quantisation)
    last = np.r_[ring_of[1:] != ring_of[:-1], True]
    keep = ~last
    same_prev = np.r_[False, (ring_of[1:] == ring_of[:-1]) & (q[1:] == q[:-1]).all(axis=1)]
    keep &= ~same_prev
    q, ring_of = q[keep], ring_of[keep]
    # a ring whose last vertex equals its first after quantisation
    starts = np.r_[0, np.flatnonzero(ring_of[1:] != ring_of[:-1]) + 1]
    ends = np.r_[starts[1:], len(ring_of)] - 1
    wrap = (q[starts] == q[ends]).all(axis=1) & (ends > starts)
    if wrap.any():
        drop = np.zeros(len(q), dtype=bool)
        drop[ends[wrap]] = True
        q, ring_of = q[~drop], ring_of[~drop]
    return parts, part_feat, ring_part, first, q, ring_of, (x0, y0)


def to_topojson(
    gdf: gpd.GeoDataFrame,
    *,
    name: str = "unites",
    properties: Sequence[str] | None = None,
    quantum: float = QUANTUM,
) -> dict[str, Any]:
    """Encode polygons as TopoJSON: shared borders stored once, quantised, delta-encoded.

    Parameters
    ----------
    gdf : GeoDataFrame
        Polygons in EPSG:4326 (see :func:`web_geometries`); neighbours must
        share identical vertices along their borders for arcs to be shared.
    name : str, default "unites"
        Name of the object in the topology.
    properties : sequence of str, optional
        Columns written as each feature's properties (default: all but the geometry).
    quantum : float, default 1e-5
        Quantisation step in degrees.

    Returns
    -------
    dict
        A TopoJSON ``Topology`` (serialise with :func:`dumps_for_script` or ``json.dumps``).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import box
    >>> g = gpd.GeoDataFrame({"n": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=4326)
    >>> topo = to_topojson(g)
    >>> len(topo["arcs"])   # shared border stored once: 3 arcs instead of 2 x 4 segments
    3
    >>> [len(r) for r in topo["objects"]["unites"]["geometries"][0]["arcs"]]
    [2]
    >>> feats = topojson_features(topo)
    >>> [round(float(shapely.area(shapely.geometry.shape(f["geometry"]))), 6) for f in feats]
    [1.0, 1.0]
    """
    require_crs(gdf, "gdf")
    if not gdf.crs.is_geographic:
        raise InputError("TopoJSON : coordonnées WGS84 attendues (gdf.to_crs(4326))")
    cols = [c for c in gdf.columns if c != gdf.geometry.name] if properties is None else list(properties)
    geoms = gdf.geometry.to_numpy()
    n = len(geoms)
    table = _ring_table(geoms, quantum)
    arcs: list[np.ndarray] = []
    feature_polys: list[list[list[list[int]]]] = [[] for _ in range(n)]
    translate = (0.0, 0.0)
    if table is not None:
        parts, part_feat, ring_part, is_ext, q, ring_of, translate = table
        key = (q[:, 0] << 32) | q[:, 1]
        starts = np.r_[0, np.flatnonzero(ring_of[1:] != ring_of[:-1]) + 1]
        lengths = np.diff(np.r_[starts, len(q)])
        ring_ids = ring_of[starts]
        # neighbours of each vertex along its ring (cyclic)
        pos = np.arange(len(q)) - np.repeat(starts, lengths)
        base = np.repeat(starts, lengths)
        size = np.repeat(lengths, lengths)
        prev = base + (pos - 1) % size
        nxt = base + (pos + 1) % size
        lo = np.minimum(key[prev], key[nxt])
        hi = np.maximum(key[prev], key[nxt])
        # a junction is a point reached from different directions by different rings
        triples = np.unique(np.stack([key, lo, hi], axis=1), axis=0)
        pts, counts = np.unique(triples[:, 0], return_counts=True)
        junction = np.isin(key, pts[counts > 1])

        index: dict[bytes, int] = {}

        def register(arc: np.ndarray) -> int:
            k = arc.tobytes()
            found = index.get(k)
            if found is not None:
                return found
            found = index.get(arc[::-1].tobytes())
            if found is not None:
                return ~found
            index[k] = len(arcs)
            arcs.append(arc)
            return len(arcs) - 1

        ring_arcs: dict[int, list[int]] = {}
        for s, length, rid in zip(starts.tolist(), lengths.tolist(), ring_ids.tolist()):
            if length < 3:
                continue
            pts_r = q[s : s + length]
            j = np.flatnonzero(junction[s : s + length])
            if j.size == 0:
                k_r = key[s : s + length]
                rot = int(np.argmin(k_r))
                seq = np.roll(pts_r, -rot, axis=0)
                ring_arcs[rid] = [register(np.vstack([seq, seq[:1]]))]
                continue
            seq = np.roll(pts_r, -int(j[0]), axis=0)
            cuts = (j - j[0]).tolist() + [length]
            closed = np.vstack([seq, seq[:1]])
            ring_arcs[rid] = [register(closed[a : b + 1]) for a, b in zip(cuts[:-1], cuts[1:])]
        # assemble polygons: exterior ring first, then holes
        last_ext_ok = None
        for r in range(len(ring_part)):
            p = int(ring_part[r])
            ids = ring_arcs.get(r)
            feat = int(part_feat[p])
            if is_ext[r]:
                if ids is None:
                    current = None
                else:
                    current = [ids]
                    feature_polys[feat].append(current)
                last_ext_ok = current
            elif ids is not None and last_ext_ok is not None:
                last_ext_ok.append(ids)

    encoded = []
    for arc in arcs:
        d = np.vstack([arc[:1], np.diff(arc, axis=0)])
        encoded.append(d.tolist())
    records = gdf[cols].to_dict("records") if cols else [{} for _ in range(n)]
    geometries = []
    for polys, props in zip(feature_polys, records):
        props = {k: _jsonable(v) for k, v in props.items()}
        if not polys:
            geometries.append({"type": None, "properties": props})
        elif len(polys) == 1:
            geometries.append({"type": "Polygon", "arcs": polys[0], "properties": props})
        else:
            geometries.append({"type": "MultiPolygon", "arcs": polys, "properties": props})
    return {
        "type": "Topology",
        "transform": {"scale": [quantum, quantum], "translate": [round(translate[0], 9), round(translate[1], 9)]},
        "objects": {name: {"type": "GeometryCollection", "geometries": geometries}},
        "arcs": encoded,
    }


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def topojson_features(topo: dict[str, Any], name: str | None = None) -> list[dict[str, Any]]:
    """Decode a TopoJSON object back to GeoJSON features (the Python twin of the page's decoder).

    Examples
    --------
    >>> topo = {"type": "Topology", "transform": {"scale": [1, 1], "translate": [0, 0]},
    ...         "arcs": [[[0, 0], [1, 0], [0, 1], [-1, 0], [0, -1]]],
    ...         "objects": {"o": {"type": "GeometryCollection",
    ...                           "geometries": [{"type": "Polygon", "arcs": [[0]], "properties": {}}]}}}
    >>> topojson_features(topo)[0]["geometry"]["coordinates"]
    [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]
    """
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        a = np.cumsum(np.asarray(arc, dtype=float), axis=0)
        arcs.append(np.column_stack([a[:, 0] * sx + tx, a[:, 1] * sy + ty]))

    def ring(ids):
        pts = []
        for i, arc_id in enumerate(ids):
            a = arcs[~arc_id][::-1] if arc_id < 0 else arcs[arc_id]
            pts.append(a if i == 0 else a[1:])
        return np.vstack(pts).tolist()

    name = name or next(iter(topo["objects"]))
    feats = []
    for g in topo["objects"][name]["geometries"]:
        if g.get("type") == "Polygon":
            geom = {"type": "Polygon", "coordinates": [ring(r) for r in g["arcs"]]}
        elif g.get("type") == "MultiPolygon":
            geom = {"type": "MultiPolygon", "coordinates": [[ring(r) for r in p] for p in g["arcs"]]}
        else:
            geom = None
        feats.append({"type": "Feature", "properties": g.get("properties", {}), "geometry": geom})
    return feats


#: JavaScript decoding a TopoJSON object into a GeoJSON FeatureCollection:
#: ``couvertureTopo(topology, name)``. Inlined in the page (no external library).
TOPOJSON_DECODER_JS = """
function couvertureTopo(topo, name) {
  var sx = topo.transform.scale[0], sy = topo.transform.scale[1];
  var tx = topo.transform.translate[0], ty = topo.transform.translate[1];
  var arcs = topo.arcs.map(function (arc) {
    var x = 0, y = 0, out = new Array(arc.length);
    for (var i = 0; i < arc.length; i++) {
      x += arc[i][0]; y += arc[i][1];
      out[i] = [x * sx + tx, y * sy + ty];
    }
    return out;
  });
  function ring(ids) {
    var pts = [];
    for (var i = 0; i < ids.length; i++) {
      var a = ids[i] < 0 ? arcs[~ids[i]].slice().reverse() : arcs[ids[i]];
      for (var j = i ? 1 : 0; j < a.length; j++) pts.push(a[j]);
    }
    return pts;
  }
  function polygon(rings) { return rings.map(ring); }
  return {type: "FeatureCollection", features: topo.objects[name].geometries.map(function (g) {
    var geom = null;
    if (g.type === "Polygon") geom = {type: "Polygon", coordinates: polygon(g.arcs)};
    else if (g.type === "MultiPolygon") geom = {type: "MultiPolygon", coordinates: g.arcs.map(polygon)};
    return {type: "Feature", properties: g.properties || {}, geometry: geom};
  })};
}
""".strip()


def to_geojson(gdf: gpd.GeoDataFrame, *, properties: Sequence[str] | None = None, decimals: int = 5) -> dict[str, Any]:
    """GeoJSON FeatureCollection with coordinates rounded to ``decimals`` (5: about a metre).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> g = gpd.GeoDataFrame({"n": [1]}, geometry=[Point(5.1234567, 43.7654321)], crs=4326)
    >>> to_geojson(g)["features"][0]["geometry"]["coordinates"]
    [5.12346, 43.76543]
    """
    require_crs(gdf, "gdf")
    if not gdf.crs.is_geographic:
        gdf = gdf.to_crs(4326)
    cols = [c for c in gdf.columns if c != gdf.geometry.name] if properties is None else list(properties)
    geoms = shapely.transform(gdf.geometry.to_numpy(), lambda c: np.round(c, decimals))
    records = gdf[cols].to_dict("records") if cols else [{} for _ in range(len(gdf))]
    feats = []
    for geom, props in zip(geoms, records):
        g = None if geom is None or shapely.is_empty(geom) else json.loads(shapely.to_geojson(geom))
        feats.append({"type": "Feature", "properties": {k: _jsonable(v) for k, v in props.items()}, "geometry": g})
    return {"type": "FeatureCollection", "features": feats}


def dumps_for_script(obj: Any) -> str:
    """Compact JSON safe to embed in a ``<script>`` element (``<``, ``>``, ``&`` escaped).

    Examples
    --------
    >>> dumps_for_script({"nom": "</script><b>"})
    '{"nom":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
