"""Travel times by road: cost tables, nearest-structure time, drive-time areas.

:func:`travel_times` turns a :class:`~couverture.io.network.RoadNetwork` into
the origin–destination table that every analysis takes through ``cost=``
(:func:`~couverture.analysis.proximity.nearest_distance`,
:func:`~couverture.analysis.proximity.population_within`,
:func:`~couverture.analysis.fca.two_step_fca`, scenarios, zones blanches de
proximité).

How a time is counted
---------------------
Each point is snapped to the nearest routable node (``scipy.spatial.cKDTree``);
the straight line between the point and that node (the *rabattement*) is
counted at ``snap_speed_kmh`` (default 15 km/h, a slow local road). A point
farther than ``max_snap_m`` from any node is flagged (column ``eloigne``) and a
:class:`~couverture.errors.CouvertureWarning` says how many. The network part
is :func:`scipy.sparse.csgraph.dijkstra`, run from the smaller side (from the
destinations on the reversed graph when they are fewer), with ``limit=`` when
``max_minutes`` is given, in blocks of sources so that memory stays bounded;
the nearest-only case is one multi-source run (``min_only=True``) on a graph
with one virtual node per structure carrying its rabattement.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import LineString, Point
>>> from couverture.io.network import road_network
>>> roads = gpd.GeoDataFrame({"v": [60.0]}, geometry=[LineString([(0, 0), (2000, 0)])], crs=2154)
>>> net = road_network(roads, speed_col="v", cache_dir=None)
>>> units = gpd.GeoDataFrame({"code_insee": ["13001"]}, geometry=[Point(0, 0)], crs=2154)
>>> sites = gpd.GeoDataFrame({"structure_id": ["CS1"]}, geometry=[Point(2000, 0)], crs=2154)
>>> travel_times(net, units, sites)[["origin", "destination", "cost"]].to_dict("records")
[{'origin': '13001', 'destination': 'CS1', 'cost': 2.0}]
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from ..errors import CouvertureWarning, InputError, Probleme
from ..io.network import RoadNetwork

logger = logging.getLogger(__name__)

__all__ = [
    "travel_times",
    "nearest_time",
    "drive_time_areas",
    "snap",
    "Snap",
    "SNAP_SPEED_KMH",
    "MAX_SNAP_M",
    "BAND_PRESETS",
]

#: Speed of the straight leg between a point and the network (km/h).
SNAP_SPEED_KMH = 15.0
#: A point farther than this from the network is flagged (metres).
MAX_SNAP_M = 1000.0
#: Cells of the (sources × nodes) distance block computed at once.
_BLOCK_CELLS = 20_000_000

#: Example step weights by time band for the enhanced 2SFCA (``decay=`` of
#: :func:`~couverture.analysis.fca.two_step_fca`, minutes). These are
#: **example presets**, not official weights: ``luo_qi_2009`` are the weights
#: 1 / 0.68 / 0.22 of the 0–10, 10–20, 20–30 minute zones in Luo & Qi (2009),
#: *Health & Place* 15(4), the enhanced 2SFCA paper; ``lineaire_10_20_30`` is a
#: plain linear step-down. Neither is the DREES APL weighting.
BAND_PRESETS: dict[str, list[tuple[float, float]]] = {
    "luo_qi_2009": [(10.0, 1.0), (20.0, 0.68), (30.0, 0.22)],
    "lineaire_10_20_30": [(10.0, 1.0), (20.0, 2 / 3), (30.0, 1 / 3)],
}


@dataclass
class Snap:
    """Where each point joins the network.

    Attributes
    ----------
    node : ndarray of int
        Nearest routable node.
    distance_m : ndarray of float
        Straight-line distance from the point to that node.
    minutes : ndarray of float
        That distance at the snap speed.
    far : ndarray of bool
        Distance above the threshold.
    """

    node: np.ndarray
    distance_m: np.ndarray
    minutes: np.ndarray
    far: np.ndarray


def _points(layer, crs: str, name: str) -> np.ndarray:
    if isinstance(layer, np.ndarray):
        return np.asarray(layer, float).reshape(-1, 2)
    if not isinstance(layer, (gpd.GeoDataFrame, gpd.GeoSeries)):
        raise InputError(
            Probleme(
                f"une couche de points (GeoDataFrame) est attendue, reçu {type(layer).__name__}",
                fichier=name,
            )
        )
    if layer.crs is None:
        raise InputError(Probleme("couche sans système de coordonnées", fichier=name))
    if isinstance(layer, gpd.GeoDataFrame) and "point" in layer.columns:
        geoms = gpd.GeoSeries(layer["point"], crs=layer.crs)
        geoms = geoms.where(geoms.notna(), layer.geometry)
    else:
        geoms = layer.geometry
    geoms = geoms.to_crs(crs).to_numpy()
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if empty.any():
        raise InputError(
            Probleme(
                f"{int(empty.sum())} ligne(s) sans géométrie",
                fichier=name,
                colonne="geometry",
            )
        )
    not_point = shapely.get_type_id(geoms) != 0
    if not_point.any():
        geoms = geoms.copy()
        geoms[not_point] = shapely.point_on_surface(geoms[not_point])
    return shapely.get_coordinates(geoms)


def snap(
    network: RoadNetwork,
    xy: np.ndarray,
    *,
    snap_speed_kmh: float = SNAP_SPEED_KMH,
    max_snap_m: float = MAX_SNAP_M,
) -> Snap:
    """Snap points (n, 2) to the nearest routable node of ``network``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> from couverture.io.network import road_network
    >>> g = gpd.GeoDataFrame({"v": [30.0]}, geometry=[LineString([(0, 0), (100, 0)])], crs=2154)
    >>> s = snap(road_network(g, speed_col="v", cache_dir=None), np.array([[100.0, 250.0]]))
    >>> s.node.tolist(), s.distance_m.tolist(), s.minutes.tolist()
    ([1], [250.0], [1.0])
    """
    nodes, tree = network.routable()
    if len(nodes) == 0:
        raise InputError(Probleme("le réseau n'a aucune voie circulable", fichier="network"))
    d, k = tree.query(np.asarray(xy, float).reshape(-1, 2), k=1)
    d = np.asarray(d, float)
    return Snap(
        nodes[np.asarray(k, np.intp)],
        d,
        d / 1000.0 / snap_speed_kmh * 60.0,
        d > max_snap_m,
    )


def _warn_far(s: Snap, name: str, max_snap_m: float) -> None:
    if s.far.any():
        warnings.warn(
            f"{name} : {int(s.far.sum())} point(s) à plus de {max_snap_m:g} m du réseau routier "
            "(colonne « eloigne ») ; leur temps compte ce trajet en ligne droite",
            CouvertureWarning,
            stacklevel=3,
        )


def _ids(layer, col: str) -> np.ndarray:
    if isinstance(layer, pd.DataFrame) and col in layer.columns:
        return layer[col].astype(str).to_numpy(dtype=object)
    if isinstance(layer, (pd.DataFrame, pd.Series)):
        return layer.index.to_numpy()
    return np.arange(len(layer))


def _network_block(graph: sp.csr_matrix, sources: np.ndarray, targets: np.ndarray, limit: float):
    """Dense (len(sources), len(targets)) minutes, by blocks of sources (inf: unreached)."""
    out = np.empty((len(sources), len(targets)))
    step = max(1, _BLOCK_CELLS // max(graph.shape[0], 1))
    for start in range(0, len(sources), step):  # blocks of sources, not one call per origin
        block = sources[start : start + step]
        dist = dijkstra(graph, directed=True, indices=block, limit=limit)
        out[start : start + len(block)] = dist[:, targets]
    return out


def travel_times(
    network: RoadNetwork,
    origins,
    destinations,
    *,
    max_minutes: float | None = None,
    snap_speed_kmh: float = SNAP_SPEED_KMH,
    max_snap_m: float = MAX_SNAP_M,
) -> pd.DataFrame:
    """Road travel time (minutes) from every origin to every destination.

    Parameters
    ----------
    network : RoadNetwork
        From :func:`~couverture.io.network.road_network`.
    origins, destinations : GeoDataFrame
        Units (their ``point`` column if any, else the geometry, a
        representative point for polygons) and structures.
    max_minutes : float, optional
        Keep only pairs within this time (Dijkstra stops there). Without it,
        every reachable pair is returned.
    snap_speed_kmh, max_snap_m : float
        Speed of the leg between a point and the network; flag threshold.

    Returns
    -------
    DataFrame
        ``origin`` (``code_insee`` else the index), ``destination``
        (``structure_id`` else the index), ``cost`` (minutes, rabattements
        included), ``rabattement_origine_m``, ``rabattement_destination_m``,
        ``eloigne`` (either point beyond ``max_snap_m``). Unreachable pairs
        are absent. ``attrs["unite"]`` is the network's unit text.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> from couverture.io.network import road_network
    >>> roads = gpd.GeoDataFrame({"v": [60.0, 30.0]}, geometry=[
    ...     LineString([(0, 0), (1000, 0)]), LineString([(1000, 0), (2000, 0)])], crs=2154)
    >>> net = road_network(roads, speed_col="v", cache_dir=None)
    >>> pts = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(2000, 0)], crs=2154)
    >>> travel_times(net, pts, pts.iloc[[1]])["cost"].tolist()
    [3.0, 0.0]
    """
    o_xy = _points(origins, network.crs, "origins")
    d_xy = _points(destinations, network.crs, "destinations")
    so = snap(network, o_xy, snap_speed_kmh=snap_speed_kmh, max_snap_m=max_snap_m)
    sd = snap(network, d_xy, snap_speed_kmh=snap_speed_kmh, max_snap_m=max_snap_m)
    _warn_far(so, "origines", max_snap_m)
    _warn_far(sd, "destinations", max_snap_m)
    limit = np.inf if max_minutes is None else float(max_minutes)
    o_nodes, o_inv = np.unique(so.node, return_inverse=True)
    d_nodes, d_inv = np.unique(sd.node, return_inverse=True)
    if len(d_nodes) < len(o_nodes):  # from the destinations, on the reversed graph
        net_min = _network_block(network.reverse(), d_nodes, o_nodes, limit).T
    else:
        net_min = _network_block(network.graph, o_nodes, d_nodes, limit)
    total = net_min[o_inv.ravel()][:, d_inv.ravel()] + so.minutes[:, None] + sd.minutes[None, :]
    ok = np.isfinite(total) & (total <= limit)
    i, j = np.nonzero(ok)
    out = pd.DataFrame(
        {
            "origin": _ids(origins, "code_insee")[i],
            "destination": _ids(destinations, "structure_id")[j],
            "cost": total[i, j],
            "rabattement_origine_m": so.distance_m[i],
            "rabattement_destination_m": sd.distance_m[j],
            "eloigne": so.far[i] | sd.far[j],
        }
    )
    out.attrs["unite"] = network.unit_text()
    return out


def _with_virtual_sources(graph: sp.csr_matrix, nodes: np.ndarray, minutes: np.ndarray):
    """``graph`` plus one virtual node per source, linked to its node at its rabattement."""
    n, k = graph.shape[0], len(nodes)
    indptr = np.r_[graph.indptr, graph.indptr[-1] + np.arange(1, k + 1)]
    indices = np.r_[graph.indices, nodes].astype(graph.indices.dtype)
    data = np.r_[graph.data, minutes]
    g = sp.csr_matrix((data, indices, indptr), shape=(n + k, n + k))  # k rows appended, no copy of the rest's order
    return g, n + np.arange(k)


def nearest_time(
    network: RoadNetwork,
    points,
    structures,
    *,
    max_minutes: float | None = None,
    snap_speed_kmh: float = SNAP_SPEED_KMH,
    max_snap_m: float = MAX_SNAP_M,
) -> pd.DataFrame:
    """Time from each point to its nearest structure by road (one Dijkstra run).

    Returns
    -------
    DataFrame on ``points``' index
        ``minutes`` (``nan`` when none is reachable within ``max_minutes``),
        ``structure`` (``structure_id`` or index of the nearest, ``None``
        when none), ``rabattement_m``, ``eloigne``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> from couverture.io.network import road_network
    >>> roads = gpd.GeoDataFrame({"v": [60.0]}, geometry=[LineString([(0, 0), (3000, 0)])], crs=2154)
    >>> net = road_network(roads, speed_col="v", cache_dir=None)
    >>> s = gpd.GeoDataFrame({"structure_id": ["A", "B"]}, geometry=[Point(0, 0), Point(3000, 0)], crs=2154)
    >>> p = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(3000, 0)], crs=2154)
    >>> nearest_time(net, p, s)[["minutes", "structure"]].to_dict("list")
    {'minutes': [0.0, 0.0], 'structure': ['A', 'B']}
    """
    p_xy = _points(points, network.crs, "points")
    s_xy = _points(structures, network.crs, "structures")
    sp_ = snap(network, p_xy, snap_speed_kmh=snap_speed_kmh, max_snap_m=max_snap_m)
    ss = snap(network, s_xy, snap_speed_kmh=snap_speed_kmh, max_snap_m=max_snap_m)
    _warn_far(sp_, "points", max_snap_m)
    _warn_far(ss, "structures", max_snap_m)
    limit = np.inf if max_minutes is None else float(max_minutes)
    g, virtual = _with_virtual_sources(network.reverse(), ss.node, ss.minutes)
    dist, _, source = dijkstra(
        g,
        directed=True,
        indices=virtual,
        limit=limit,
        min_only=True,
        return_predecessors=True,
    )
    minutes = dist[sp_.node] + sp_.minutes
    reached = np.isfinite(minutes) & (minutes <= limit)
    which = source[sp_.node] - network.n_nodes
    ids = _ids(structures, "structure_id")
    struct = np.full(len(minutes), None, dtype=object)
    struct[reached] = ids[which[reached]]
    index = points.index if isinstance(points, (pd.DataFrame, pd.Series)) else None
    out = pd.DataFrame(
        {
            "minutes": np.where(reached, minutes, np.nan),
            "structure": struct,
            "rabattement_m": sp_.distance_m,
            "eloigne": sp_.far,
        },
        index=index,
    )
    out.attrs["unite"] = network.unit_text()
    return out


def drive_time_areas(
    network: RoadNetwork,
    structures,
    bands=(10, 20, 30),
    *,
    buffer_m: float = 300.0,
    by: str = "structure",
    snap_speed_kmh: float = SNAP_SPEED_KMH,
    max_snap_m: float = MAX_SNAP_M,
) -> gpd.GeoDataFrame:
    """Areas within each time band *to* the structures, from the reached edges.

    An edge belongs to a band when both its ends are reached within the band
    (rabattement of the structure included); of an edge reached only at its
    downstream end, the part that can still make it in time is kept (a
    straight piece for curved lines). The reached edges and nodes are
    buffered by ``buffer_m`` and dissolved.

    Parameters
    ----------
    bands : sequence of float
        Upper bounds in minutes (increasing).
    by : {"structure", "band"}
        One polygon per (structure, band), or one per band (any structure).

    Returns
    -------
    GeoDataFrame
        ``structure_id`` (with ``by="structure"``), ``minutes`` (the band),
        ``geometry``, in the network's CRS; the widest band first so that
        drawing order keeps the inner bands visible.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString, Point
    >>> from couverture.io.network import road_network
    >>> roads = gpd.GeoDataFrame({"v": [60.0]}, geometry=[LineString([(0, 0), (20000, 0)])], crs=2154)
    >>> net = road_network(roads, speed_col="v", cache_dir=None)
    >>> s = gpd.GeoDataFrame({"structure_id": ["A"]}, geometry=[Point(0, 0)], crs=2154)
    >>> a = drive_time_areas(net, s, [10, 20], by="band")
    >>> a["minutes"].tolist(), [round(b) for b in a.bounds["maxx"]]
    ([20, 10], [20300, 10300])
    """
    bands = sorted(float(b) for b in bands)
    if not bands or bands[0] <= 0:
        raise InputError(Probleme("bandes de temps strictement positives attendues", fichier="bands"))
    s_xy = _points(structures, network.crs, "structures")
    ss = snap(network, s_xy, snap_speed_kmh=snap_speed_kmh, max_snap_m=max_snap_m)
    rev = network.reverse()
    if by == "band":
        g, virtual = _with_virtual_sources(rev, ss.node, ss.minutes)
        dist = dijkstra(g, directed=True, indices=virtual, limit=bands[-1], min_only=True)
        dist = dist[None, : network.n_nodes]
        labels = [None]
    elif by == "structure":
        dist = (
            np.vstack(
                [
                    _network_block(rev, ss.node[k : k + 64], np.arange(network.n_nodes), bands[-1])
                    for k in range(0, len(ss.node), 64)  # blocks of 64 structures
                ]
            )
            + ss.minutes[:, None]
            if len(ss.node)
            else np.zeros((0, network.n_nodes))
        )
        labels = list(_ids(structures, "structure_id"))
    else:
        raise InputError(Probleme(f"by : « structure » ou « band » attendu, reçu {by!r}", fichier="by"))
    return _areas_from_dist(network, dist, labels, bands, buffer_m)


def _edge_parts(network, d: np.ndarray, band: float, lines, is_fwd) -> np.ndarray:
    """Reached edges (whole) and the reached end of partly reached edges (straight piece)."""
    u, v, m = network.src, network.dst, network.minutes
    whole = (d[u] <= band) & (d[v] <= band)
    part = ~whole & (d[v] < band)
    frac = np.clip((band - d[v[part]]) / np.where(m[part] > 0, m[part], 1.0), 0.0, 1.0)
    pos = np.where(is_fwd[part], 1.0 - frac, frac)
    cut = shapely.line_interpolate_point(lines[part], pos, normalized=True)
    ends = network.xy[v[part]]
    pieces = shapely.linestrings(np.stack([shapely.get_coordinates(cut), ends], axis=1)) if part.any() else []
    return np.r_[lines[whole], pieces]


def _areas_from_dist(network, dist, labels, bands, buffer_m) -> gpd.GeoDataFrame:
    """Polygons of the edges/nodes reached within each band, per row of ``dist``."""
    lines = network.lines[network.line]
    start = shapely.get_coordinates(shapely.get_point(lines, 0)) if len(lines) else np.zeros((0, 2))
    is_fwd = np.hypot(*(start - network.xy[network.src]).T) <= np.hypot(*(start - network.xy[network.dst]).T)
    rows, geoms = [], []
    for band in reversed(bands):  # a few bands × the structures: one union each
        for r, label in enumerate(labels):
            reached = dist[r] <= band
            parts = np.r_[
                _edge_parts(network, dist[r], band, lines, is_fwd),
                shapely.points(network.xy[reached]),
            ]
            if len(parts) == 0:
                continue
            geom = shapely.union_all(shapely.buffer(parts, buffer_m, quad_segs=4))
            rows.append({"structure_id": label, "minutes": band})
            geoms.append(geom)
    out = gpd.GeoDataFrame(rows or None, geometry=geoms, crs=network.crs)
    if labels == [None] and len(out):
        out = out.drop(columns="structure_id")
    if len(out):
        out["minutes"] = out["minutes"].map(lambda b: int(b) if float(b).is_integer() else b)
    out.attrs["unite"] = network.unit_text()
    return out


# ----------------------------------------------------------------------------- diagnostic wiring


@dataclass
class RouteAccess:
    """Access by road for :func:`~couverture.analysis.diagnostic.diagnose` (``acces=``).

    Attributes
    ----------
    network : RoadNetwork
    bands : tuple of float
        Time bands in minutes (the last one is the 2SFCA catchment).
    weights : str or None
        Name of a :data:`BAND_PRESETS` entry for stepped 2SFCA weights, or
        None (classical 2SFCA within the last band).
    """

    network: RoadNetwork
    bands: tuple[float, ...] = (10.0, 20.0, 30.0)
    weights: str | None = None

    @property
    def unit_text(self) -> str:
        """« minutes en voiture (réseau : …) »."""
        return self.network.unit_text()


#: How a diagnostic without a network measures access.
STRAIGHT_LINE = {"mode": "vol_d_oiseau", "unite": "km à vol d'oiseau"}


def apply_route_access(units: gpd.GeoDataFrame, structures: gpd.GeoDataFrame, acces: RouteAccess):
    """Road-time columns of ``units`` (in place on the diagnostic's copy) and their indicators.

    Adds ``temps_min`` (minutes to the nearest structure), ``temps_cs_min``,
    ``dans_bande_<b>`` (within each band) and replaces ``acces_2sfca`` by the
    2SFCA on minutes. Returns ``(indicators, acces_info)``: the list of
    :class:`~couverture.analysis.diagnostic.Indicateur` to map and the dict
    ``{"mode": "route", "unite": ..., "methodologie": ..., "bandes": ...}``.
    """
    from .diagnostic import PER, Indicateur
    from .fca import two_step_fca
    from .proximity import nearest_distance

    net = acces.network
    cost = travel_times(net, units, structures)
    units["temps_min"] = nearest_distance(units, structures, cost=cost).to_numpy()
    has_cs = (structures["type"] == "CS").any()
    units["temps_cs_min"] = nearest_distance(units, structures, cost=cost, types="CS").to_numpy() if has_cs else np.nan
    for b in acces.bands:
        units[f"dans_bande_{b:g}"] = (units["temps_min"] <= b).to_numpy()
    last = float(acces.bands[-1])
    decay = BAND_PRESETS[acces.weights] if acces.weights else None
    units["acces_2sfca"] = two_step_fca(units, structures, last, cost=cost, decay=decay).to_numpy() * PER
    unit, method = acces.unit_text, net.methodologie()
    weights = (
        f" Pondération par bande : préréglage d'exemple « {acces.weights} » "
        f"({', '.join(f'≤ {b:g} min : {w:.2f}' for b, w in decay)}), pas une pondération officielle."
        if decay
        else ""
    )
    indicators = [
        Indicateur(
            "temps_min",
            "Temps de trajet en voiture jusqu'à la structure la plus proche",
            "min",
            f"{method} Unité : {unit}.",
            "Sans congestion ni attente (bac compris sans attente) ; "
            "une unité sans chemin routier vers une structure est « n.d. ».",
            schema="manuel",
            palette="YlOrRd",
            inverse=True,
            slug="temps",
        ),
        Indicateur(
            "temps_cs_min",
            "Temps de trajet en voiture jusqu'au centre social le plus proche",
            "min",
            f"Comme le temps jusqu'à la structure la plus proche, centres sociaux seulement. Unité : {unit}.",
            "Mêmes limites que le temps toutes structures.",
            schema="manuel",
            palette="YlOrRd",
            inverse=True,
            slug="temps-cs",
        ),
        Indicateur(
            "acces_2sfca",
            "Accessibilité (2SFCA) : structures pour 10 000 habitants à portée",
            "structures pour 10 000 hab.",
            f"2SFCA sur les temps de trajet : chaque structure partage son offre entre les habitants à "
            f"{last:g} minutes en voiture ou moins ; chaque unité additionne les parts des structures à "
            f"{last:g} minutes ou moins.{weights} Unité des temps : {unit}.",
            "Vitesses à écoulement libre (pas de congestion).",
            slug="accessibilite",
        ),
    ]
    info = {
        "mode": "route",
        "unite": unit,
        "methodologie": method,
        "bandes": list(acces.bands),
        "ponderation": acces.weights,
    }
    return indicators, info
