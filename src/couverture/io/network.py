"""Routable road networks from OpenStreetMap, IGN BD TOPO or any line layer.

:func:`road_network` reads one of three sources and returns a
:class:`RoadNetwork`: node coordinates in a metric CRS, a directed
``scipy.sparse`` CSR graph whose weights are **minutes**, the geometry of the
edges (for drive-time areas) and its provenance (source name, date, speeds).

Sources
-------
- **OpenStreetMap** ``.osm.pbf`` (Geofabrik regional extracts), read with
  pyosmium. Ways with a car-accessible ``highway`` class (:data:`OSM_SPEEDS`),
  ``access``/``motor_vehicle``/``motorcar`` not ``no``/``private``; one-way
  rules: ``oneway=yes|true|1`` (digitised direction), ``-1|reverse``
  (opposite), implied on ``junction=roundabout|circular`` and
  ``highway=motorway``, cancelled by ``oneway=no``; speed from ``maxspeed``
  (km/h, ``mph``, ``FR:urban`` 50, ``FR:rural`` 80, ``FR:motorway`` 130,
  ``FR:zone30`` 30, ``walk`` 6) else the default of the class;
  ``route=ferry`` ways (unless ``motorcar``/``motor_vehicle=no``) with their
  ``duration`` (``HH:MM``, ``HH:MM:SS``, minutes, ISO ``PT..M``) spread over the
  way's length, else :data:`FERRY_SPEED_KMH`. OSM ways are split at every node,
  so intersections are exact.
- **IGN BD TOPO** layer ``troncon_de_route`` (GPKG or SHP, 3D LineStrings):
  ``vitesse_moyenne_vl`` (km/h; 0 or empty means not drivable, except
  ``nature = "Bac ou liaison maritime"`` at :data:`FERRY_SPEED_KMH`),
  ``sens_de_circulation`` (« Double sens », « Sens direct » = digitised
  direction, « Sens inverse », « Sans objet » = not drivable),
  ``acces_vehicule_leger`` (« Libre », « A péage » kept; « Physiquement
  impossible », « Restreint aux ayants droit » dropped), ``etat_de_l_objet``
  other than « En service » dropped. Shapefile names (``VIT_MOY_VL``,
  ``SENS``, ``ACCES_VL``, ``ETAT``) are accepted.
- **Any line layer** with a speed (km/h) or a time (minutes) column: pass
  ``speed_col=`` or ``time_col=``; optional ``oneway_col`` (values as in BD
  TOPO or OSM).

Nodes of line layers are the line endpoints, merged when they round to the
same 0.1 m. The network is clipped to the territory plus ``buffer_m``. The
result is cached on disk (``cache_dir``), keyed by the SHA-256 of the source
file and the options: a second call reads the cache (``.npz``, no pickle).

Speeds are free-flow speeds: no congestion, no turn penalties, no traffic
lights. State this wherever the minutes are shown (:meth:`RoadNetwork.unit_text`).

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString
>>> lines = gpd.GeoDataFrame({"vitesse": [60.0, 30.0]},
...     geometry=[LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (1000, 500)])], crs=2154)
>>> net = road_network(lines, speed_col="vitesse", cache_dir=None)
>>> net.n_nodes, net.n_edges, round(float(net.graph[0, 1]), 6)
(3, 4, 1.0)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from .._progress import progress
from .._resources import user_cache_dir
from ..errors import InputError, Probleme

logger = logging.getLogger(__name__)

__all__ = [
    "RoadNetwork",
    "road_network",
    "network_from_edges",
    "OSM_SPEEDS",
    "FERRY_SPEED_KMH",
    "CACHE_VERSION",
]

#: Default speed (km/h) of each car-accessible OSM ``highway`` class when no
#: usable ``maxspeed`` is tagged. French legal limits, lowered on small roads
#: (free flow, no congestion): motorway 130 → 115, trunk 110 → 90, rural
#: two-lane roads 80 → 70/60/50, towns 50 → 40/30.
OSM_SPEEDS: dict[str, float] = {
    "motorway": 115.0,
    "motorway_link": 60.0,
    "trunk": 90.0,
    "trunk_link": 50.0,
    "primary": 70.0,
    "primary_link": 40.0,
    "secondary": 60.0,
    "secondary_link": 40.0,
    "tertiary": 50.0,
    "tertiary_link": 30.0,
    "unclassified": 40.0,
    "residential": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "road": 30.0,
}

#: Speed (km/h) of a ferry without ``duration`` (OSM) or speed (BD TOPO);
#: boarding waits are not counted.
FERRY_SPEED_KMH = 10.0

#: Bump when the cache format or the reading rules change.
CACHE_VERSION = 1

_NO_ACCESS = {"no", "private", "agricultural", "forestry", "delivery", "emergency"}
_FR_SPEEDS = {
    "fr:urban": 50.0,
    "fr:rural": 80.0,
    "fr:motorway": 130.0,
    "fr:zone30": 30.0,
    "fr:walk": 6.0,
    "walk": 6.0,
}
_BDTOPO = {  # BD TOPO GPKG name -> shapefile name
    "vitesse_moyenne_vl": "VIT_MOY_VL",
    "sens_de_circulation": "SENS",
    "acces_vehicule_leger": "ACCES_VL",
    "etat_de_l_objet": "ETAT",
    "nature": "NATURE",
}
_BD_DROP_ACCESS = {"physiquement impossible", "restreint aux ayants droit"}


@dataclass(eq=False)
class RoadNetwork:
    """A directed road network weighted in minutes.

    Attributes
    ----------
    x, y : ndarray of float64
        Node coordinates in ``crs`` (metres).
    graph : scipy.sparse.csr_matrix
        ``graph[u, v]`` = minutes from node u to node v (one entry per directed
        edge; the fastest when several lines join the same nodes).
    src, dst : ndarray of int
        Node of each directed edge (same order as ``minutes``).
    minutes, length_m : ndarray of float64
        Time and length of each directed edge.
    line : ndarray of int
        Row in ``lines`` of each directed edge (the edge's geometry).
    lines : ndarray of shapely LineStrings
        Geometry of each source segment (2D, in ``crs``).
    line_class : ndarray of str
        Class of each segment: OSM ``highway`` value or ``"ferry"``; BD TOPO
        ``nature`` (``"ferry"`` for « Bac ou liaison maritime »); ``""`` else.
    crs : str
        Metric CRS of the coordinates (``"EPSG:2154"``...).
    source : str
        File name of the source (never a path), or ``"couche"``.
    kind : str
        ``"OpenStreetMap"``, ``"IGN BD TOPO"`` or ``"couche de lignes"``.
    date : str
        Date of the data (``YYYY-MM-DD``): OSM replication timestamp, BD TOPO
        most recent ``date_modification``, else the file's modification date.
    speeds : dict
        Speeds used (km/h by class), for the méthodologie.
    options : dict
        Clipping buffer and the other reading options.
    """

    x: np.ndarray
    y: np.ndarray
    graph: sp.csr_matrix
    src: np.ndarray
    dst: np.ndarray
    minutes: np.ndarray
    length_m: np.ndarray
    line: np.ndarray
    lines: np.ndarray
    crs: str
    line_class: np.ndarray = field(default_factory=lambda: np.zeros(0, "U1"))
    source: str = "couche"
    kind: str = "couche de lignes"
    date: str = ""
    speeds: dict[str, float] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    from_cache: bool = False

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.x)

    @property
    def n_edges(self) -> int:
        """Number of directed edges in the graph."""
        return int(self.graph.nnz)

    @property
    def xy(self) -> np.ndarray:
        """Node coordinates as an (n, 2) array."""
        return np.column_stack([self.x, self.y])

    def reverse(self) -> sp.csr_matrix:
        """The graph with every edge reversed (times *to* a node), computed once."""
        cached = self.__dict__.get("_reverse")
        if cached is None:
            cached = self.__dict__["_reverse"] = self.graph.T.tocsr()
        return cached

    def routable(self) -> tuple[np.ndarray, Any]:
        """Nodes with at least one edge and a k-d tree of them, computed once."""
        cached = self.__dict__.get("_routable")
        if cached is None:
            from scipy.spatial import cKDTree

            deg = np.diff(self.graph.indptr) + np.bincount(self.graph.indices, minlength=self.n_nodes)
            nodes = np.flatnonzero(deg > 0)
            cached = self.__dict__["_routable"] = (nodes, cKDTree(self.xy[nodes]))
        return cached

    def unit_text(self) -> str:
        """French unit of its costs, for outputs.

        Examples
        --------
        >>> from shapely.geometry import LineString
        >>> g = gpd.GeoDataFrame({"v": [30.0]}, geometry=[LineString([(0, 0), (1, 0)])], crs=2154)
        >>> g.attrs.update(source="routes.gpkg", date="2025-06-15")
        >>> road_network(g, speed_col="v", cache_dir=None).unit_text()
        'minutes en voiture (réseau : couche de lignes « routes.gpkg », 2025-06-15)'
        """
        date = f", {self.date}" if self.date else ""
        return f"minutes en voiture (réseau : {self.kind} « {self.source} »{date})"

    def methodologie(self) -> str:
        """French paragraph stating the speeds and the limits of the times."""
        speeds = ", ".join(
            f"{k} {v:g} km/h" if isinstance(v, (int, float)) else f"{k} : {v}" for k, v in self.speeds.items()
        )
        return (
            f"Temps de trajet en voiture calculés sur le réseau {self.kind} « {self.source} »"
            f"{' (' + self.date + ')' if self.date else ''} : plus court chemin en minutes "
            f"(algorithme de Dijkstra), vitesses retenues : {speeds or 'celles de la couche'}. "
            "Vitesses à écoulement libre : ni congestion, ni feux, ni pénalités de virage ; "
            "les temps réels aux heures de pointe sont plus longs. Le trajet entre un point et "
            "le réseau est compté en ligne droite à la vitesse de rabattement indiquée."
        )

    def __repr__(self) -> str:
        return (
            f"RoadNetwork({self.kind} « {self.source} », {self.n_nodes} nœuds, "
            f"{self.n_edges} arcs, {self.crs}{', ' + self.date if self.date else ''})"
        )


# ----------------------------------------------------------------------------- building


def _dedupe_min(src, dst, w, n):
    """CSR of the directed edges, keeping the smallest weight of duplicate pairs."""
    order = np.lexsort((w, dst, src))
    s, d, ww = src[order], dst[order], w[order]
    first = np.r_[True, (s[1:] != s[:-1]) | (d[1:] != d[:-1])] if len(s) else np.zeros(0, bool)
    return sp.csr_matrix((ww[first], (s[first], d[first])), shape=(n, n)), order[first]


def network_from_edges(
    x: np.ndarray,
    y: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    minutes_fwd: np.ndarray,
    minutes_bwd: np.ndarray,
    lines: np.ndarray | None = None,
    *,
    line_class: np.ndarray | None = None,
    crs: str = "EPSG:2154",
    **provenance: Any,
) -> RoadNetwork:
    """Assemble a :class:`RoadNetwork` from segments between nodes.

    Parameters
    ----------
    x, y : ndarray
        Node coordinates.
    u, v : ndarray of int
        End nodes of each segment (digitised direction u → v).
    minutes_fwd, minutes_bwd : ndarray
        Minutes u → v and v → u; ``nan`` where that direction is forbidden.
    lines : ndarray of LineString, optional
        Geometry of each segment; straight u–v lines when omitted.
    crs : str
        Metric CRS of ``x``, ``y``.
    **provenance
        ``source``, ``kind``, ``date``, ``speeds``, ``options``.

    Returns
    -------
    RoadNetwork
        Isolated nodes (no edge left) are dropped and the rest renumbered.

    Examples
    --------
    >>> net = network_from_edges(np.array([0., 1.]), np.array([0., 0.]), np.array([0]),
    ...                          np.array([1]), np.array([2.0]), np.array([np.nan]))
    >>> net.n_edges, float(net.graph[0, 1])
    (1, 2.0)
    """
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    fwd, bwd = np.asarray(minutes_fwd, float), np.asarray(minutes_bwd, float)
    if lines is None:
        lines = (
            shapely.linestrings(
                np.stack(
                    [np.column_stack([x[u], y[u]]), np.column_stack([x[v], y[v]])],
                    axis=1,
                )
            )
            if len(u)
            else np.empty(0, object)
        )
    length = shapely.length(lines).astype(float) if len(u) else np.zeros(0)
    ok_f, ok_b = np.isfinite(fwd), np.isfinite(bwd)
    seg = np.r_[np.flatnonzero(ok_f), np.flatnonzero(ok_b)]
    src = np.r_[u[ok_f], v[ok_b]]
    dst = np.r_[v[ok_f], u[ok_b]]
    w = np.r_[fwd[ok_f], bwd[ok_b]]
    loop = src == dst
    seg, src, dst, w = seg[~loop], src[~loop], dst[~loop], w[~loop]
    used = np.unique(np.r_[src, dst])
    remap = np.full(len(x), -1, np.int64)
    remap[used] = np.arange(len(used))
    src, dst = remap[src], remap[dst]
    keep_seg = np.unique(seg)
    seg_remap = np.full(len(u), -1, np.int64)
    seg_remap[keep_seg] = np.arange(len(keep_seg))
    graph, kept = _dedupe_min(src, dst, w, len(used))
    classes = np.full(len(u), "", "U1") if line_class is None else np.asarray(line_class).astype(str)
    return RoadNetwork(
        x=np.asarray(x, float)[used],
        y=np.asarray(y, float)[used],
        graph=graph,
        src=src[kept],
        dst=dst[kept],
        minutes=w[kept],
        length_m=length[seg[kept]],
        line=seg_remap[seg[kept]],
        lines=np.asarray(lines, dtype=object)[keep_seg],
        line_class=classes[keep_seg],
        crs=str(crs),
        **provenance,
    )


def _clip_mask(lines: np.ndarray, area) -> np.ndarray:
    if area is None:
        return np.ones(len(lines), bool)
    shapely.prepare(area)
    return shapely.intersects(area, lines)


def _territory_area(territory, crs, buffer_m: float):
    """The territory's outline (buffered) in ``crs``, or None."""
    if territory is None:
        return None
    layer = getattr(territory, "communes", territory)
    if isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)):
        if layer.crs is None:
            raise InputError(Probleme("territoire sans système de coordonnées", fichier="territory"))
        geom = shapely.union_all(layer.to_crs(crs).geometry.to_numpy())
    elif isinstance(layer, shapely.Geometry):
        geom = layer
    else:
        raise InputError(
            Probleme(
                "territory : un Territory, une couche de polygones ou une géométrie est attendu, "
                f"reçu {type(territory).__name__}",
                fichier="territory",
            )
        )
    return shapely.buffer(geom, buffer_m) if buffer_m else geom


def _target_crs(territory, layer_crs, crs) -> str:
    if crs is not None:
        return str(crs)
    layer = getattr(territory, "communes", territory)
    if isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)) and layer.crs is not None:
        return layer.crs.to_string()
    if layer_crs is not None and layer_crs.is_projected:
        return layer_crs.to_string()
    return "EPSG:2154"


# ----------------------------------------------------------------------------- line layers


def _from_lines(
    lines: np.ndarray,
    minutes_fwd: np.ndarray,
    minutes_bwd: np.ndarray,
    crs: str,
    line_class: np.ndarray | None = None,
    **provenance: Any,
) -> RoadNetwork:
    """Network whose nodes are the line endpoints (merged at 0.1 m)."""
    lines = shapely.force_2d(lines)
    ends = shapely.get_coordinates(np.r_[shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    keys = np.round(ends, 1)
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n = len(lines)
    return network_from_edges(
        uniq[:, 0],
        uniq[:, 1],
        inverse[:n],
        inverse[n:],
        minutes_fwd,
        minutes_bwd,
        lines,
        line_class=line_class,
        crs=crs,
        **provenance,
    )


def _direction(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(forward allowed, backward allowed) from BD TOPO or OSM one-way values."""
    s = values.astype("string").str.strip().str.lower().fillna("")
    direct = s.isin(["sens direct", "direct", "yes", "true", "1", "oui", "ft", "f"])
    inverse = s.isin(["sens inverse", "inverse", "-1", "reverse", "tf", "t"])
    closed = s.isin(["sans objet", "n"])
    fwd = (~inverse & ~closed).to_numpy()
    bwd = (~direct & ~closed).to_numpy()
    return fwd, bwd


def _col(gdf: pd.DataFrame, name: str) -> str | None:
    """Column ``name`` of a BD TOPO layer, GPKG or shapefile spelling, any case."""
    lower = {c.lower(): c for c in gdf.columns}
    for cand in (name, _BDTOPO.get(name, name)):
        if cand.lower() in lower:
            return lower[cand.lower()]
    return None


def _bdtopo_minutes(gdf: gpd.GeoDataFrame, length: np.ndarray, fname: str):
    speed = pd.to_numeric(gdf[_col(gdf, "vitesse_moyenne_vl")], errors="coerce").to_numpy(float)
    nat_col = _col(gdf, "nature")
    nature = (
        gdf[nat_col].astype("string").str.strip().str.lower().fillna("") if nat_col else pd.Series("", index=gdf.index)
    )
    ferry = nature.str.startswith("bac").to_numpy()
    speed = np.where(ferry & ~(speed > 0), FERRY_SPEED_KMH, speed)
    ok = speed > 0
    acc_col = _col(gdf, "acces_vehicule_leger")
    if acc_col:
        ok &= ~gdf[acc_col].astype("string").str.strip().str.lower().isin(_BD_DROP_ACCESS).to_numpy()
    etat_col = _col(gdf, "etat_de_l_objet")
    if etat_col:
        etat = gdf[etat_col].astype("string").str.strip().str.lower()
        ok &= (etat.isna() | (etat == "en service")).to_numpy()
    sens_col = _col(gdf, "sens_de_circulation")
    fwd, bwd = _direction(gdf[sens_col]) if sens_col else (np.ones(len(gdf), bool),) * 2
    minutes = np.where(ok, length / 1000.0 / np.where(ok, speed, 1.0) * 60.0, np.nan)
    logger.info("%s : %d tronçon(s) non circulables en voiture écartés", fname, int((~ok).sum()))
    classes = np.where(ferry, "ferry", nature.to_numpy(dtype=str))
    return np.where(fwd, minutes, np.nan), np.where(bwd, minutes, np.nan), classes


def _read_layer(path, layer) -> gpd.GeoDataFrame:
    import pyogrio

    if layer is None and str(path).lower().endswith(".gpkg"):
        names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
        layer = next(
            (n for n in names if n.lower() == "troncon_de_route"),
            names[0] if names else None,
        )
    try:
        return gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:  # unreadable file
        raise InputError(Probleme(f"couche de lignes illisible : {exc}", fichier=Path(path).name)) from exc


def _lines_network(
    gdf: gpd.GeoDataFrame,
    *,
    fname: str,
    territory,
    buffer_m: float,
    crs,
    speed_col: str | None,
    time_col: str | None,
    oneway_col: str | None,
    date: str,
) -> RoadNetwork:
    if gdf.crs is None:
        raise InputError(Probleme("couche de lignes sans système de coordonnées", fichier=fname))
    target = _target_crs(territory, gdf.crs, crs)
    gdf = gdf.to_crs(target)
    geoms = gdf.geometry.to_numpy()
    geoms = shapely.line_merge(geoms) if (shapely.get_type_id(geoms) == 5).any() else geoms
    is_line = shapely.get_type_id(geoms) == 1
    area = _territory_area(territory, target, buffer_m)
    keep = is_line & _clip_mask(geoms, area)
    if (~is_line).any():
        logger.info(
            "%s : %d géométrie(s) non linéaires ignorée(s)",
            fname,
            int((~is_line).sum()),
        )
    gdf, geoms = gdf.loc[keep], shapely.force_2d(geoms[keep])
    length = shapely.length(geoms)
    bdtopo = speed_col is None and time_col is None and _col(gdf, "vitesse_moyenne_vl") is not None
    if bdtopo:
        fwd, bwd, classes = _bdtopo_minutes(gdf, length, fname)
        kind, speeds = (
            "IGN BD TOPO",
            {"vitesse_moyenne_vl": "de la couche", "bac": FERRY_SPEED_KMH},
        )
        dates = gdf[_col(gdf, "date_modification")] if _col(gdf, "date_modification") else None
        if dates is not None and pd.to_datetime(dates, errors="coerce").notna().any():
            date = str(pd.to_datetime(dates, errors="coerce").max().date())
    else:
        fwd, bwd, kind, speeds = _generic_minutes(gdf, length, fname, speed_col, time_col, oneway_col)
        classes = None
    provenance = dict(
        source=fname,
        kind=kind,
        date=date,
        speeds=speeds,
        options={"buffer_m": buffer_m},
    )
    return _from_lines(geoms, fwd, bwd, target, line_class=classes, **provenance)


def _generic_minutes(gdf, length, fname, speed_col, time_col, oneway_col):
    col = time_col or speed_col
    if col is None or col not in gdf.columns:
        raise InputError(
            Probleme(
                "colonne de vitesse (km/h) ou de temps (minutes) absente : indiquez speed_col= ou "
                "time_col= (ou fournissez le tronçon BD TOPO avec vitesse_moyenne_vl)",
                fichier=fname,
                colonne=col,
            )
        )
    values = pd.to_numeric(gdf[col], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(values) | (values < 0) | ((values == 0) & (time_col is None))
    if bad.any():
        logger.info("%s : %d ligne(s) sans %s utilisable écartée(s)", fname, int(bad.sum()), col)
    with np.errstate(divide="ignore", invalid="ignore"):
        minutes = values if time_col else length / 1000.0 / values * 60.0
    minutes = np.where(bad, np.nan, minutes)
    fwd, bwd = _direction(gdf[oneway_col]) if oneway_col else (np.ones(len(gdf), bool),) * 2
    speeds = {col: "de la couche"}
    return (
        np.where(fwd, minutes, np.nan),
        np.where(bwd, minutes, np.nan),
        "couche de lignes",
        speeds,
    )


# ----------------------------------------------------------------------------- OpenStreetMap


def parse_maxspeed(value: str | None) -> float:
    """km/h of an OSM ``maxspeed`` value (``nan`` when unusable).

    Examples
    --------
    >>> parse_maxspeed("50"), parse_maxspeed("30 mph"), parse_maxspeed("FR:rural")
    (50.0, 48.28032, 80.0)
    >>> import math; math.isnan(parse_maxspeed("signals"))
    True
    """
    if not value:
        return float("nan")
    v = value.strip().lower().split(";")[0].strip()
    if v in _FR_SPEEDS:
        return _FR_SPEEDS[v]
    m = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph)?", v)
    if not m:
        return float("nan")
    speed = float(m.group(1).replace(",", "."))
    return speed * 1.609344 if m.group(2) == "mph" else speed


def parse_duration(value: str | None) -> float:
    """Minutes of an OSM ``duration`` (``HH:MM``, ``HH:MM:SS``, ``MM``, ``PT1H5M``).

    Examples
    --------
    >>> parse_duration("00:15"), parse_duration("1:02:30"), parse_duration("20"), parse_duration("PT1H5M")
    (15.0, 62.5, 20.0, 65.0)
    """
    if not value:
        return float("nan")
    v = value.strip().upper()
    m = re.fullmatch(r"P?T?(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?", v)
    if v.startswith("P") and m and any(m.groups()):
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        return h * 60 + mi + s / 60
    parts = v.split(":")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        return float("nan")
    if len(nums) == 1:
        return nums[0]
    if len(nums) == 2:
        return nums[0] * 60 + nums[1]
    if len(nums) == 3:
        return nums[0] * 60 + nums[1] + nums[2] / 60
    return float("nan")


def _osm_way_rule(tags, speeds: Mapping[str, float]):
    """(kind, km/h or nan, ferry minutes or nan, direction) of a way, or None if not for cars.

    direction: 0 both ways, 1 digitised direction only, -1 opposite only.
    """
    hw = tags.get("highway")
    motor = tags.get("motorcar") or tags.get("motor_vehicle")
    if tags.get("route") == "ferry":
        if motor in _NO_ACCESS or tags.get("motor_vehicle") == "no":
            return None
        return (
            "ferry",
            speeds.get("ferry", FERRY_SPEED_KMH),
            parse_duration(tags.get("duration")),
            0,
        )
    if hw not in speeds or tags.get("area") == "yes":
        return None
    if motor in _NO_ACCESS or (motor is None and tags.get("access") in _NO_ACCESS):
        return None
    speed = parse_maxspeed(tags.get("maxspeed"))
    if not speed > 0:
        speed = speeds[hw]
    ow = (tags.get("oneway") or "").lower()
    if ow in ("yes", "true", "1"):
        d = 1
    elif ow in ("-1", "reverse"):
        d = -1
    elif ow == "no":
        d = 0
    elif tags.get("junction") in ("roundabout", "circular") or hw == "motorway":
        d = 1
    else:
        d = 0
    return hw, speed, float("nan"), d


def _read_pbf(path: Path, speeds: Mapping[str, float]):
    """Ways for cars of an .osm.pbf: node refs, lon/lat, and per-way rules."""
    import osmium

    fp = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("highway", "route"))
    )
    refs: list[int] = []
    lon: list[float] = []
    lat: list[float] = []
    counts: list[int] = []
    kinds: list[str] = []
    kmh: list[float] = []
    ferry_min: list[float] = []
    direction: list[int] = []
    newest = 0
    bar = progress(desc=f"Lecture de {path.name}", unit=" voies")
    with bar:
        for obj in fp:
            if not isinstance(obj, osmium.osm.Way):
                continue
            rule = _osm_way_rule(obj.tags, speeds)
            if rule is None:
                continue
            nodes = [(n.ref, n.lon, n.lat) for n in obj.nodes if n.location.valid()]
            if len(nodes) < 2:
                continue
            r, x, y = zip(*nodes)
            refs.extend(r)
            lon.extend(x)
            lat.extend(y)
            counts.append(len(nodes))
            kinds.append(rule[0])
            kmh.append(rule[1])
            ferry_min.append(rule[2])
            direction.append(rule[3])
            newest = max(newest, int(obj.timestamp.timestamp()))
            bar.update(1)
    return newest, (
        np.asarray(refs, np.int64),
        np.asarray(lon),
        np.asarray(lat),
        np.asarray(counts, np.int64),
        np.asarray(kinds, object),
        np.asarray(kmh, float),
        np.asarray(ferry_min, float),
        np.asarray(direction, np.int8),
    )


def _pbf_date(path: Path, newest: int) -> str:
    import osmium

    try:
        header = osmium.io.Reader(str(path), osmium.osm.osm_entity_bits.NOTHING).header()
        stamp = header.get("osmosis_replication_timestamp")
    except Exception:  # pragma: no cover - unreadable header
        stamp = None
    if stamp:
        return str(stamp)[:10]
    if newest > 0:  # the most recent edit of a way read
        return datetime.fromtimestamp(newest, tz=UTC).strftime("%Y-%m-%d")
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).strftime("%Y-%m-%d")


def _osm_network(path: Path, *, territory, buffer_m: float, crs, speeds) -> RoadNetwork:
    from pyproj import Transformer

    table = {**OSM_SPEEDS, **(speeds or {})}
    newest, (refs, lon, lat, counts, kinds, kmh, ferry_min, direction) = _read_pbf(path, table)
    target = _target_crs(territory, None, crs)
    _, first, inverse = np.unique(refs, return_index=True, return_inverse=True)
    x, y = Transformer.from_crs("EPSG:4326", target, always_xy=True).transform(lon[first], lat[first])
    x, y = np.asarray(x, float), np.asarray(y, float)
    node = inverse.ravel()
    way = np.repeat(np.arange(len(counts)), counts)
    inner = np.r_[way[1:] == way[:-1], False] if len(way) else np.zeros(0, bool)
    u, v, w = node[:-1][inner[:-1]], node[1:][inner[:-1]], way[:-1][inner[:-1]]
    seglen = np.hypot(x[v] - x[u], y[v] - y[u])
    minutes = seglen / 1000.0 / kmh[w] * 60.0
    way_len = np.bincount(w, weights=seglen, minlength=len(counts))
    timed = np.isfinite(ferry_min[w]) & (way_len[w] > 0)
    minutes = np.where(
        timed,
        ferry_min[w] * seglen / np.where(way_len[w] > 0, way_len[w], 1.0),
        minutes,
    )
    d = direction[w]
    fwd, bwd = np.where(d >= 0, minutes, np.nan), np.where(d <= 0, minutes, np.nan)
    area = _territory_area(territory, target, buffer_m)
    if area is not None:
        shapely.prepare(area)
        inside = shapely.contains_xy(area, x, y)
        keep = inside[u] | inside[v]
        u, v, w, fwd, bwd = u[keep], v[keep], w[keep], fwd[keep], bwd[keep]
    classes = kinds[w].astype(str) if len(w) else np.zeros(0, "U1")
    net = network_from_edges(
        x,
        y,
        u,
        v,
        fwd,
        bwd,
        line_class=classes,
        crs=target,
        source=path.name,
        kind="OpenStreetMap",
        date=_pbf_date(path, newest),
        options={"buffer_m": buffer_m, "lecteur": "pyosmium"},
    )
    net.speeds = {str(k): table.get(str(k), FERRY_SPEED_KMH) for k in np.unique(net.line_class)}
    net.speeds["maxspeed"] = "si renseignée"  # type: ignore[assignment]
    return net


# ----------------------------------------------------------------------------- cache


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _territory_key(territory) -> str:
    layer = getattr(territory, "communes", territory)
    if territory is None:
        return ""
    if isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)):
        return hashlib.sha256(b"".join(shapely.to_wkb(layer.geometry.to_numpy()))).hexdigest()
    return hashlib.sha256(shapely.to_wkb(layer)).hexdigest()


def default_cache_dir() -> Path:
    """``$COUVERTURE_CACHE`` or ``~/.cache/couverture``, sub-folder ``reseaux``."""
    own = os.environ.get("COUVERTURE_CACHE")
    return Path(own) / "reseaux" if own else user_cache_dir("reseaux")


def _save(net: RoadNetwork, path: Path) -> None:
    _, coords, offsets = (
        shapely.to_ragged_array(net.lines) if len(net.lines) else (1, np.zeros((0, 2)), (np.zeros(1, np.int64),))
    )
    meta = dict(
        crs=net.crs,
        source=net.source,
        kind=net.kind,
        date=net.date,
        speeds=net.speeds,
        options=net.options,
        version=CACHE_VERSION,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz")
    os.close(fd)
    np.savez(
        tmp,
        x=net.x,
        y=net.y,
        indptr=net.graph.indptr,
        indices=net.graph.indices,
        data=net.graph.data,
        src=net.src,
        dst=net.dst,
        minutes=net.minutes,
        length_m=net.length_m,
        line=net.line,
        line_class=net.line_class,
        coords=coords,
        offsets=offsets[0],
        meta=np.frombuffer(json.dumps(meta).encode(), np.uint8),
    )
    os.replace(tmp, path)


def _load(path: Path) -> RoadNetwork | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode())
            if meta.get("version") != CACHE_VERSION:
                return None
            n = len(z["x"])
            graph = sp.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=(n, n))
            lines = (
                shapely.from_ragged_array(shapely.GeometryType.LINESTRING, z["coords"], (z["offsets"],))
                if len(z["offsets"]) > 1
                else np.empty(0, object)
            )
            return RoadNetwork(
                x=z["x"],
                y=z["y"],
                graph=graph,
                src=z["src"],
                dst=z["dst"],
                minutes=z["minutes"],
                length_m=z["length_m"],
                line=z["line"],
                lines=lines,
                line_class=z["line_class"],
                crs=meta["crs"],
                source=meta["source"],
                kind=meta["kind"],
                date=meta["date"],
                speeds=meta["speeds"],
                options=meta["options"],
                from_cache=True,
            )
    except (OSError, ValueError, KeyError) as exc:
        logger.warning("cache de réseau illisible (%s), reconstruit", exc)
        return None


# ----------------------------------------------------------------------------- entry point


def road_network(
    path: str | os.PathLike | gpd.GeoDataFrame,
    *,
    territory=None,
    buffer_m: float = 10_000.0,
    speeds: Mapping[str, float] | None = None,
    layer: str | None = None,
    speed_col: str | None = None,
    time_col: str | None = None,
    oneway_col: str | None = None,
    crs: str | None = None,
    cache_dir: str | os.PathLike | None | bool = True,
) -> RoadNetwork:
    """Read a road network and return it weighted in minutes.

    Parameters
    ----------
    path : path or GeoDataFrame
        ``.osm.pbf`` (OpenStreetMap), BD TOPO ``troncon_de_route`` (``.gpkg``,
        ``.shp``), any line file readable by pyogrio, or a GeoDataFrame of lines.
    territory : Territory, GeoDataFrame, GeoSeries or shapely geometry, optional
        Keep only what lies within ``buffer_m`` of it; its CRS becomes the
        network's.
    buffer_m : float
        Margin around the territory (metres, default 10 km), so that routes
        leaving it briefly are kept.
    speeds : dict, optional
        km/h by OSM ``highway`` class (and ``"ferry"``) replacing
        :data:`OSM_SPEEDS`.
    layer : str, optional
        Layer of a GeoPackage (default ``troncon_de_route`` when present).
    speed_col, time_col : str, optional
        For a generic line layer: speed in km/h or time in minutes per line.
    oneway_col : str, optional
        For a generic line layer: one-way column (BD TOPO or OSM values).
    crs : str, optional
        Metric CRS of the result (default: the territory's, else the layer's
        if projected, else EPSG:2154).
    cache_dir : path, True or None
        Where the built network is cached (True: :func:`default_cache_dir`;
        None/False: no cache).

    Returns
    -------
    RoadNetwork

    Raises
    ------
    InputError
        Missing file, unknown format, no usable speed column, no drivable line.

    Examples
    --------
    >>> from shapely.geometry import LineString
    >>> g = gpd.GeoDataFrame({"minutes": [3.0]}, geometry=[LineString([(0, 0), (10, 0)])], crs=2154)
    >>> road_network(g, time_col="minutes", cache_dir=None).graph.toarray().tolist()
    [[0.0, 3.0], [3.0, 0.0]]
    """
    if isinstance(path, gpd.GeoDataFrame):
        return _lines_network(
            path,
            fname=str(path.attrs.get("source", "couche")),
            territory=territory,
            buffer_m=buffer_m,
            crs=crs,
            speed_col=speed_col,
            time_col=time_col,
            oneway_col=oneway_col,
            date=str(path.attrs.get("date", "")),
        )
    p = Path(path)
    if not p.exists():
        raise InputError(Probleme("fichier de réseau routier introuvable", fichier=p.name))
    options = dict(
        buffer_m=buffer_m,
        speeds=dict(speeds or {}),
        layer=layer,
        speed_col=speed_col,
        time_col=time_col,
        oneway_col=oneway_col,
        crs=crs,
        territory=_territory_key(territory),
        version=CACHE_VERSION,
    )
    cache_file = None
    if cache_dir:
        root = default_cache_dir() if cache_dir is True else Path(cache_dir)
        key = hashlib.sha256((_file_hash(p) + json.dumps(options, sort_keys=True)).encode()).hexdigest()
        cache_file = root / f"{key[:32]}.npz"
        if cache_file.exists():
            cached = _load(cache_file)
            if cached is not None:
                logger.info("réseau lu dans le cache %s", cache_file.name)
                return cached
    net = _build(
        p,
        territory=territory,
        buffer_m=buffer_m,
        speeds=speeds,
        layer=layer,
        crs=crs,
        speed_col=speed_col,
        time_col=time_col,
        oneway_col=oneway_col,
    )
    if net.n_edges == 0:
        raise InputError(Probleme("aucune voie circulable en voiture dans la zone", fichier=p.name))
    if cache_file is not None:
        _save(net, cache_file)
    return net


def _build(p: Path, *, territory, buffer_m, speeds, layer, crs, speed_col, time_col, oneway_col):
    name = p.name.lower()
    if name.endswith(".pbf"):
        return _osm_network(p, territory=territory, buffer_m=buffer_m, crs=crs, speeds=speeds)
    with progress(total=2, desc=f"Lecture de {p.name}") as bar:
        gdf = _read_layer(p, layer)
        bar.update(1)
        date = datetime.fromtimestamp(p.stat().st_mtime, tz=UTC).strftime("%Y-%m-%d")
        net = _lines_network(
            gdf,
            fname=p.name,
            territory=territory,
            buffer_m=buffer_m,
            crs=crs,
            speed_col=speed_col,
            time_col=time_col,
            oneway_col=oneway_col,
            date=date,
        )
        bar.update(1)
    return net
